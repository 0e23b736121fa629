"""How a question asks: for yes or no ("能考吗", "行不行", "对吧", "…报劳动合同法的题？") or for a
fact ("哪天", "几点"), and how a yes-or-no answer to it starts. The words are ``cues.toml``
[forms] and [leads].
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from functools import lru_cache
from pathlib import Path

from faq import facts as facts_
from faq.text import Lexicon

CUES_PATH = Path(__file__).resolve().parent / "cues.toml"


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, object]:
    with CUES_PATH.open("rb") as fh:
        return tomllib.load(fh)


def polar(text: str) -> bool:
    """Whether the question wants yes or no ("能考吗", "行不行", "对吧"), not a fact ("哪天")."""
    vocab = vocabulary()
    forms: dict[str, list[str]] = vocab["forms"]  # type: ignore[assignment]
    text = _POINTED.sub("", text)  # "这几天能报名冇": those days, no question word
    if has_wh(text):
        # With 吗 at its end a wh-word is an indefinite ("请了几天病假能免吗": a few days),
        # unless the question asks to be told the fact ("知道补考是哪天吗").
        ends = _TAIL.sub("", text).endswith("吗")
        if ends:
            return not any(w in text for w in forms["tell"])
        return _polar_clause(text, forms)
    return any(w in text for w in forms["polar"]) or _marked_statement(text)


def has_wh(text: str) -> bool:
    """Whether ``text`` holds a question word ("哪", "几", "什么" …)."""
    forms: dict[str, list[str]] = vocabulary()["forms"]  # type: ignore[assignment]
    return any(w in text for w in forms["wh"])


# "这几天", "那几个人", "前几天": 几 pointing at days or people told of, asking nothing.
_POINTED = re.compile(r"[这那前]几(?=[天个次场位])")


def _marked_statement(text: str) -> bool:
    """A statement asked with a question mark alone ("市人社局报劳动合同法的题？"): yes or no;
    not a bare topic so asked ("补考时间？"), which wants the fact."""
    clause = re.split(r"[，,。；;！!]", text.rstrip())[-1]
    if not clause.endswith(("？", "?")):
        return False
    said = clause.rstrip("？? ")
    return len(said) >= MARKED_CHARS and not said.endswith(_query_nouns())


MARKED_CHARS = 6  # shorter, a question mark asks for the topic named ("补考时间？")


@lru_cache(maxsize=1)
def _query_nouns() -> tuple[str, ...]:
    return Lexicon.load().query_nouns


def _polar_clause(text: str, forms: dict[str, list[str]]) -> bool:
    """ "今晚还有场次吗？还有几个人冇考": a clause asks yes or no, and the clause holding a
    wh-word tells (几个人: some people), asking nothing with a question mark."""
    clauses = re.split(r"([，,。；;！!？?])", text)
    pieces = ["".join(clauses[i : i + 2]) for i in range(0, len(clauses), 2)]
    asks_yes_no = asks_fact = False
    for piece in pieces:
        wh = has_wh(piece)
        asks = piece.endswith(("？", "?")) or piece.rstrip("，,。；;！!").endswith("呢")
        if wh and asks:
            asks_fact = True
        elif not wh and asks_itself(piece):
            asks_yes_no = True  # "…那几天要搞活动，集中考试能不能改到9月28号去考？"
    return asks_yes_no and not asks_fact


def asks_itself(clause: str) -> bool:
    """Whether a clause asks by its own form: it ends in 吗, 吧 or 么, or holds a paired form
    ("能不能", "行不行") and a question mark."""
    forms: dict[str, list[str]] = vocabulary()["forms"]  # type: ignore[assignment]
    if _TAIL.sub("", clause).endswith(("吗", "吧", "么")):
        return True
    paired = (w for w in forms["polar"] if len(w) > 2)
    return clause.rstrip().endswith(("？", "?")) and any(w in clause for w in paired)


_TAIL = re.compile(r"[\s?？!！。.~～]+$")


def lead(text: str) -> str | None:
    """How a yes-or-no question's answer starts (a form of ``cues.toml`` [leads]), or None
    for a question that asks for a fact."""
    if not polar(text):
        return None
    leads: dict[str, list[str]] = vocabulary()["leads"]  # type: ignore[assignment]
    for word in leads.get("not_leads", []):  # "具体要求以…为准吧": no 要 of "要不要"
        text = text.replace(word, " ")
    forms = ((form, words) for form, words in leads.items() if form != "not_leads")
    return next((form for form, words in forms if any(w in text for w in words)), "be")


def question_lead(question: str, now: dt.datetime) -> str | None:
    """``lead`` of the question as asked (normalised, its facts read): how a yes-or-no
    answer to it starts; None when it asks for a fact."""
    return lead(facts_.read(question, now.date()).text) if question else None


def believes_not(text: str) -> bool:
    """Whether a question (normalised, facts read) states, for confirmation, that something is
    not so: a clause holding a belief's negation ("没有机会了", "不用参加了"), ending in 吧. "…冇
    得关系吧" has a form of its own ("不是，有。")."""
    believed: list[str] = vocabulary()["negation"]["belief"]  # type: ignore[index]
    text = text.rstrip("？?。.!！~～ ")
    if not text.endswith("吧") or lead(text) in (None, "none"):
        return False
    clauses = re.split(r"[，,。；;！!？?\s]", text)
    return any(b in c for c in clauses for b in believed)
