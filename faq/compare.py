"""Questions that compare two things ("第一次和第二次分众考试有什么不一样", "不参加考试和补考不及
格，在年度考核上的后果一样吗"): each side is a question of its own, with its own rule; an answer
that speaks of one side only answers half of it.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from faq import forms
from faq.decision import Result
from faq.text import Lexicon, normalise

_SEPARATORS = "，,。；;！!？?\n "


@lru_cache(maxsize=1)
def _cues() -> dict[str, Any]:
    table: dict[str, Any] = forms.vocabulary()["compare"]  # type: ignore[assignment]
    cues = dict(table)
    for key in ("asking", "ending", "clause_end", "wh_before", "not_joins"):
        cues[key] = re.compile(cues[key])
    return cues


def sides(question: str) -> tuple[str, str] | None:
    """The two sides a question compares, each with what is asked of both ("不参加考试，在年度
    考核上的后果" and "补考不及格，在年度考核上的后果"); None for a question that compares
    nothing ("县信访局是不是跟科技局一样，分类考只覆盖到市州那一级": one like another, then
    a question of its own). Each side is asked as a topic, without the comparison's 吗."""
    cues = _cues()
    text = normalise(question).strip()
    head = _compared_head(text)
    if head is None:
        return None
    masked = cues["not_joins"].sub(lambda m: "_" * len(m.group()), head)
    at = max(masked.rfind(j) for j in cues["joins"])
    if at <= 0 or at >= len(head) - 1:
        return None
    left, right = head[:at], head[at + 1 :]
    left = re.split(f"[{_SEPARATORS}]", left.rstrip(_SEPARATORS))[-1]
    cut = re.search(f"[{_SEPARATORS}]", right)  # "补考不及格，在年度考核上的后果": asked of both
    right, context = (right[: cut.start()], right[cut.end() :]) if cut else (right, "")
    if not left or not right:
        return None
    if len(left) < len(right) and left[0] == right[0]:
        left += right[len(left) :]  # "第一次和第二次分众考试": the first 分众考试
    elif (of := cues["of"]) in right and of not in left:
        left += right[right.index(of) :]  # "补考和正式考试的场次": 补考的场次
    tail = (
        f"{cut.group()}{context.strip(_SEPARATORS)}" if cut and context.strip(_SEPARATORS) else ""
    )
    return f"{left}{tail}", f"{right}{tail}"  # no question form of its own: no yes or no


def _compared_head(text: str) -> str | None:
    """What comes before the word that compares, when the question ends with it."""
    cues = _cues()
    for word in sorted(cues["words"], key=len, reverse=True):
        at = text.rfind(word)
        if at <= 0:
            continue
        after, before = text[at + len(word) :], text[:at]
        wh = cues["wh_before"].search(before) is not None
        if cues["ending"].match(after) or (wh and cues["clause_end"].match(after)):
            return cues["asking"].sub("", before)
    return None


def covers(result: Result, words: list[set[str]], lexicon: Lexicon, keys: frozenset[str]) -> bool:
    """Whether an answer names each side of a comparison: a word of the side's own (its domain
    words the other side lacks, else any but the generic "考试", "时间"), or the word's first
    two characters ("分类组考" is named by "分类（分系统、分行业）组考"). ``words``: each side's
    words."""
    said = normalise(result.answer_text or "")
    generic = lexicon.generic_words
    own = [(w & keys) - (o & keys) or w - o - generic for w, o in (words, words[::-1])]
    return all(any(w[:2] in said for w in side) for side in own)
