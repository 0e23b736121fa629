"""Reading an exemption request: the reason an administrator writes, a retirement date, and the
window of retirement dates the notice accepts. Pure functions; refusals are typed."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any

from bot.core import words
from bot.core.config import Config
from bot.core.errors import Refused
from bot.exemptions.models import ExemptionReason

WORDS_FILE = Path(__file__).with_name("words.toml")
MAX_QUOTE = 20  # characters of the administrator's text quoted back in a refusal


def _normal(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().lower()


def _words() -> dict[str, Any]:
    return words.load(WORDS_FILE)


@cache
def reason_words() -> dict[str, ExemptionReason]:
    """Every accepted word for a reason (``words.toml``), normalised, to its reason."""
    return {
        _normal(word): ExemptionReason(reason)
        for reason, words in _words()["reasons"].items()
        for word in words
    }


@cache
def _date_pattern() -> re.Pattern[str]:
    return re.compile(_words()["dates"]["pattern"])


def parse_reason(text: str | None) -> ExemptionReason:
    word = _normal(text or "")
    if not word:
        raise Refused("exempt_usage")
    reason = reason_words().get(word)
    if reason is None:
        raise Refused("exempt_reason_unknown", reason=word[:MAX_QUOTE])
    return reason


def parse_date(text: str) -> dt.date:
    """A retirement date written as 2024-06-30, 2024/6/30, 2024.6.30 or 2024年6月30日."""
    match = _date_pattern().match(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        raise Refused("exempt_date_malformed", text=text[:MAX_QUOTE])
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise Refused("exempt_date_malformed", text=text[:MAX_QUOTE]) from None


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def retirement_window(config: Config, today: dt.date) -> tuple[dt.date, dt.date]:
    """The retirement dates that qualify, both ends included.

    The notice: "2022年12月30日前距退休时间在2周年内的" — as of the cut-off date (2022-12-30),
    the time left until retirement is at most two full years. So the latest qualifying
    retirement date is the cut-off plus ``retirement_within_years`` calendar years (2024-12-30).
    A learner retiring *before* the cut-off is even closer to retirement and qualifies as well,
    as long as they are still in service: the earliest date is today (someone whose retirement
    date has passed is no longer a participant at all and belongs in the roster as 不在职, not
    in an exemption). Between today and the cut-off this is wider than "cut-off ≤ date"; a
    learner retiring next month is plainly "within two years of retirement".
    """
    ex = config.exemption
    return today, _add_years(ex.retirement_cutoff, ex.retirement_within_years)


def retirement_date(config: Config, given: dt.date | str | None, today: dt.date) -> dt.date:
    """The retirement date of a retirement filing: given, well-formed and in the window."""
    if given is None or given == "":
        raise Refused("exempt_date_missing")
    day = given if isinstance(given, dt.date) else parse_date(given)
    earliest, latest = retirement_window(config, today)
    if day < earliest:
        raise Refused("exempt_already_retired", date=day.isoformat())
    if day > latest:
        raise Refused("exempt_retirement_window", date=day.isoformat(), latest=latest)
    return day
