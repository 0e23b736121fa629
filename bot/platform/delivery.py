"""The delivery worker's database side: which tasks are due, claiming one for a delivery, and
recording what the platform answered. The Telegram side (running it on the JobQueue, telling the
requester) is ``handlers.platform``.

Exactly once on the platform: a task is claimed with a lease (``next_attempt_at`` moves past the
delivery's time-out) and delivered with its id as the idempotency key. If the bot dies before or
after the platform answered, the lease runs out and the task is delivered again with the same
key; the platform applies an id once and answers a repeat with 409, which counts as applied.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import col, select

from bot.core.uow import UnitOfWork
from bot.platform.gateway import APPLIED, REFUSED, Outcome, envelope
from bot.platform.models import PlatformTask, TaskStatus
from bot.platform.tasks import TaskView, view

BATCH = 20
LEASE_MARGIN = dt.timedelta(seconds=5)
FIRST_RETRY_SECONDS = 2.0


@dataclass(frozen=True)
class Claimed:
    """A task claimed for one delivery: its body and how many times it has been tried."""

    id: str
    body: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Notice:
    """A finished task whose requester is to be told, claimed so that they are told once."""

    task: TaskView
    chat_id: int


def _lease(uow: UnitOfWork) -> dt.timedelta:
    return dt.timedelta(seconds=uow.config.platform.request_timeout_seconds) + LEASE_MARGIN


def claim_due(uow: UnitOfWork, limit: int = 1) -> list[Claimed]:
    """Claim the queued tasks whose time has come: each for one delivery, under a lease of one
    delivery's time-out. The worker claims one at a time, just before it sends it, so that no
    lease runs out while the task waits behind others."""
    due = uow.session.exec(
        select(PlatformTask)
        .where(PlatformTask.status == TaskStatus.QUEUED.value)
        .where(col(PlatformTask.next_attempt_at) <= uow.now)
        .order_by(col(PlatformTask.next_attempt_at), col(PlatformTask.requested_at))
        .limit(limit)
    ).all()
    claimed: list[Claimed] = []
    for task in due:
        attempts = task.attempts + 1  # read before the update refreshes the loaded row
        taken = cast(
            CursorResult[Any],
            uow.session.execute(
                update(PlatformTask)
                .where(
                    col(PlatformTask.id) == task.id,
                    col(PlatformTask.status) == TaskStatus.QUEUED.value,
                    col(PlatformTask.next_attempt_at) == task.next_attempt_at,
                )
                .values(next_attempt_at=uow.now + _lease(uow), attempts=attempts)
            ),
        )
        if taken.rowcount == 1:  # another worker (a second instance) did not take it first
            claimed.append(Claimed(task.id, envelope(task), attempts))
    return claimed


def backoff(uow: UnitOfWork, attempts: int, retry_after: float | None) -> dt.timedelta:
    """The wait before the next attempt: what the platform asked for (429 Retry-After), else
    exponential with jitter, capped by ``[platform] retry_max_seconds``."""
    cap = float(uow.config.platform.retry_max_seconds)
    if retry_after is not None:
        return dt.timedelta(seconds=min(max(retry_after, 0.0), cap))
    base = min(FIRST_RETRY_SECONDS * 2 ** max(attempts - 1, 0), cap)
    return dt.timedelta(seconds=base * random.uniform(0.8, 1.2))


Effect = Callable[[UnitOfWork, TaskView], None]
"""What a capability does in the bot's own rows once the platform has applied a task of its
kind (the roster mirrors a transfer, the exemptions an exemption flag), in the same transaction
that records the outcome. The composition root (``bot.effects``) maps kinds to effects."""


def record(
    uow: UnitOfWork, claimed: Claimed, outcome: Outcome, effects: Mapping[str, Effect]
) -> TaskView | None:
    """What the platform answered; the task's view when it is now finished (applied or
    refused), None when it will be tried again (or was finished meanwhile). An applied task's
    effect (``effects[kind]``) runs in the same transaction."""
    task = uow.session.get(PlatformTask, claimed.id)
    if task is None or task.status != TaskStatus.QUEUED.value:
        return None
    if outcome.kind in (APPLIED, REFUSED):
        task.status = (TaskStatus.APPLIED if outcome.kind == APPLIED else TaskStatus.REFUSED).value
        task.result = outcome.reason[:500]
        task.finished_at = uow.now
        task.finished_by = "platform"
        task.next_attempt_at = None
        uow.session.add(task)
        uow.audit(
            f"platform.{task.status}",
            target=task.account or task.unit_code,
            detail={"task": task.id, "kind": task.kind, "reason": task.result},
        )
        return _finished(uow, task, effects)
    task.last_error = outcome.reason[:500]
    task.next_attempt_at = uow.now + backoff(uow, claimed.attempts, outcome.retry_after)
    uow.session.add(task)
    return None


def _finished(uow: UnitOfWork, task: PlatformTask, effects: Mapping[str, Effect]) -> TaskView:
    done = view(task)
    effect = effects.get(task.kind)
    if effect is not None and task.status == TaskStatus.APPLIED.value:
        effect(uow, done)
    return done


def finish(
    uow: UnitOfWork,
    task: PlatformTask,
    *,
    applied: bool,
    reason: str,
    by: str,
    effects: Mapping[str, Effect],
) -> TaskView:
    """Mark an open task done or failed by hand (the operator): once; a finished task is left
    as it is by the caller's check. An applied task's effect runs in the same transaction."""
    task.status = (TaskStatus.APPLIED if applied else TaskStatus.REFUSED).value
    task.result = reason[:500]
    task.finished_at = uow.now
    task.finished_by = by[:128]
    task.next_attempt_at = None
    uow.session.add(task)
    uow.audit(
        f"platform.{task.status}",
        target=task.account or task.unit_code,
        detail={"task": task.id, "kind": task.kind, "reason": task.result, "by": by},
    )
    return _finished(uow, task, effects)


def claim_notices(uow: UnitOfWork, limit: int = BATCH) -> list[Notice]:
    """Finished tasks whose requester (in a Telegram chat) has not been told yet, each claimed
    before the message is sent: a message that may have reached Telegram is never sent twice."""
    rows = uow.session.exec(
        select(PlatformTask)
        .where(col(PlatformTask.status).in_([TaskStatus.APPLIED.value, TaskStatus.REFUSED.value]))
        .where(col(PlatformTask.notified_at).is_(None))
        .where(col(PlatformTask.requester_chat_id).is_not(None))
        .order_by(col(PlatformTask.finished_at))
        .limit(limit)
    ).all()
    notices: list[Notice] = []
    for task in rows:
        taken = cast(
            CursorResult[Any],
            uow.session.execute(
                update(PlatformTask)
                .where(col(PlatformTask.id) == task.id, col(PlatformTask.notified_at).is_(None))
                .values(notified_at=uow.now)
            ),
        )
        if taken.rowcount == 1 and task.requester_chat_id is not None:
            notices.append(Notice(view(task), task.requester_chat_id))
    return notices
