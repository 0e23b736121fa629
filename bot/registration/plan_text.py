"""Reading a county plan as people write it after /plan: a unit count, dates in the usual
forms, and a free note. The words the parser knows (separators, range words, date marks, count
suffixes) are the ``[plan]`` vocabulary of ``words.toml``.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from functools import cache

from bot.core.errors import Refused
from bot.registration.words import section

MAX_UNITS = 9999  # far above any county, below nonsense
MAX_DATES = 16  # the stored list ("2022-09-20,...") fits the 200-character column
MAX_RANGE_DAYS = 31


def _any_of(words: list[str]) -> str:
    """A regex alternation of ``words``, longest first (so "个单位" wins over "个")."""
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def _chars(words: list[str]) -> str:
    return "".join(re.escape(w) for w in words)


@dataclass(frozen=True)
class Grammar:
    separators: re.Pattern[str]
    range: re.Pattern[str]
    full: re.Pattern[str]
    month_day: re.Pattern[str]
    day: re.Pattern[str]
    date_token: re.Pattern[str]
    count: re.Pattern[str]
    wave_dashes: tuple[str, ...]


@cache
def grammar() -> Grammar:
    w = section("plan")
    year, month, day = _chars(w["year_marks"]), _chars(w["month_marks"]), _chars(w["day_marks"])
    ranges = w["range_words"]
    single = [r for r in ranges if len(r) == 1]
    token_chars = _chars(
        w["year_marks"] + w["month_marks"] + w["day_marks"] + w["list_separators"] + single
    )
    return Grammar(
        separators=re.compile(f"[{_chars(w['list_separators'])}\\s]+|{_any_of(w['list_words'])}"),
        range=re.compile(f"^(?P<a>.+?)(?:{_any_of(ranges)})(?P<b>.+)$"),
        full=re.compile(
            f"^(?P<y>\\d{{4}})[{year}](?P<m>\\d{{1,2}})[{month}](?P<d>\\d{{1,2}})[{day}]?$"
        ),
        month_day=re.compile(f"^(?P<m>\\d{{1,2}})[{month}](?P<d>\\d{{1,2}})[{day}]?$"),
        day=re.compile(f"^(?P<d>\\d{{1,2}})[{day}]?$"),
        date_token=re.compile(f"^[\\d{token_chars}]+$"),
        count=re.compile(f"^(?P<n>\\d{{1,6}})(?:{_any_of(w['count_suffixes'])})?$"),
        wave_dashes=tuple(w["wave_dashes"]),
    )


def normalise(text: str) -> str:
    """Full-width digits and punctuation to ASCII (NFKC), and the usual wave dashes to '~'."""
    text = unicodedata.normalize("NFKC", text)
    for dash in grammar().wave_dashes:
        text = text.replace(dash, "~")
    return text


def _date(year: int, month: int, day: int, token: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise Refused("plan_date_bad", token=token) from exc


def _single(token: str, year: int, previous: dt.date | None = None) -> dt.date:
    """One date; a bare day ("21日") continues the month of the date before it."""
    g = grammar()
    match = g.full.match(token)
    if match:
        if int(match["y"]) != year:
            raise Refused("plan_date_year", token=token, year=year)
        return _date(year, int(match["m"]), int(match["d"]), token)
    match = g.month_day.match(token)
    if match:
        return _date(year, int(match["m"]), int(match["d"]), token)
    match = g.day.match(token)
    if match and previous is not None:
        return _date(year, previous.month, int(match["d"]), token)
    raise Refused("plan_date_bad", token=token)


def parse_dates(text: str, year: int) -> list[dt.date]:
    """Dates as people write them: "9月20日、9月21日", "2022-09-20,2022-09-21", "9/20 9/21",
    ranges "9月20日至22日" / "9/20~9/22". Every date must exist and lie in ``year``; the result
    is sorted and without repeats."""
    days: set[dt.date] = set()
    previous: dt.date | None = None
    for token in grammar().separators.split(normalise(text).strip()):
        if not token:
            continue
        ranged = grammar().range.match(token)
        if ranged is None:
            previous = _single(token, year, previous)
            days.add(previous)
            continue
        start = _single(ranged["a"], year, previous)
        end = _single(ranged["b"], year, start)
        if end < start or (end - start).days >= MAX_RANGE_DAYS:
            raise Refused("plan_date_bad", token=token)
        days.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        previous = end
        if len(days) > MAX_DATES:
            break
    if not days:
        raise Refused("plan_dates_missing")
    if len(days) > MAX_DATES:
        raise Refused("plan_too_many_dates", max=MAX_DATES)
    return sorted(days)


def parse_count(value: int | str) -> int:
    if isinstance(value, bool):
        raise Refused("plan_count_bad", token=str(value))
    if isinstance(value, int):
        number = value
    else:
        match = grammar().count.match(normalise(value).strip())
        if match is None:
            raise Refused("plan_count_bad", token=value)
        number = int(match["n"])
    if not 0 < number <= MAX_UNITS:
        raise Refused("plan_count_bad", token=str(value))
    return number


def split_plan_text(text: str) -> tuple[str, str, str]:
    """``/plan`` arguments → (unit count, dates, detail).

    The first word is the count; the following words that look like dates are the dates; the
    rest, with its own line breaks kept, is the detail.
    """
    words = list(re.finditer(r"\S+", text))
    if not words:
        return "", "", ""
    count = words[0].group()
    dates: list[str] = []
    detail = ""
    for match in words[1:]:
        if grammar().date_token.match(normalise(match.group())):
            dates.append(match.group())
            continue
        detail = text[match.start() :].strip()
        break
    return count, " ".join(dates), detail


def format_dates(days: list[dt.date]) -> str:
    return ",".join(d.isoformat() for d in days)


def stored_dates(text: str) -> list[dt.date]:
    days = []
    for part in (text or "").split(","):
        try:
            days.append(dt.date.fromisoformat(part.strip()))
        except ValueError:
            continue
    return days
