"""The sent-log (``reminder_sends``): exactly once, decided by the database.

Before a message goes out, a row (reminder, chat, scheduled time) is INSERTed in a unit of work
of its own; the unique key lets exactly one instance win, however many schedulers, restarts or
retries race for it. The winner sends and records the outcome.

A claim is not a send. Between claiming and sending there is the rate limiter's wait and, after
a failure that certainly did not reach Telegram, the backoff. So the row's ``written_at`` is set
just before the request is written (``mark_written``, after those waits) and cleared again when
the request certainly did not arrive (``mark_unwritten``). A claim left behind by a process that
died is then either *never written* — released (deleted), so the next sweep sends it — or
*written but unanswered* — recorded as failed, "may have been sent", and never sent again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, delete, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased
from sqlmodel import col, select

from bot.core.uow import UnitOfWork
from reminders.models import ReminderSend, SendStatus

ERROR_LENGTH = 500  # the column's size
INTERRUPTED = "interrupted: may or may not have been sent"
DEADLINE_PASSED = "deadline passed"
SUPERSEDED = "superseded by {newer}, due too"
ALREADY_THERE = "the chat moved to {chat}, which already has it"


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
    the reminder paused), or because a newer reminder of its series is due as well (``newer``):
    recorded once, so it is logged once and never sent late."""

    reminder_id: str
    chat_id: int
    fire_at: dt.datetime
    newer: str | None = None

    @property
    def reason(self) -> str:
        return DEADLINE_PASSED if self.newer is None else SUPERSEDED.format(newer=self.newer)


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
        uow, skip.reminder_id, skip.chat_id, skip.fire_at, SendStatus.SKIPPED, skip.reason
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
        status = SendStatus.SKIPPED if outcome.status == SendStatus.SKIPPED else SendStatus.FAILED
        values.update(status=status, error=outcome.error[:ERROR_LENGTH])
    uow.session.execute(
        update(ReminderSend).where(col(ReminderSend.id) == send_id).values(**values)
    )


def _claimed(send_id: int) -> ColumnElement[bool]:
    return and_(col(ReminderSend.id) == send_id, col(ReminderSend.status) == SendStatus.CLAIMED)


def mark_written(uow: UnitOfWork, send_id: int) -> bool:
    """The request is about to be written: from now on the message may arrive. False when the
    claim is no longer ours (released by a sweep that took this instance for dead): then the
    request must not go out."""
    result = uow.session.execute(
        update(ReminderSend).where(_claimed(send_id)).values(written_at=uow.now)
    )
    return _rowcount(result) == 1


def mark_unwritten(uow: UnitOfWork, send_id: int) -> None:
    """The request certainly did not arrive (a refused connection, an error answer): a crash
    from here on leaves a claim that is safe to send again."""
    uow.session.execute(update(ReminderSend).where(_claimed(send_id)).values(written_at=None))


def chat_of(uow: UnitOfWork, send_id: int) -> int | None:
    """The chat a claimed row is for (it follows a group that moved), None once it is gone."""
    query = select(ReminderSend.chat_id).where(col(ReminderSend.id) == send_id)
    return uow.session.exec(query).first()


def move_chat(uow: UnitOfWork, old: int, new: int) -> int:
    """A chat got a new id (a group upgraded to a supergroup): its sent-log moves with it, so
    what the group already had is not sent again under its new id. A row the new id already has
    (another instance got there first) stays where it was. Returns the rows moved."""
    there = aliased(ReminderSend)
    clash = (
        select(there.id)
        .where(
            there.chat_id == new,
            there.reminder_id == ReminderSend.reminder_id,
            there.fire_at == ReminderSend.fire_at,
        )
        .exists()
    )
    result = uow.session.execute(
        update(ReminderSend)
        .where(col(ReminderSend.chat_id) == old, ~clash)
        .values(chat_id=new)
        .execution_options(synchronize_session=False)
    )
    return _rowcount(result)


def _rowcount(result: object) -> int:
    return int(cast(CursorResult[Any], result).rowcount)


@dataclass(frozen=True)
class Recovered:
    """Claims a dead process left behind: ``released`` were never written (deleted: the next
    sweep sends them), ``interrupted`` were written and never answered (failed: not re-sent)."""

    released: list[ReminderSend] = field(default_factory=list)
    interrupted: list[ReminderSend] = field(default_factory=list)


def recover_stale(uow: UnitOfWork) -> Recovered:
    """Claims older than ``claim_timeout_minutes`` and never finished (the process died between
    claiming and recording; a live one finishes or writes a claim well within that time). A
    claim whose request was never written is released, so it is sent after all; one that was
    written may have arrived, and a duplicate is worse than a logged gap: marked failed."""
    timeout = dt.timedelta(minutes=uow.config.reminders.claim_timeout_minutes)
    stale = list(
        uow.session.exec(
            select(ReminderSend).where(
                ReminderSend.status == SendStatus.CLAIMED,
                ReminderSend.claimed_at < uow.now - timeout,
            )
        )
    )
    found = Recovered()
    for row in stale:
        assert row.id is not None
        if row.written_at is None:
            gone = uow.session.execute(
                delete(ReminderSend).where(_claimed(row.id), col(ReminderSend.written_at).is_(None))
            )
            if _rowcount(gone) == 1:
                found.released.append(row)
            continue
        failed = uow.session.execute(
            update(ReminderSend)
            .where(_claimed(row.id))
            .values(status=SendStatus.FAILED, error=INTERRUPTED)
        )
        if _rowcount(failed) == 1:
            found.interrupted.append(row)
    return found


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
