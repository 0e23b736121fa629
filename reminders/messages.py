"""The text of a reminder as it goes out: its template, rendered with config, the reminder's
parameters and who still owes (at most ``max_names`` names, then a count). Every word is in the
templates (``reminders/templates``); this module only gathers their variables."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.core.config import Config
from bot.core.render import render
from bot.core.uow import UnitOfWork
from reminders import store
from reminders.models import StoredReminder
from reminders.owing import Owing, owing_for
from reminders.views import view_of

PRIVATE_TEMPLATE = "reminder_private"


@dataclass(frozen=True)
class Composed:
    """A reminder's message (Telegram HTML) and the units it names (None: names nobody)."""

    text: str
    owing: Owing | None


def compose(uow: UnitOfWork, row: StoredReminder, at: dt.datetime | None = None) -> Composed:
    """The message as it reads when sent at ``at`` (default: the unit of work's moment): a
    reminder sent late says what is true then ("已于…开始", one day left, not two)."""
    config = uow.config
    moment = (at or uow.now).astimezone(config.tz)
    owing = owing_for(uow, row, moment)
    names = owing.names if owing else []
    limit = config.reminders.max_names
    view = view_of(config, row)
    text = render(
        row.template,
        c=config,
        now=moment,
        today=moment.date(),  # what "today", "tomorrow" and "N days left" are counted from
        days_left=view.days_left(moment),
        **view.template_vars(),
        owing=owing,
        names=names[:limit],
        more=max(0, len(names) - limit),
        total=len(names),
    )
    return Composed(text, owing)


def private_text(config: Config, unit_names: list[str], message: Composed) -> str:
    """The group's message as sent privately to an administrator of units it names."""
    known = message.owing.known if message.owing is not None else True
    return render(PRIVATE_TEMPLATE, c=config, units=unit_names, text=message.text, known=known)


@dataclass(frozen=True)
class Preview:
    """An upcoming reminder with its message as it will read when it fires."""

    id: str
    fire_at: dt.datetime
    kind: str
    text: str
    paused: bool


def preview_upcoming(
    uow: UnitOfWork, *, limit: int | None = None, include_paused: bool = False
) -> list[Preview]:
    """The reminders still to come after the unit of work's moment, each rendered at its own
    time (who still owes, as the database knows it now)."""
    tz = uow.config.tz
    return [
        Preview(
            row.id,
            row.fire_at.astimezone(tz),
            row.kind,
            compose(uow, row, at=row.fire_at).text,
            row.paused,
        )
        for row in store.upcoming(uow, limit=limit, include_paused=include_paused)
    ]
