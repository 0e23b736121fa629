"""The day a question asks about: the date it names (or today, a month, a week), a span
before or after it, a clause telling what has happened left aside, a weekday asked of a window
read within it. The words are ``facts.toml`` [days]."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from faq.facts import Facts, Stamp, vocabulary
from faq.forms import asks_itself, polar
from faq.reason import Cues, read_cues, understand
from faq.schedule import Span


def _words() -> dict[str, Any]:
    days: dict[str, Any] = vocabulary().raw["days"]
    return days


@lru_cache(maxsize=1)
def _clauses() -> tuple[re.Pattern[str], re.Pattern[str]]:
    """What breaks a question into clauses, and what in a clause asks (``[days]``)."""
    w = _words()
    return re.compile(str(w["clause"])), re.compile(str(w["asking"]))


def day_asked(
    f: Facts, now: dt.datetime, cue: Cues | None = None
) -> tuple[dt.date | None, dt.date | None]:
    """The day asked about (the first date, today for "现在", a month's first day) and the last
    day when a span is asked ("13号到16号", "下周", "7月份")."""
    asks_now = cue is not None and (cue.still or cue.status_now)
    relative = any(s.relative for s in f.dates) or f.now
    for stamp in f.dates:
        if stamp.day is not None and not stamp.month_only:
            if asks_now and stamp.floating and stamp.day < now.date():
                return stamp.day + dt.timedelta(weeks=1), stamp.ends  # "周一还能考吗": the next
            if asks_now and stamp.relative and stamp.day < now.date():
                if stamp.ends is not None and stamp.ends >= now.date():
                    return now.date(), stamp.ends  # "这周还有考试没": the rest of the week
                continue  # "昨天忘记报了，还来得及不": what was done then, asked of now
            if relative and not stamp.relative and deadline_told(f.text, stamp):
                continue  # "报题截止是15号，我们今天才交，还收不收": today, against the rule's day
            return stamp.day, stamp.ends
    if f.now:
        return now.date(), None
    for stamp in f.dates:  # "10月还能考吗": the month named, not today
        if stamp.day is not None and stamp.month_only and stamp.day.year == now.year:
            first = stamp.day
            last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
            return first, last - dt.timedelta(days=1)
    if cue is not None and cue.status_now:
        return now.date(), None
    return None, None


def around(
    f: Facts, now: dt.datetime, day: dt.date | None, ends: dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """A day asked with 前 or 以后 after it ("国庆前还有考试吗", "10月1日以后还能考吗"): the days
    from today up to it, or from it to the year's end."""
    if day is None or ends is not None:
        return day, ends
    spans = [span for stamp, span in zip(f.dates, f.date_spans, strict=False) if stamp.day == day]
    if not spans:
        return day, ends
    tail = f.text[spans[0][1] : spans[0][1] + 2]
    today = now.date()
    w = _words()
    before, after = tuple(w["before"]), tuple(w["after"])
    alone, not_after = str(w["after_alone"]), tuple(w["not_after"])
    if tail.startswith(before) and day > today + dt.timedelta(days=1):
        return today, day - dt.timedelta(days=1)
    if tail.startswith(after) or (tail.startswith(alone) and not tail.startswith(not_after)):
        return day + dt.timedelta(days=1), dt.date(day.year, 12, 31)
    return day, ends


def told_done(text: str, stamp: Stamp) -> tuple[int, int] | None:
    """Where the clause holding the date at ``stamp`` is, when it tells what has happened and
    does not ask ("今天报名截止了"): a clause ending in 了 with no question word."""
    start, end = _clause(text, stamp.at)
    clause = text[start:end]
    told = clause.endswith(str(_words()["told_ending"])) and _clauses()[1].search(clause) is None
    return (start, end) if told else None


def asked(question: str, now: dt.datetime) -> tuple[Facts, Cues]:
    """The facts and cues of what ``question`` asks: a dated clause telling what has happened,
    before another date, is left out ("今天报名截止了，明天开考第一场几点": tomorrow's sessions,
    not today's registration)."""
    f, cue = understand(question, now)
    told = [told_done(f.text, s) or _before_asked(f, i) for i, s in enumerate(f.dates[:-1])]
    if f.now:  # "…现在回来了。想问一下第二轮几号报名": the moment told, not asked
        words: list[str] = vocabulary().raw["times"]["now_words"]
        at = min((f.text.find(w) for w in words if w in f.text), default=-1)
        clause = told_done(f.text, Stamp(at)) if at >= 0 else None
        if clause is not None and _clauses()[1].search(f.text[clause[1] :]):
            told.append(clause)  # ... when a question follows it
    spans = sorted({t for t in told if t is not None})
    if not spans:
        return f, cue
    text = f.text
    for start, end in reversed(spans):
        text = text[:start] + text[end:]
    return understand(text, now)


def _clause(text: str, at: int) -> tuple[int, int]:
    breaks = _clauses()[0]
    start = max((m.end() for m in breaks.finditer(text, 0, at)), default=0)
    end = next((m.start() for m in breaks.finditer(text, at)), len(text))
    return start, end


def _before_asked(f: Facts, i: int) -> tuple[int, int] | None:
    """Where the clause holding the ``i``-th date is, when it speaks of nothing of the
    campaign's, asks nothing, and a later date's clause asks by its own form ("X日到Y日那几天要
    搞活动，集中考试能不能改到Z号去考？": day Z is asked; not "X日报的名 能选Y号考吗", whose days
    are compared)."""
    stamp = f.dates[i]
    start, end = _clause(f.text, stamp.at)
    clause = f.text[start : end + 1]
    cue = read_cues(clause)
    if stamp.relative or asks_itself(clause) or cue.action or cue.scope:
        return None
    for later in f.dates[i + 1 :]:
        s, e = _clause(f.text, later.at)
        if s >= end and asks_itself(f.text[s : e + 1]):
            return start, end
    return None


def booked(f: Facts) -> tuple[dt.date, dt.date] | None:
    """The day registered on and the exam day asked, when a clause tells the first and a later
    one asks of the second ("9月24日报的名 能选9月22号考吗"), or None."""
    if len(f.dates) < 2:
        return None
    first, last = f.dates[0], f.dates[-1]
    if None in (first.day, last.day) or first.day == last.day or first.ends or last.ends:
        return None
    start, end = _clause(f.text, first.at)
    s, e = _clause(f.text, last.at)
    told, asking = read_cues(f.text[start:end]), f.text[s : e + 1]
    cue = read_cues(asking)
    if s < end or not told.register or told.exam or not cue.exam or cue.register:
        return None
    return (first.day, last.day) if polar(asking) else None  # type: ignore[return-value]


def deadline_told(text: str, stamp: Stamp) -> bool:
    """Whether the date at ``stamp`` is told as a rule's deadline ("截止是15号", "15号截止")."""
    before, after = text[max(0, stamp.at - 4) : stamp.at], text[stamp.at : stamp.at + 10]
    words = _words()
    deadline: list[str] = words["deadline"]
    marks = re.escape(str(words["deadline_marks"]))
    return any(w in before for w in deadline) or any(
        re.match(rf"[\d{marks}]*{w}", after) for w in deadline
    )


def in_window(
    f: Facts, day: dt.date, ends: dt.date | None, target: Span
) -> tuple[dt.date, dt.date | None]:
    """A weekday or weekend named with no week ("补考周末能考吗") asked of a window: its first
    such days from the window's start (within it, or the first after it when it has none)."""
    stamp = next((s for s in f.dates if s.floating and day.weekday() in s.floating), None)
    if stamp is None:
        return day, ends
    first = target.start
    while first.weekday() not in stamp.floating:
        first += dt.timedelta(days=1)
    last = first
    while (last + dt.timedelta(days=1)).weekday() in stamp.floating:
        last += dt.timedelta(days=1)
    if first <= target.end < last:
        last = target.end
    return first, (last if last > first else None)
