"""Deciding what to send now: for each series, the newest due reminder, to every chat that does
not have it yet, with its text as of now; and what is not sent and why — a due reminder whose
deadline passed first, or an older one of a series whose newer reminder is due too (after
downtime the opening, the last day and the closing of a window are not sent in one minute: only
the closing, which says the rest). Nothing is claimed here: the sender claims each message just
before sending it (``reminders.sendlog.claim``)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot.core.uow import UnitOfWork
from bot.org.models import Administrator, TelegramBinding
from reminders import groups, sendlog, store
from reminders.messages import Composed, compose, private_text
from reminders.models import StoredReminder
from reminders.sendlog import Delivery, History, Skip


@dataclass(frozen=True)
class Overdue:
    """A due reminder that is not sent, and the group chats that never had it: its deadline
    passed before it could be sent (it fell due while the bot was down or the reminder paused),
    or ``newer``, a later reminder of its series, is due as well and is sent instead."""

    reminder_id: str
    fire_at: dt.datetime
    deadline: dt.datetime
    chat_ids: list[int]
    newer: str | None = None

    def skips(self) -> list[Skip]:
        return [Skip(self.reminder_id, chat, self.fire_at, self.newer) for chat in self.chat_ids]


@dataclass(frozen=True)
class DuePlan:
    chats: list[int] = field(default_factory=list)  # the group chats planned for
    deliveries: list[Delivery] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)


def plan_due(uow: UnitOfWork, group_ids: list[int] | None = None) -> DuePlan:
    """What is due at the unit of work's moment, for the served group chats (or these), and,
    with ``private_targets``, for the bound administrators of the units a message names.
    Nothing is due during the quiet hours."""
    config = uow.config
    chats = groups.served(uow) if group_ids is None else list(group_ids)
    if config.reminders.quiet(uow.now.astimezone(config.tz).time()):
        return DuePlan(chats)
    rows = store.due(uow)
    newest = {store.series_of(row): row for row in rows}  # due in firing order: the last wins
    sends = sendlog.history(uow, [r.id for r in rows])
    plan = DuePlan(chats)
    for row in rows:
        open_groups = [
            g for g in chats if not sendlog.covered(sends.get((row.id, g), []), row.fire_at)
        ]
        latest = newest[store.series_of(row)]
        if latest is not row:
            plan.overdue.append(Overdue(row.id, row.fire_at, row.deadline, open_groups, latest.id))
            continue
        if row.deadline <= uow.now:
            plan.overdue.append(Overdue(row.id, row.fire_at, row.deadline, open_groups))
            continue
        if not open_groups and not config.reminders.private_targets:
            continue
        message = compose(uow, row)
        targets = [(g, message.text) for g in open_groups]
        if config.reminders.private_targets:
            targets += _private_targets(uow, row, message, sends)
        plan.deliveries.extend(Delivery(row.id, chat, row.fire_at, text) for chat, text in targets)
    return plan


def _private_targets(
    uow: UnitOfWork, row: StoredReminder, message: Composed, sends: History
) -> list[tuple[int, str]]:
    """(user, text) for each bound administrator of a unit the message names, not yet sent."""
    if message.owing is None or not message.owing.units:
        return []
    names = {u.id: u.name for u in message.owing.units if u.id is not None}
    targets = []
    for user_id, unit_ids in bound_admins(uow.session, list(names)).items():
        if sendlog.covered(sends.get((row.id, user_id), []), row.fire_at):
            continue
        text = private_text(uow.config, [names[i] for i in unit_ids], message)
        targets.append((user_id, text))
    return targets


def bound_admins(session: Session, unit_ids: list[int]) -> dict[int, list[int]]:
    """Telegram user id -> the units (of these) they administer (active bindings only)."""
    if not unit_ids:
        return {}
    rows = session.exec(
        select(TelegramBinding.telegram_user_id, Administrator.unit_id)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .where(col(Administrator.unit_id).in_(unit_ids))
        .where(col(TelegramBinding.revoked_at).is_(None))
    )
    targets: dict[int, list[int]] = {}
    for user_id, unit_id in rows:
        targets.setdefault(int(user_id), []).append(unit_id)
    return targets
