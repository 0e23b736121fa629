"""Writing platform tasks (the outbox) and reading them back.

``submit`` is called by the capability that decided an action (the roster for a reset, the
exemptions for a city filing, registration for a booking), inside that action's unit of work: the
task, the change and the audit row commit together or not at all.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bot.core.uow import UnitOfWork
from bot.platform.models import PlatformTask, TaskKind, TaskStatus

MAX_LISTED = 50


@dataclass(frozen=True)
class TaskRequest:
    """What the platform must do: the kind, the learner's account and unit, and the kind's own
    fields (a transfer's origin, an exam registration's round, day and session …)."""

    kind: TaskKind
    account: str = ""
    unit_code: str = ""
    fields: dict[str, Any] | None = None
    needs_approval: bool = False


@dataclass(frozen=True)
class TaskView:
    """A task as lists and messages show it."""

    id: str
    kind: str
    account: str
    unit_code: str
    status: str
    requester_name: str
    requested_at: dt.datetime
    attempts: int
    result: str
    last_error: str
    fields: dict[str, Any]

    @property
    def short_id(self) -> str:
        return self.id[:8]

    @property
    def open(self) -> bool:
        return TaskStatus(self.status).open


def new_id() -> str:
    return uuid.uuid4().hex


def submit(uow: UnitOfWork, request: TaskRequest) -> PlatformTask:
    """Write the task in the caller's transaction, stamped with the requester (the authorized
    administrator, or the command line). It is delivered after the transaction commits."""
    actor = uow.actor
    status = TaskStatus.AWAITING_APPROVAL if request.needs_approval else TaskStatus.QUEUED
    task = PlatformTask(
        id=new_id(),
        kind=request.kind.value,
        account=request.account,
        unit_code=request.unit_code,
        payload=json.dumps(request.fields or {}, ensure_ascii=False, sort_keys=True, default=str),
        status=status.value,
        requested_by=actor.admin_id if actor is not None else None,
        requester_name=actor.unit_name if actor is not None else (uow.origin.label or "cli"),
        requester_telegram_id=uow.origin.telegram_user_id,
        requester_chat_id=uow.origin.chat_id,
        requested_at=uow.now,
        next_attempt_at=uow.now,
    )
    uow.session.add(task)
    uow.session.flush()
    uow.audit(
        "platform.task",
        target=request.account or request.unit_code,
        detail={"task": task.id, "kind": task.kind, "status": task.status},
    )
    return task


def fields_of(task: PlatformTask) -> dict[str, Any]:
    data = json.loads(task.payload or "{}")
    return data if isinstance(data, dict) else {}


def view(task: PlatformTask) -> TaskView:
    return TaskView(
        id=task.id,
        kind=task.kind,
        account=task.account,
        unit_code=task.unit_code,
        status=task.status,
        requester_name=task.requester_name,
        requested_at=task.requested_at,
        attempts=task.attempts,
        result=task.result,
        last_error=task.last_error,
        fields=fields_of(task),
    )


def find(uow: UnitOfWork, task_id: str) -> PlatformTask | None:
    """A task by its id or by an unambiguous prefix of at least 6 characters (lists show 8)."""
    text = task_id.strip().lower()
    if not text.isalnum() or not text.isascii() or not 6 <= len(text) <= 32:
        return None
    if len(text) == 32:
        return uow.session.get(PlatformTask, text)
    rows = list(
        uow.session.exec(select(PlatformTask).where(col(PlatformTask.id).startswith(text)).limit(2))
    )
    return rows[0] if len(rows) == 1 else None


def listed(
    uow: UnitOfWork, *, requested_by: int | None = None, open_only: bool = False
) -> list[TaskView]:
    """The newest tasks (of one administrator, or all), open ones first."""
    query = select(PlatformTask)
    if requested_by is not None:
        query = query.where(PlatformTask.requested_by == requested_by)
    if open_only:
        query = query.where(col(PlatformTask.status).in_([s.value for s in TaskStatus if s.open]))
    query = query.order_by(col(PlatformTask.requested_at).desc()).limit(MAX_LISTED)
    rows = [view(t) for t in uow.session.exec(query)]
    return sorted(rows, key=lambda v: (not v.open, -v.requested_at.timestamp()))
