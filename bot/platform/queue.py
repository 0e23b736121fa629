"""The operator's queue: in ``operator`` mode a person (the platform operator, by default the
city office) carries out each task on the platform by hand and marks it done or failed here.

Who sees what: an administrator sees their own tasks; the operator and the city office see every
open task. Marking claims the task with a conditional UPDATE first, so of two operators (or two
presses of one button) only one finishes it; the kind's effect runs in the same transaction
(``bot.platform.delivery.finish``) and the requester is told once through the notice claim.
Tasks left open too long are reminded to the operators, at most once per period per task.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, update
from sqlmodel import Session, col, select

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.identity import Identity
from bot.org.models import Administrator, Role, TelegramBinding, Unit
from bot.platform.delivery import Effect, finish
from bot.platform.models import PlatformTask, TaskStatus
from bot.platform.tasks import TaskView, find, listed, view

# Who works the queue: the operator, and the city office (the operator by default).
OPERATOR_ROLES = frozenset({Role.OPERATOR, Role.CITY})
OPERATOR_PAGE = 10  # open tasks shown (with buttons) in one /tasks message
OWN_SHOWN = 15  # an administrator's own tasks shown by /tasks
REMINDER_BATCH = 20  # overdue tasks named in one reminder
MAX_REASON = 300  # characters of an operator's reason kept for the requester

OPEN = tuple(s.value for s in TaskStatus if s.open)

NameLookup = Callable[[UnitOfWork, Collection[str]], Mapping[str, str]]
"""Learners' names by account, for the export (the shell passes the roster's lookup: the
platform port sits below the roster and does not read its tables)."""


@dataclass(frozen=True)
class Item:
    """A task with what the operator needs to carry it out: the unit's name, the learner's name
    when known, and whether it may be marked (operator mode, queued, shown to an operator)."""

    task: TaskView
    unit_name: str
    learner_name: str
    markable: bool


@dataclass(frozen=True)
class Board:
    """What ``/tasks`` shows. ``works_queue``: the viewer is an operator (all open tasks, oldest
    first); otherwise their own tasks, open first, newest first. ``counts``: tasks by status
    (all tasks for an operator, their own for an administrator)."""

    works_queue: bool
    operator_mode: bool
    items: tuple[Item, ...]
    counts: Mapping[str, int]

    @property
    def open_count(self) -> int:
        return sum(self.counts.get(s, 0) for s in OPEN)

    @property
    def finished_count(self) -> int:
        return sum(n for s, n in self.counts.items() if s not in OPEN)

    @property
    def hidden(self) -> int:
        """Tasks the message leaves out (an operator: open ones; an administrator: any)."""
        total = self.open_count if self.works_queue else sum(self.counts.values())
        return max(total - len(self.items), 0)


# --- who --------------------------------------------------------------------------------------


def works_queue(identity: Identity | None) -> bool:
    """The command line (None) and the operator roles work the queue."""
    return identity is None or identity.role in OPERATOR_ROLES


def _viewer(uow: UnitOfWork) -> Identity | None:
    """The administrator behind a Telegram origin; None for the server's command line."""
    if uow.origin.kind == "cli":
        return None
    identity: Identity = uow.authorize()
    return identity


def _operator(uow: UnitOfWork) -> str:
    """Who marks a task (the operator's unit, or the command line's label); refuses anyone who
    does not work the queue."""
    identity = _viewer(uow)
    if identity is None:
        return uow.origin.label or uow.origin.kind
    if not works_queue(identity):
        raise Refused("operator_only")
    return identity.unit_name


# --- reading ----------------------------------------------------------------------------------


def board(uow: UnitOfWork, *, operator_mode: bool) -> Board:
    """``/tasks``: the operator's queue, or an administrator's own tasks."""
    identity = _viewer(uow)
    if works_queue(identity):
        rows = _open_tasks(uow.session, limit=OPERATOR_PAGE)
        return Board(True, operator_mode, _items(uow, rows, operator_mode), _counts(uow.session))
    assert identity is not None
    own = listed(uow, requested_by=identity.admin_id)[:OWN_SHOWN]
    units = _units(uow.session, [t.unit_code for t in own])
    items = tuple(_item(t, units, {}) for t in own)
    return Board(False, operator_mode, items, _counts(uow.session, identity.admin_id))


def queue(
    uow: UnitOfWork, *, include_finished: bool = False, names: NameLookup | None = None
) -> list[Item]:
    """Every open task, oldest first (with ``include_finished``: every task, open ones
    first), for the operator's table and export. Operators only."""
    _operator(uow)
    if include_finished:
        query = select(PlatformTask).order_by(col(PlatformTask.requested_at))
        rows = sorted(uow.session.exec(query), key=lambda t: not TaskStatus(t.status).open)
    else:
        rows = _open_tasks(uow.session)
    views = [view(t) for t in rows]
    learners = names(uow, {v.account for v in views if v.account}) if names else {}
    units = _units(uow.session, [v.unit_code for v in views])
    return [_item(v, units, learners) for v in views]


def _open_tasks(session: Session, limit: int | None = None) -> list[PlatformTask]:
    query = (
        select(PlatformTask)
        .where(col(PlatformTask.status).in_(OPEN))
        .order_by(col(PlatformTask.requested_at), col(PlatformTask.id))
    )
    if limit is not None:
        query = query.limit(limit)
    return list(session.exec(query))


def _counts(session: Session, requested_by: int | None = None) -> dict[str, int]:
    query = select(PlatformTask.status)
    if requested_by is not None:
        query = query.where(PlatformTask.requested_by == requested_by)
    return dict(Counter(session.exec(query)))


def _units(session: Session, codes: Sequence[str]) -> dict[str, str]:
    wanted = {c for c in codes if c}
    if not wanted:
        return {}
    rows = session.exec(select(Unit.code, Unit.name).where(col(Unit.code).in_(wanted)))
    return dict(rows.all())


def _items(uow: UnitOfWork, rows: Sequence[PlatformTask], operator_mode: bool) -> tuple[Item, ...]:
    units = _units(uow.session, [t.unit_code for t in rows])
    return tuple(
        _item(view(t), units, {}, markable=operator_mode and _queued(t.status)) for t in rows
    )


def _item(
    task: TaskView,
    units: Mapping[str, str],
    learners: Mapping[str, str],
    *,
    markable: bool = False,
) -> Item:
    learner = str(task.fields.get("learner_name") or learners.get(task.account, ""))
    unit = str(task.fields.get("unit_name") or units.get(task.unit_code, ""))
    return Item(task=task, unit_name=unit, learner_name=learner, markable=markable)


def _queued(status: str) -> bool:
    return status == TaskStatus.QUEUED.value


# --- marking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MarkRequest:
    """The operator carried a task out on the platform (``applied``) or could not (with the
    reason the requester reads). ``operator_mode``: the bot's gateway queues tasks for a person;
    otherwise tasks are delivered by the bot and nobody may mark them by hand."""

    task_id: str
    applied: bool
    reason: str = ""
    operator_mode: bool = True


def markable(uow: UnitOfWork, task_id: str, *, operator_mode: bool) -> TaskView:
    """The task an operator is about to mark (before asking for a failure's reason): the same
    checks as ``mark``, nothing written."""
    _operator(uow)
    return view(_open_task(uow, task_id, operator_mode))


def mark(uow: UnitOfWork, request: MarkRequest, effects: Mapping[str, Effect]) -> TaskView:
    """Mark a queued task done or failed, once: the claim lets one of two operators (or two
    presses) through; the other is refused and nothing changes. A done task's effect runs in
    this transaction; the requester is told by the notice worker."""
    by = _operator(uow)
    if not request.task_id.strip():
        raise Refused("task_id_missing")
    reason = " ".join(request.reason.split())
    if not request.applied and not reason:
        raise Refused("task_reason_missing", ends=False)
    if len(reason) > MAX_REASON:
        raise Refused("task_reason_long", ends=False, limit=MAX_REASON)
    task = _open_task(uow, request.task_id, request.operator_mode)
    status = TaskStatus.APPLIED if request.applied else TaskStatus.REFUSED
    _claim(uow, task, status)
    return finish(uow, task, applied=request.applied, reason=reason, by=by, effects=effects)


def _open_task(uow: UnitOfWork, task_id: str, operator_mode: bool) -> PlatformTask:
    if not operator_mode:
        raise Refused("tasks_delivered_by_bot")
    task = find(uow, task_id)
    if task is None:
        raise Refused("task_unknown", id=task_id.strip()[:32])
    if not _queued(task.status):
        raise Refused("task_finished", id=task.id[:8], status=task.status)
    return task


def _claim(uow: UnitOfWork, task: PlatformTask, status: TaskStatus) -> None:
    """Take the task from the queue, unless another operator took it a moment ago."""
    taken = cast(
        CursorResult[Any],
        uow.session.execute(
            update(PlatformTask)
            .where(
                col(PlatformTask.id) == task.id,
                col(PlatformTask.status) == TaskStatus.QUEUED.value,
            )
            .values(status=status.value)
        ),
    )
    uow.session.refresh(task)
    if taken.rowcount != 1:
        raise Refused("task_finished", id=task.id[:8], status=task.status)


# --- reminders --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Reminder:
    """Tasks open longer than ``operator_reminder_hours``, claimed for one reminder to the
    operators' private chats."""

    chat_ids: tuple[int, ...]
    items: tuple[Item, ...]
    hours: int
    open_count: int


def operator_chats(session: Session) -> tuple[int, ...]:
    """The private chats of the bound operators and city office administrators."""
    rows = session.exec(
        select(TelegramBinding.telegram_user_id)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .where(col(Administrator.role).in_([r.value for r in OPERATOR_ROLES]))
        .where(col(TelegramBinding.revoked_at).is_(None))
        .order_by(col(TelegramBinding.telegram_user_id))
    )
    return tuple(dict.fromkeys(rows))


def claim_reminders(uow: UnitOfWork) -> Reminder | None:
    """The queued tasks due a reminder (open a period or more, not reminded within the last
    period), each claimed so that it is reminded once per period even with two workers. None
    when nothing is due or no operator is bound to be told (then nothing is claimed)."""
    chats = operator_chats(uow.session)
    if not chats:
        return None
    hours = uow.config.platform.operator_reminder_hours
    cutoff = uow.now - dt.timedelta(hours=hours)
    due = uow.session.exec(
        select(PlatformTask)
        .where(PlatformTask.status == TaskStatus.QUEUED.value)
        .where(col(PlatformTask.requested_at) <= cutoff)
        .where(col(PlatformTask.reminded_at).is_(None) | (col(PlatformTask.reminded_at) <= cutoff))
        .order_by(col(PlatformTask.requested_at))
        .limit(REMINDER_BATCH)
    ).all()
    claimed = [t for t in due if _claim_reminder(uow, t)]
    if not claimed:
        return None
    uow.audit("platform.remind", detail={"tasks": [t.id for t in claimed], "chats": len(chats)})
    items = _items(uow, claimed, operator_mode=True)
    open_count = sum(_counts(uow.session).get(s, 0) for s in OPEN)
    return Reminder(chat_ids=chats, items=items, hours=hours, open_count=open_count)


def _claim_reminder(uow: UnitOfWork, task: PlatformTask) -> bool:
    last = task.reminded_at
    same = (
        col(PlatformTask.reminded_at).is_(None)
        if last is None
        else (col(PlatformTask.reminded_at) == last)
    )
    taken = cast(
        CursorResult[Any],
        uow.session.execute(
            update(PlatformTask)
            .where(col(PlatformTask.id) == task.id, same)
            .values(reminded_at=uow.now)
        ),
    )
    return taken.rowcount == 1
