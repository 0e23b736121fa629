"""The one end-of-day rule for the notice's whole-day windows and deadlines.

The notice gives whole days (a window "M月A日至B日", a deadline "M月D日前"). A whole-day window opens at
the start (00:00) of its first day and closes at ``[reminders] day_deadline`` (18:00 in the
shipped config) on its last day; a whole-day deadline is reached at that hour of its day. The
reminders announce that hour ("截止 18:00"), so every window the bot enforces (zone-round and
makeup registration, the centralized exam's pre-registration, the county plans' deadline) asks
here, and the reminders' calendar takes its closing moments from here too: what the group is told
and what ``/register`` does cannot disagree.
"""

from __future__ import annotations

import datetime as dt

from bot.core.config import Config, Window

UPCOMING, OPEN, CLOSED = "upcoming", "open", "closed"


def opens_at(config: Config, day: dt.date) -> dt.datetime:
    """When a whole-day window starting on ``day`` opens: the start of that day."""
    return dt.datetime.combine(day, dt.time(0), tzinfo=config.tz)


def closes_at(config: Config, day: dt.date) -> dt.datetime:
    """When a whole-day window ending on ``day`` (or a deadline on ``day``) closes: that day at
    ``[reminders] day_deadline``, in the campaign's timezone."""
    hour = config.reminders.day_deadline.replace(tzinfo=None)
    return dt.datetime.combine(day, hour, tzinfo=config.tz)


def state(config: Config, window: Window, now: dt.datetime) -> str:
    """``UPCOMING`` before the window opens, ``OPEN`` from then until it closes (the close
    itself excluded: at 18:00 sharp it is closed), ``CLOSED`` after."""
    if now < opens_at(config, window.start):
        return UPCOMING
    return OPEN if now < closes_at(config, window.end) else CLOSED


def is_open(config: Config, start: dt.date, end: dt.date, now: dt.datetime) -> bool:
    """Whether the whole-day window ``start``–``end`` is open at ``now``."""
    return state(config, Window(start=start, end=end), now) == OPEN


def is_past(config: Config, deadline: dt.date, now: dt.datetime) -> bool:
    """Whether a whole-day deadline (“9月1日前报送”) has been reached at ``now``."""
    return now >= closes_at(config, deadline)
