"""The facts a question states, read before any ranking: dates, times, counts, credits, scores.

"我们报的5月20号考 19号晚上10点前刷完学分行吗" holds an exam day (5月20日) and a moment (5月19日
22:00); "我们单位一百多人" a count of more than 100 people; "总学分95了" a credit total. Dates may
be written 5.13, 5/13, 5月13号, 五月十三, 13号, or relative to the moment asked (明天, 下周一).
The words are ``facts.toml``; numbers written in Chinese are read with cn2an.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

import cn2an

from faq.factwords import vocabulary
from faq.text import normalise

ATTACH_CHARS = 6  # a time this close after a date is that date's time ("19号晚上10点")
FACTS_CACHE = 4096
SATURDAY, SUNDAY = 5, 6


@dataclass(frozen=True)
class Stamp:
    """A date or a clock time the question states, where it stands in the question."""

    at: int
    day: dt.date | None = None
    time: dt.time | None = None
    ends: dt.date | None = None  # a span's last day ("5月10日至12日")
    month_only: bool = False  # "2024年3月": the month, not a day of it
    relative: bool = False  # 明天, 下周一, 今天: read against the moment asked
    # "周一", "周末" with no week word: the weekdays (0 = Monday) named, which a question about
    # a window ("补考周末能考吗") means within that window, not this week
    floating: tuple[int, ...] = ()


@dataclass(frozen=True)
class Facts:
    """What a question states. ``text``: the question normalised, numerals as digits."""

    text: str
    dates: tuple[Stamp, ...] = ()
    times: tuple[Stamp, ...] = ()
    periods: tuple[str, ...] = ()  # parts of the day named without a clock time ("evening")
    now: bool = False  # "现在": the moment asked
    people: int | None = None  # the fewest the count can mean ("一百多人" -> 101)
    people_about: int | None = None  # the number as written (100)
    units: int | None = None
    required: int | None = None
    required_complete: bool = False
    elective: int | None = None
    total: int | None = None
    score: int | None = None
    date_spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)  # where they are
    time_spans: tuple[tuple[int, int], ...] = field(default=(), compare=False)

    @property
    def days(self) -> list[dt.date]:
        """The days stated (a month alone is no day)."""
        return [s.day for s in self.dates if s.day is not None and not s.month_only]

    @property
    def states_count(self) -> bool:
        """Whether it states a count: people, units, credits or a score."""
        counts = (self.people, self.units, self.required, self.elective, self.total, self.score)
        return any(c is not None for c in counts)

    @property
    def states_any(self) -> bool:
        """Whether it states any fact: a moment, a part of the day, a count, credits, a score."""
        return bool(self.dates or self.times or self.periods or self.now) or self.states_count

    @property
    def has_moment(self) -> bool:
        return bool(self.dates or self.times or self.now)

    def time_of(self, stamp: Stamp) -> dt.time | None:
        """The clock time written right after a date ("19号晚上10点"), if any."""
        for t in self.times:
            if stamp.at <= t.at <= stamp.at + ATTACH_CHARS + 4 and t.time is not None:
                return t.time
        return None


def _number(span: str) -> str:
    """A run of Chinese numerals as digits ("二十八" -> "28", "二〇二四" -> "2024")."""
    m = vocabulary().raw["marks"]
    if not any(c in m["tens"] for c in span):
        digits = {c: str(i) for i, c in enumerate(m["digits"])}
        digits |= {m["zero"]: "0", m["two"]: "2"}
        return "".join(digits.get(c, c) for c in span)
    try:
        return str(int(cn2an.cn2an(span.replace(m["two"], m["two_written"]), "smart")))
    except (ValueError, KeyError, IndexError, TypeError):
        return span


@lru_cache(maxsize=FACTS_CACHE)
def with_digits(text: str) -> str:
    """``text`` normalised, with Chinese numbers written as digits where they count something
    or name a day or an hour ("九月二十三号下午三点半" -> "9月23号下午3点半"); "第一次",
    "一级单位" and "一下" stay as they are."""
    v = vocabulary()
    text = normalise(text)
    kept = [m.span() for m in v.keep.finditer(text)]

    def convert(m: re.Match[str]) -> str:
        if any(a <= m.start() < b for a, b in kept) and not v.period_before_numeral(text, m):
            return m.group()
        return _number(m.group())

    text = v.after_month.sub(lambda m: _number(m.group()), text)
    text = v.after_credit.sub(lambda m: m[1] + _number(m[2]), text)
    return v.numeral.sub(convert, text)


def _date(year: int, month: int, day: int) -> dt.date | None:
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def _hour(period: str | None, hour: int, minute: int, raw: dict[str, Any]) -> dt.time | None:
    kind = raw["periods"].get(period or "", "")
    if (
        (kind in ("afternoon", "evening") and hour < 12)
        or (kind == "noon" and hour < 6)
        or (not kind and 0 < hour < raw["times"]["afternoon_below"])
    ):
        hour += 12
    if not (0 <= hour < 24 and 0 <= minute < 60):
        return None
    return dt.time(hour, minute)


def read_dates(text: str, today: dt.date) -> tuple[list[Stamp], list[tuple[int, int]]]:
    """Every date in ``text`` (digits already), in order, with the spans they cover."""
    v = vocabulary()
    year = today.year
    stamps: list[Stamp] = []
    spans: list[tuple[int, int]] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= x or a >= y for x, y in taken)

    def add(stamp: Stamp, a: int, b: int) -> None:
        taken.append((a, b))
        spans.append((a, b))
        stamps.append(stamp)

    relative_years: dict[str, int] = v.raw["relative_years"]
    for m in v.month_day.finditer(text):
        y = int(m[1]) if m[1] else year
        before = text[max(0, m.start() - 2) : m.start()]
        if not m[1] and before in relative_years:  # "明年3月"
            y = year + relative_years[before]
        month = int(m[2])
        if not 1 <= month <= 12:
            continue
        if m[3] is None:  # "2024年3月", "10月": a month
            day = _date(y, month, 1)
            if day:
                add(Stamp(m.start(), day, month_only=True), m.start(), m.end())
            continue
        day = _date(y, month, int(m[3]))
        if day is None:
            continue
        end, stop = _span_end(text, m.end(), day)
        add(Stamp(m.start(), day, ends=end), m.start(), stop)
    for m in v.dotted.finditer(text):
        day = _date(year, int(m[1]), int(m[2]))
        if day and free(m.start(), m.end()):
            end, stop = _span_end(text, m.end(), day)
            add(Stamp(m.start(), day, ends=end), m.start(), stop)
    relative = [
        (r.start(), today + dt.timedelta(days=v.raw["relative_days"][r.group()]))
        for r in v.relative.finditer(text)
    ]
    for m in v.day_only.finditer(text):
        if not free(m.start(), m.end()):
            continue
        # "13号": the month of the nearest day named before it ("9月份…，今天10号": today's)
        earlier = [(s.at, s.day) for s in stamps if s.day and s.at < m.start()]
        earlier += [(at, day) for at, day in relative if at < m.start()]
        month = (
            max(earlier)[1].month
            if earlier
            else stamps[-1].day.month
            if stamps and stamps[-1].day
            else today.month
        )
        day = _date(year, month, int(m[1]))
        if day:
            end, stop = _span_end(text, m.end(), day)
            add(Stamp(m.start(), day, ends=end), m.start(), stop)
    for m in v.relative.finditer(text):
        if free(m.start(), m.end()):
            offset = v.raw["relative_days"][m.group()]
            add(Stamp(m.start(), today + dt.timedelta(days=offset), relative=True), *m.span())
    for m in v.weekday.finditer(text):
        if free(m.start(), m.end()):
            weeks = v.raw["weeks"][m[1]]
            monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)
            day = monday + dt.timedelta(days=v.raw["weekdays"][m[2]])
            bare = m[1] in v.raw["marks"]["bare_weeks"]  # "周一": no week word
            if bare and day < today and today.weekday() >= SATURDAY:
                day += dt.timedelta(weeks=1)  # "周一截止" said at the weekend: the coming one
            floating: tuple[int, ...] = (day.weekday(),) if bare else ()
            add(Stamp(m.start(), day, relative=True, floating=floating), *m.span())
    for m in v.year_month.finditer(text):
        if free(m.start(), m.end()):
            first = _date(int(m[1]), 1, 1)
            if first:
                add(Stamp(m.start(), first, month_only=True), *m.span())
    for m in v.weekend.finditer(text):  # "这周末": its Saturday and Sunday
        if free(m.start(), m.end()):
            monday = today - dt.timedelta(days=today.weekday())
            saturday = monday + dt.timedelta(days=5, weeks=v.raw["weekends"][m.group()])
            first = max(saturday, today)  # asked on a Sunday: that Sunday
            end = saturday + dt.timedelta(days=1)
            bare_weekend = m.group() in v.raw["marks"]["bare_weekends"]
            weekend = (SATURDAY, SUNDAY) if bare_weekend else ()
            stamp = Stamp(m.start(), first, ends=end if end > first else None, relative=True)
            add(replace(stamp, floating=weekend), *m.span())
    for m in v.week_only.finditer(text):
        weeks = v.raw["weeks"][m[1]]
        if free(m.start(), m.end()) and len(m[1]) > 1:  # "下周", not "周" alone
            monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(weeks=weeks)
            end = monday + dt.timedelta(days=6)
            add(Stamp(m.start(), monday, ends=end, relative=True), *m.span())
    for m in v.month_end.finditer(text):  # "月底": this month's last day
        if free(m.start(), m.end()):
            month = today.month + v.raw["month_ends"][m.group()]
            year_of, month = year + (month - 1) // 12, (month - 1) % 12 + 1
            following = dt.date(year_of + month // 12, month % 12 + 1, 1)
            add(Stamp(m.start(), following - dt.timedelta(days=1), relative=True), *m.span())
    for m in v.holiday.finditer(text):
        if free(m.start(), m.end()):
            month, day_of = (int(x) for x in v.raw["holidays"][m.group()].split("-"))
            holiday = _date(year, month, day_of)
            if holiday:
                add(Stamp(m.start(), holiday), *m.span())
    order = sorted(range(len(stamps)), key=lambda i: stamps[i].at)
    return [stamps[i] for i in order], [spans[i] for i in order]


def _span_end(text: str, at: int, start: dt.date) -> tuple[dt.date | None, int]:
    """The last day of a span written after ``start`` ("至12日", "-5月12日"), and where it ends."""
    m = vocabulary().span_end.match(text[at:])
    if not m:
        return None, at
    month = int(m[1]) if m[1] else start.month
    end = _date(start.year, month, int(m[2]))
    if end is None or end < start:
        return None, at
    return end, at + m.end()


def read_times(text: str) -> tuple[list[Stamp], list[str], list[tuple[int, int]]]:
    """Clock times ("下午3点半", "15:30", "晚上8点") and parts of the day named alone."""
    v = vocabulary()
    raw = v.raw
    stamps: list[Stamp] = []
    spans: list[tuple[int, int]] = []
    used: list[tuple[int, int]] = []
    for m in v.clock.finditer(text):
        minute = 0
        if m[3]:
            minute = int(m[3])
        elif m[4]:
            minute = 30
        elif m[5]:
            minute = int(m[5])
        elif m[6]:
            minute = 15
        period = m[1] or _period_before(text, m.start())
        time = _hour(period, int(m[2]), minute, raw)
        if time is not None:
            stamps.append(Stamp(m.start(), time=time))
            spans.append(m.span())
            used.append(m.span())
    periods = []
    for m in v.period.finditer(text):
        if all(m.end() <= a or m.start() >= b for a, b in used):
            periods.append(raw["periods"][m.group()])
            spans.append(m.span())
    return stamps, periods, spans


def _period_before(text: str, at: int) -> str | None:
    """A part of the day written a little before a clock time ("晚上 19号10点")."""
    found = vocabulary().period.findall(text[max(0, at - ATTACH_CHARS) : at])
    return found[-1] if found else None


def _first(pattern: re.Pattern[str], text: str) -> int | None:
    m = pattern.search(text)
    return int(m[1]) if m else None


def read_counts(text: str) -> dict[str, Any]:
    """People, units, credits and a score."""
    v = vocabulary()
    out: dict[str, Any] = {}
    found = list(v.people.finditer(text))
    # "每场80人对吧？我们有120人怎么办": the asker's own count, not a rule's told back
    own = [
        f
        for f in found
        if any(w in text[max(0, f.start() - 6) : f.start()] for w in v.raw["counts"]["own"])
    ]
    m = (own or found)[-1] if found else None
    if m:
        out["people_about"] = int(m[1])
        out["people"] = int(m[1]) + 1 if m[2] else int(m[1])
    elif (counted := _first(v.people_word, text)) is not None:
        out["people"] = out["people_about"] = counted
    unit = v.units.search(text)
    marks = v.raw["marks"]
    if unit and any(w in text for w in marks["unit_words"]):
        out["units"] = int(unit[1])
    out["required"] = _first(v.required, text)
    if out["required"] is None:
        out["required"] = _first(v.required_after, text)
    out["elective"] = _first(v.elective, text)
    total = _first(v.total, text)
    out["total"] = total if total is not None else _first(v.total_after, text)
    out["required_complete"] = bool(v.complete.search(text))
    credits = out["required"] is not None or out["elective"] is not None or out["total"]
    score = _first(v.score_before, text)
    if score is None:
        score = _first(v.score_after, text)
    studied = v.studied.search(text) is not None
    if score is None and not (credits or studied or any(w in text for w in marks["credit_words"])):
        score = _first(v.score_plain, text)
    out["score"] = score
    return out


def _blanked(text: str, spans: Iterable[tuple[int, int]]) -> str:
    """``text`` with each of ``spans`` written over with spaces."""
    for a, b in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text


@lru_cache(maxsize=FACTS_CACHE)
def read(question: str, today: dt.date) -> Facts:
    """The facts ``question`` states, as of ``today``."""
    text = with_digits(question)
    dates, date_spans = read_dates(text, today)
    times, periods, time_spans = read_times(text)
    counts = read_counts(_blanked(text, time_spans))  # "9点10分" is no score of 10
    now_words = vocabulary().raw["times"]["now_words"]
    return Facts(
        text=text,
        dates=tuple(dates),
        times=tuple(times),
        periods=tuple(periods),
        now=any(w in text for w in now_words),
        date_spans=tuple(sorted(date_spans)),
        time_spans=tuple(sorted(time_spans)),
        **counts,
    )
