"""The calendar in the database: the ``reminders`` rows, kept in step with config, and the
questions asked of them (what is upcoming, what is due).

The rows, not the scheduler's jobs, are the source of truth: jobs are rebuilt from them at every
start, and every job asks them what is due by the injected clock.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.core.uow import UnitOfWork
from reminders.calendar import Reminder, build_calendar
from reminders.models import Source, StoredReminder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncReport:
    """What a sync changed: calendar ids inserted, moved (time, text or params) and deleted."""

    added: list[str] = field(default_factory=list)
    moved: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.moved or self.removed)


def sync_calendar(uow: UnitOfWork) -> SyncReport:
    """Make the calendar rows match config: insert new ids, move changed ones (an upsert, so two
    instances starting together do not collide), delete ids the config no longer yields. Paused
    flags and custom reminders are left alone."""
    session = uow.session
    wanted = {item.id: item for item in build_calendar(uow.config)}
    existing = {
        row.id: row
        for row in session.exec(
            select(StoredReminder).where(StoredReminder.source == Source.CALENDAR)
        )
    }
    added: list[str] = []
    moved: list[str] = []
    for item in wanted.values():
        row = existing.get(item.id)
        if row is not None and _same(row, item):
            continue
        (moved if row is not None else added).append(item.id)
        _upsert(session, item, uow.now)
    removed = sorted(set(existing) - set(wanted))
    if removed:
        session.execute(delete(StoredReminder).where(col(StoredReminder.id).in_(removed)))
    report = SyncReport(added, moved, removed)
    if report.changed:
        log.info(
            "reminder calendar synced: %d added, %d moved, %d removed",
            len(added),
            len(moved),
            len(removed),
        )
    return report


def _params_json(params: dict[str, Any]) -> str:
    return json.dumps(params, ensure_ascii=False, sort_keys=True)


def _values(item: Reminder) -> dict[str, Any]:
    """The columns config decides (the rest belong to the row: paused, created_*)."""
    return {
        "kind": item.kind,
        "fire_at": item.fire_at,
        "deadline": item.deadline,
        "template": item.template,
        "params": _params_json(item.params),
        "series": item.series,
    }


def _same(row: StoredReminder, item: Reminder) -> bool:
    return all(getattr(row, name) == value for name, value in _values(item).items())


def _upsert(session: Session, item: Reminder, now: dt.datetime) -> None:
    table = StoredReminder.__table__  # type: ignore[attr-defined]
    values = _values(item)
    row = {
        "id": item.id,
        "source": Source.CALENDAR.value,
        "paused": False,
        "created_by": "config",
        "created_at": now,
        "updated_at": now,
        **values,
    }
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = make(table).values(**row)
    stmt = stmt.on_conflict_do_update(
        index_elements=[table.c.id], set_={**values, "updated_at": now}
    )
    session.execute(stmt)


# --- reading -------------------------------------------------------------------------------


def load(uow: UnitOfWork, reminder_id: str) -> StoredReminder | None:
    return uow.session.get(StoredReminder, reminder_id)


def params_of(row: StoredReminder) -> dict[str, Any]:
    """The row's template parameters; a damaged value reads as none."""
    try:
        value = json.loads(row.params or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def upcoming(
    uow: UnitOfWork, *, limit: int | None = None, include_paused: bool = False
) -> list[StoredReminder]:
    """Reminders still to fire after the unit of work's moment, in firing order."""
    query = select(StoredReminder).where(StoredReminder.fire_at > uow.now)
    if not include_paused:
        query = query.where(col(StoredReminder.paused).is_(False))
    query = query.order_by(col(StoredReminder.fire_at), col(StoredReminder.id))
    if limit is not None:
        query = query.limit(limit)
    return list(uow.session.exec(query))


def series_of(row: StoredReminder) -> str:
    """The series a row belongs to: its own id when it has none (a custom reminder)."""
    return row.series or row.id


def due(uow: UnitOfWork) -> list[StoredReminder]:
    """Unpaused reminders whose time has come (sent or not: the sent-log says which chats are
    done)."""
    return list(
        uow.session.exec(
            select(StoredReminder)
            .where(StoredReminder.fire_at <= uow.now, col(StoredReminder.paused).is_(False))
            .order_by(col(StoredReminder.fire_at), col(StoredReminder.id))
        )
    )
