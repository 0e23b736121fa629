"""The sent-log (``reminder_sends``): exactly once, decided by the database.

Before a message goes out, a row (reminder, chat, scheduled time) is INSERTed in a unit of work
of its own; the unique key lets exactly one instance win, however many schedulers, restarts or
retries race for it. The winner sends and records the outcome. Each message is claimed just
before it is sent (not a whole broadcast at once), so a process killed mid-broadcast leaves at
most the few messages it had in flight unaccounted for; the rest are still unclaimed and the
next start sends them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bot.core.uow import UnitOfWork
from reminders.models import ReminderSend, SendStatus

ERROR_LENGTH = 500  # the column's size
INTERRUPTED = "interrupted: may or may not have been sent"
DEADLINE_PASSED = "deadline passed"


@dataclass(frozen=True)
class Delivery:
    """A message due to one chat. ``send_id`` is set once it is claimed (``claim``): then this
    instance, and no other, sends ``text`` to ``chat_id``."""

    reminder_id: str
    chat_id: int
    fire_at: dt.datetime
    text: str
    send_id: int | None = None


@dataclass(frozen=True)
class Outcome:
    """How one claimed message ended: ``status`` is ``sent`` (with Telegram's ``message_id``,
    and a ``note`` when the answer could not be read) or ``failed`` (with the ``error``)."""

    reminder_id: str
    chat_id: int
    status: str
    text: str
    attempts: int
    error: str = ""
    message_id: int | None = None
    note: str = ""


@dataclass(frozen=True)
class Skip:
    """A due reminder not sent to a chat because its deadline passed first (the bot was down or
    the reminder paused): recorded once, so it is logged once and never sent late."""

    reminder_id: str
    chat_id: int
    fire_at: dt.datetime


def claim(uow: UnitOfWork, item: Delivery) -> Delivery | None:
    """Claim one planned message just before sending it: the delivery with its ``send_id``, or
    None when another instance (or an earlier run) has it. Give it a unit of work of its own and
    let it commit before sending: the unique key decides, the loser's transaction is rolled
    back."""
    send_id = _insert(uow, item.reminder_id, item.chat_id, item.fire_at, SendStatus.CLAIMED)
    return None if send_id is None else replace(item, send_id=send_id)


def record_skip(uow: UnitOfWork, skip: Skip) -> bool:
    """Record a skip; False when the chat already has a row for that time (nothing to log)."""
    send_id = _insert(
        uow, skip.reminder_id, skip.chat_id, skip.fire_at, SendStatus.SKIPPED, DEADLINE_PASSED
    )
    return send_id is not None


def _insert(
    uow: UnitOfWork,
    reminder_id: str,
    chat_id: int,
    fire_at: dt.datetime,
    status: SendStatus,
    error: str = "",
) -> int | None:
    row = ReminderSend(
        reminder_id=reminder_id,
        chat_id=chat_id,
        fire_at=fire_at,
        status=status,
        claimed_at=uow.now,
        error=error[:ERROR_LENGTH],
    )
    uow.session.add(row)
    try:
        uow.session.flush()
    except IntegrityError:
        uow.session.rollback()
        return None
    return row.id


def record(uow: UnitOfWork, send_id: int, outcome: Outcome) -> None:
    """Write a claimed message's outcome into its row."""
    values: dict[str, object] = {"attempts": outcome.attempts}
    if outcome.status == SendStatus.SENT:
        values.update(status=SendStatus.SENT, sent_at=uow.now, message_id=outcome.message_id)
        values.update(error=outcome.note[:ERROR_LENGTH])
    else:
        values.update(status=SendStatus.FAILED, error=outcome.error[:ERROR_LENGTH])
    uow.session.execute(
        update(ReminderSend).where(col(ReminderSend.id) == send_id).values(**values)
    )


def recover_stale(uow: UnitOfWork) -> list[ReminderSend]:
    """Claims never finished (the process died between claiming and recording) and older than
    ``claim_timeout_minutes``: marked failed and returned for logging. Not re-sent — the message
    may have gone out before the crash, and a duplicate is worse than a logged gap."""
    timeout = dt.timedelta(minutes=uow.config.reminders.claim_timeout_minutes)
    stale = list(
        uow.session.exec(
            select(ReminderSend).where(
                ReminderSend.status == SendStatus.CLAIMED,
                ReminderSend.claimed_at < uow.now - timeout,
            )
        )
    )
    for row in stale:
        uow.session.execute(
            update(ReminderSend)
            .where(col(ReminderSend.id) == row.id, col(ReminderSend.status) == SendStatus.CLAIMED)
            .values(status=SendStatus.FAILED, error=INTERRUPTED)
        )
    return stale


History = dict[tuple[str, int], list[ReminderSend]]


def history(uow: UnitOfWork, reminder_ids: Iterable[str]) -> History:
    """The sent-log rows of these reminders, by (reminder, chat)."""
    ids = list(reminder_ids)
    found: History = {}
    if not ids:
        return found
    rows = uow.session.exec(select(ReminderSend).where(col(ReminderSend.reminder_id).in_(ids)))
    for send in rows:
        found.setdefault((send.reminder_id, send.chat_id), []).append(send)
    return found


def covered(sends: list[ReminderSend], fire_at: dt.datetime) -> bool:
    """Already handled for this scheduled time; or sent at or after it (the config moved the
    reminder to an earlier time than it already went out: sending again would be a duplicate)."""
    return any(
        h.fire_at == fire_at
        or (h.status == SendStatus.SENT and h.sent_at is not None and h.sent_at >= fire_at)
        for h in sends
    )
