"""When one may register, and for what: the registrable rounds of the one round catalogue
(``bot.core.rounds``) with their registration windows by the injected clock, the daily online
sessions, and the study deadline before one's exam day.
"""

from __future__ import annotations

import datetime as dt

from bot.core import rounds
from bot.core.config import Config
from bot.core.errors import Refused
from bot.core.rounds import ExamRound


def find_round(config: Config, key: str) -> ExamRound:
    """A round units register for through the bot, or a refusal."""
    item = rounds.find(config, key)
    if item is None or item.registration is None:
        raise Refused("round_unknown", round=key)
    return item


def open_rounds(config: Config, today: dt.date) -> list[ExamRound]:
    return [r for r in rounds.registrable(config) if r.registration_state(today) == "open"]


def is_open(item: ExamRound, today: dt.date) -> bool:
    return item.registration_state(today) == "open"


def require_open(item: ExamRound, today: dt.date) -> None:
    """Refuse unless the round's registration window is open today. After the makeup's window
    nothing is left to register for: the refusal says what follows (``c.makeup.after``)."""
    state = item.registration_state(today)
    if state == "open":
        return
    window = item.registration
    raise Refused(
        f"round_{state}",
        round=item,
        start=window.start if window else None,
        end=window.end if window else None,
        after_makeup=item.is_makeup and state == "closed",
    )


def require_exam_day(item: ExamRound, day: dt.date) -> None:
    if not item.exam.contains(day):
        raise Refused("date_outside", round=item, start=item.exam.start, end=item.exam.end)


def session_times(config: Config) -> list[str]:
    """The daily online sessions as stored ("09:00")."""
    return [s.time.strftime("%H:%M") for s in config.online_sessions]


def require_session(config: Config, session_time: str) -> None:
    if session_time not in session_times(config):
        raise Refused("session_unknown", time=session_time)


def study_deadline(config: Config, exam_date: dt.date) -> dt.datetime:
    """Credits must be complete by 21:00 the day before one's exam (notice 五（一）)."""
    day = exam_date - dt.timedelta(days=config.study.deadline_days_before_exam)
    return dt.datetime.combine(day, config.study.deadline_time, config.tz)
