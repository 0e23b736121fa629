"""Which facts a message asks with, and which it only tells.

"我们党组9月8号开会学了民法典，顺便问下公共必学的是哪两本书" tells a date but asks for the
books: an answer computed from the facts (the calendar, the sessions, the seats …) answers it
only when the part that asks states what that answer is computed from. ``faq.coverage`` lets
the ranking decide the rest.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from faq import facts as facts_
from faq.facts import Facts
from faq.names import unit_mention
from faq.reason import (
    CALENDAR,
    COUNTY_UNITS,
    CREDITS,
    RETIREMENT,
    SCORE,
    SEATS,
    SESSIONS,
    STUDY_DEADLINE,
    UNIT_EXAM,
    exam_kind_word,
    months_to,
    read_cues,
    round_words,
)
from faq.text import normalise

_PIECE = re.compile(r"[，,。！!？?；;\s]+")
SHORT_ASK = 6  # characters: an asking piece this short asks of the piece before it


_ASKED_PIECE = re.compile(r"[，,。！!？?；;、：:\s]+")


def pieces(question: str) -> list[str]:
    """The pieces of a message between its commas, stops, colons, enumeration commas and
    question marks ("一场考试多长时间、满分是多少": two)."""
    return [p for p in _ASKED_PIECE.split(question) if p]


MIN_PART_CHARS = 4  # a piece this short ("是吗") asks no question of its own


def asked_parts(question: str, now: dt.datetime, asks: Callable[[str], bool]) -> list[str]:
    """The questions one message asks, when it asks several: its pieces that ``asks``, the
    first with the piece before it where that one states a count ("我们一共62个人，能不能一场
    考完"). A piece that names no kind of exam asks of the kind named before it ("集中考试在哪
    考？上午有几场": the centralized exam's morning sessions)."""
    asking: list[str] = []
    before: list[str] = []
    for piece in pieces(question):
        if len(piece) >= MIN_PART_CHARS and asks(piece):
            told_kind = exam_kind_word(normalise("，".join(before)))
            told_round = round_words(normalise("，".join(before)))
            if not asking and before and facts_.read(before[-1], now.date()).states_count:
                asking.append(f"{before[-1]}，{piece}")
            elif told_kind and exam_kind_word(normalise(piece)) is None:
                asking.append(told_kind + piece)
            elif told_round and not round_words(normalise(piece)) and _asks_edge(piece):
                asking.append(told_round + piece)  # "第二次报名9月23号开始吧，几号截止"
            else:
                asking.append(piece)
        before.append(piece)
    return asking if len(asking) >= 2 else []


def asking_part(question: str, asks: Callable[[str], bool], premise: bool = False) -> str:
    """The part of ``question`` that asks: its pieces that ``asks`` (else its last), a short one
    with the piece before it, of which it asks ("我们有200人集中考 要几场"), and (``premise``)
    any with the piece before it ("我们处室62人，集中考一场坐得下吗"); the question itself when
    it is one piece."""
    pieces = [p for p in _PIECE.split(question) if p]
    if len(pieces) < 2:
        return question
    at = [i for i, p in enumerate(pieces) if asks(p)] or [len(pieces) - 1]
    at += [i - 1 for i in at if i > 0 and (premise or len(pieces[i]) <= SHORT_ASK)]
    return "，".join(pieces[i] for i in sorted(set(at)))


def _moment(f: Facts) -> bool:
    return bool(f.dates or f.times or f.periods or f.now)


def _asks_edge(text: str) -> bool:
    """Whether ``text`` asks when something starts or ends ("几号截止"), of the window named
    before it."""
    cue = read_cues(normalise(text))
    return cue.starts or cue.ends


def _asks_exam(text: str) -> bool:
    cue = read_cues(text)
    return cue.exam or cue.which_exam


# The entries computed from the dates, times, counts, credits and scores a question states, and
# whether a question's facts hold what each is computed from.
READS: dict[str, Callable[[Facts], bool]] = {
    CALENDAR: _moment,
    SESSIONS: _moment,
    STUDY_DEADLINE: _moment,
    RETIREMENT: lambda f: _moment(f) or months_to(f.text) is not None,
    SCORE: lambda f: f.score is not None,
    CREDITS: lambda f: (
        f.required is not None
        or f.elective is not None
        or f.total is not None
        or f.required_complete
    ),
    SEATS: lambda f: f.people is not None,
    COUNTY_UNITS: lambda f: f.units is not None,
    # which exam a unit takes: the part that asks names the unit or the exam, not only "年度考
    # 核还能定等次不" after a unit told ("县公安局有个民警没参加考法")
    UNIT_EXAM: lambda f: unit_mention(f.text) is not None or _asks_exam(f.text),
}
FROM_FACTS = frozenset(READS)
# A count is often told in the piece just before the question ("我们处室62人，…坐得下吗").
COUNTED = frozenset({SEATS, COUNTY_UNITS})


def asks_with_facts(
    entry_id: str, question: str, now: dt.datetime, asks: Callable[[str], bool]
) -> bool:
    """Whether the part of ``question`` that asks (``asking_part``) states the facts the
    computed entry is computed from: a one-piece message always does, as far as this goes;
    "县里集中组考安排还没报，现在还来得及吗" does (现在); "我们党组9月8号开会学了民法典，顺便问下
    是哪两本书" does not, nor does "我们镇上想在10月份组织考试，大概60人，要经过哪个部门同意" for
    the calendar (a count, not a day, is in the part that asks)."""
    asking = asking_part(question, asks, premise=entry_id in COUNTED)
    if asking == question:
        return True
    reads = READS.get(entry_id)
    return reads is not None and reads(facts_.read(asking, now.date()))
