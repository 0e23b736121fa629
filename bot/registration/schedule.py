"""When one may register, and for what: the registrable rounds of the one round catalogue
(``bot.core.rounds``) with their registration windows by the injected clock (a window closes at
``[reminders] day_deadline`` on its last day: ``bot.core.windows``), the sessions one books for
each (none for the makeup unless config gives them), and the study deadline before one's exam
day.
"""

from __future__ import annotations

import datetime as dt

from bot.core import rounds, windows
from bot.core.config import Config, OnlineSession
from bot.core.errors import Refused
from bot.core.rounds import ExamRound


def find_round(config: Config, key: str) -> ExamRound:
    """A round units register for through the bot, or a refusal."""
    item = rounds.find(config, key)
    if item is None or item.registration is None:
        raise Refused("round_unknown", round=key)
    return item


def registration_state(config: Config, item: ExamRound, now: dt.datetime) -> str:
    """ "upcoming", "open" or "closed": the round's registration window at ``now``."""
    if item.registration is None:
        return windows.CLOSED
    return windows.state(config, item.registration, now)


def open_rounds(config: Config, now: dt.datetime) -> list[ExamRound]:
    return [r for r in rounds.registrable(config) if is_open(config, r, now)]


def is_open(config: Config, item: ExamRound, now: dt.datetime) -> bool:
    return registration_state(config, item, now) == windows.OPEN


def closes_at(config: Config, item: ExamRound) -> dt.datetime | None:
    """When the round's registration closes (its last day at ``day_deadline``)."""
    window = item.registration
    return windows.closes_at(config, window.end) if window else None


def require_open(config: Config, item: ExamRound, now: dt.datetime) -> None:
    """Refuse unless the round's registration window is open at ``now``. The refusal says when
    it opens, or the day and hour it closed; after the makeup's window nothing is left to
    register for: the refusal says what follows (``c.makeup.after``)."""
    state = registration_state(config, item, now)
    if state == windows.OPEN:
        return
    window = item.registration
    raise Refused(
        f"round_{state}",
        round=item,
        start=window.start if window else None,
        end=window.end if window else None,
        closes=closes_at(config, item),
        after_makeup=item.is_makeup and state == windows.CLOSED,
    )


def require_exam_day(item: ExamRound, day: dt.date) -> None:
    if not item.exam.contains(day):
        raise Refused("date_outside", round=item, start=item.exam.start, end=item.exam.end)


def sessions(config: Config, item: ExamRound | None = None) -> list[OnlineSession]:
    """The sessions one books for a round: the zone rounds' ten daily sessions; the makeup's only
    as ``[makeup] sessions`` gives them. The notice gives the makeup none ("全省统一补考"): the
    platform schedules it, so a registration for it names no day and no session."""
    if item is not None and item.is_makeup:
        return list(config.makeup.sessions)
    return list(config.online_sessions)


def books_sessions(config: Config, item: ExamRound) -> bool:
    """Whether a registration for the round names a day and a session."""
    return bool(sessions(config, item))


def session_times(config: Config, item: ExamRound | None = None) -> list[str]:
    """The round's sessions as stored ("09:00")."""
    return [s.time.strftime("%H:%M") for s in sessions(config, item)]


def require_session(config: Config, session_time: str, item: ExamRound | None = None) -> None:
    times = session_times(config, item)
    if session_time not in times:
        raise Refused("session_unknown", time=session_time, times=times)


def require_sessions(config: Config, item: ExamRound) -> None:
    """Refuse to move a registration to another day or session of a round the platform
    schedules (there are none to choose)."""
    if not books_sessions(config, item):
        raise Refused("no_sessions_to_change", round=item)


def study_deadline(config: Config, exam_date: dt.date) -> dt.datetime:
    """Credits must be complete by 21:00 the day before one's exam (notice 五（一）)."""
    day = exam_date - dt.timedelta(days=config.study.deadline_days_before_exam)
    return dt.datetime.combine(day, config.study.deadline_time, config.tz)
