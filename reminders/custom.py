"""The city office's say over the reminders: one-off reminders of its own ("custom-N", to the
liaison group), and pausing or resuming any reminder. City office only; every change is audited
in the same transaction. The refusal texts are in ``reminders/templates/reminder_refused.j2``."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlmodel import col, select

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.admins import require_city
from reminders import calendar, store
from reminders.models import Source, StoredReminder
from reminders.views import ReminderView, view_of

CUSTOM_PREFIX = "custom-"
CUSTOM_TEMPLATE = "reminder_custom"
CUSTOM_ID = re.compile(r"^custom-(\d+)$")
ID_SHAPE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
TIME_SHAPE = re.compile(r"\d{1,2}:\d{2}")
SHOWN_INPUT = 20  # characters of a mistyped date or time repeated in the refusal


@dataclass(frozen=True)
class CustomRequest:
    """A one-off reminder: when it goes to the liaison group, and what it says."""

    fire_at: dt.datetime
    text: str


@dataclass(frozen=True)
class PauseRequest:
    reminder_id: str
    paused: bool  # False: resume


def _city_office(uow: UnitOfWork) -> None:
    require_city(uow.authorize())


def parse_custom(uow: UnitOfWork, words: Sequence[str]) -> CustomRequest:
    """``2022-09-15 09:00 text`` → a validated request, or Refused with the reason. Only the
    city office is told what is wrong with its input."""
    _city_office(uow)
    rcfg, tz, now = uow.config.reminders, uow.config.tz, uow.now
    tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
    if len(words) < 3:
        raise Refused("remind_usage", example_day=tomorrow)
    day_text, time_text = words[0], words[1]
    text = " ".join(words[2:]).strip()
    try:
        if not TIME_SHAPE.fullmatch(time_text):
            raise ValueError(time_text)
        hour, minute = (int(part) for part in time_text.split(":"))
        moment = dt.datetime.combine(dt.date.fromisoformat(day_text), dt.time(hour, minute), tz)
    except ValueError as exc:
        date, time = day_text[:SHOWN_INPUT], time_text[:SHOWN_INPUT]
        raise Refused("remind_bad_time", date=date, time=time) from exc
    if moment <= now:
        raise Refused("remind_past", now=now.astimezone(tz))
    if rcfg.quiet(moment.time()):
        raise Refused("remind_quiet")
    if not text:
        raise Refused("remind_usage", example_day=tomorrow)
    if len(text) > rcfg.custom_max_length:
        raise Refused("remind_too_long", limit=rcfg.custom_max_length, length=len(text))
    return CustomRequest(moment, text)


def _next_custom_id(uow: UnitOfWork) -> str:
    ids = uow.session.exec(select(StoredReminder.id).where(StoredReminder.source == Source.CUSTOM))
    numbers = [int(m.group(1)) for rid in ids if (m := CUSTOM_ID.match(rid))]
    return f"{CUSTOM_PREFIX}{max(numbers, default=0) + 1}"


def add_custom(uow: UnitOfWork, request: CustomRequest) -> ReminderView:
    """Store a one-off reminder; it is worth sending for ``custom_valid_hours`` after its time."""
    _city_office(uow)
    identity = uow.authorize()
    valid = dt.timedelta(hours=uow.config.reminders.custom_valid_hours)
    row = StoredReminder(
        id=_next_custom_id(uow),
        kind=calendar.CUSTOM,
        source=Source.CUSTOM,
        fire_at=request.fire_at,
        deadline=request.fire_at + valid,
        template=CUSTOM_TEMPLATE,
        params="{}",
        text=request.text,
        created_by=identity.unit_name,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(row)
    uow.session.flush()  # a concurrent /remind_add taking the same id fails here, changing nothing
    detail = {"fire_at": request.fire_at.isoformat(), "text": request.text}
    uow.audit("reminder.add", target=row.id, detail=detail)
    return view_of(uow.config, row)


def pause_request(uow: UnitOfWork, args: Sequence[str], paused: bool) -> PauseRequest:
    """The command's one argument, the reminder id (after checking who asks)."""
    _city_office(uow)
    if len(args) != 1:
        raise Refused("remind_id_usage")
    return PauseRequest(args[0], paused)


def set_paused(uow: UnitOfWork, request: PauseRequest) -> ReminderView:
    """Pause or resume; refuses an unknown id or a no-op. A resumed reminder whose time passed
    while paused is sent at once if its deadline has not passed, else skipped (as after
    downtime)."""
    _city_office(uow)
    paused = request.paused
    no_op = "remind_already_paused" if paused else "remind_not_paused"
    rid = request.reminder_id.strip().lower()
    row = store.load(uow, rid) if ID_SHAPE.match(rid) else None
    if row is None:
        raise Refused("remind_unknown", id=request.reminder_id[:64])
    if row.paused == paused:
        raise Refused(no_op, id=row.id)
    changed = cast(
        CursorResult[Any],
        uow.session.execute(
            update(StoredReminder)
            .where(col(StoredReminder.id) == row.id, col(StoredReminder.paused).is_(not paused))
            .values(paused=paused, updated_at=uow.now),
        ),
    )
    if changed.rowcount != 1:  # someone else flipped it in the meantime
        raise Refused(no_op, id=row.id)
    action = "reminder.pause" if paused else "reminder.resume"
    uow.audit(action, target=row.id, detail={"fire_at": row.fire_at.isoformat()})
    row.paused = paused
    return view_of(uow.config, row, uow.now)
