"""A stored reminder as the templates see it: its times in the campaign's timezone, its
parameters, and what they point at in config (the zone round, the exam day, the study-credit
day). The messages, the /reminders listing and the command replies all read these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from bot.core.config import Config, ZoneRound
from bot.core.uow import UnitOfWork
from reminders import store
from reminders.models import StoredReminder


@dataclass(frozen=True)
class ReminderView:
    id: str
    kind: str
    template: str
    fire_at: dt.datetime
    deadline: dt.datetime
    paused: bool
    text: str  # a custom reminder's own text
    r: dict[str, Any]  # the template parameters (phase, round, days_left, exam_date …)
    zone: ZoneRound | None
    exam_date: dt.date | None
    credit_day: dt.date | None  # the last day to complete the study credits for ``exam_date``
    overdue: bool = False  # its time has passed (a resumed reminder: sent before its deadline)

    def days_left(self, moment: dt.datetime) -> int:
        """Whole days from ``moment``'s day to the deadline's day, both in the campaign's
        timezone (a UTC date would be a day behind before 08:00): 0 on the deadline day."""
        return (self.deadline.date() - moment.astimezone(self.deadline.tzinfo).date()).days

    def template_vars(self) -> dict[str, Any]:
        """The variables every reminder template reads."""
        return {
            "r": self.r,
            "zone": self.zone,
            "exam_date": self.exam_date,
            "credit_day": self.credit_day,
            "fire_at": self.fire_at,
            "deadline": self.deadline,
            "text": self.text,
            "kind": self.kind,
        }


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def view_of(config: Config, row: StoredReminder, now: dt.datetime | None = None) -> ReminderView:
    """The row for the templates; ``now`` given, ``overdue`` says whether its time has passed."""
    params = store.params_of(row)
    number = params.get("round")
    exam_date = _date(params.get("exam_date"))
    credit_day = None
    if exam_date is not None:
        credit_day = exam_date - dt.timedelta(days=config.study.deadline_days_before_exam)
    return ReminderView(
        id=row.id,
        kind=row.kind,
        template=row.template,
        fire_at=row.fire_at.astimezone(config.tz),
        deadline=row.deadline.astimezone(config.tz),
        paused=row.paused,
        text=row.text or "",
        r=params,
        zone=config.zone_round(number) if isinstance(number, int) else None,
        exam_date=exam_date,
        credit_day=credit_day,
        overdue=now is not None and row.fire_at <= now,
    )


def upcoming(uow: UnitOfWork, *, include_paused: bool) -> list[ReminderView]:
    """The next reminders for /reminders (``upcoming_limit`` of them); paused ones only where
    the city office may see them (private chat)."""
    rows = store.upcoming(
        uow, limit=uow.config.reminders.upcoming_limit, include_paused=include_paused
    )
    return [view_of(uow.config, row) for row in rows]
