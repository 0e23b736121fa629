"""The exemption flag on the platform (如法网), which is the system of record.

Per the notice, once the city office has a filing on file, the learner is shown as exempt "on the
system". The bot does not flip its own ``learners.exempt`` for that: the city office's filing
(``/exempt_file``) writes an ``exemption_set`` task, a revocation after a spot-check
(``/exempt_revoke``) an ``exemption_clear`` task, each in the same transaction as the filing's
step and its audit row. Only when the platform has applied a task does the bot mirror it (the
effects below, wired in ``bot.effects``), in the transaction that records the platform's answer.

The kinds' own fields, for docs/platform-api.md (besides id, kind, account, unit_code,
requested_by, requested_at):

    exemption_set    filing_id (int, the bot's filing number), reason ("retirement" |
                     "maternity" | "illness"), retirement_date ("YYYY-MM-DD", retirement only)
    exemption_clear  filing_id (int), note (str: why the city office revoked it)
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.core.uow import UnitOfWork
from bot.exemptions.models import ExemptionFiling
from bot.org.models import Unit
from bot.platform import tasks
from bot.platform.models import PlatformTask, TaskKind, TaskStatus
from bot.platform.tasks import TaskRequest, TaskView
from bot.roster.models import Learner

KINDS = (TaskKind.EXEMPTION_SET.value, TaskKind.EXEMPTION_CLEAR.value)


def _rank(task: PlatformTask) -> int:
    """Which of a filing's tasks tells its state best: an open one, then an applied one, then
    the rest (a set refused and submitted again is told by the second one)."""
    if TaskStatus(task.status).open:
        return 0
    return 1 if task.status == TaskStatus.APPLIED.value else 2


def _tasks_of(session: Session, account: str) -> list[PlatformTask]:
    return list(
        session.exec(
            select(PlatformTask)
            .where(PlatformTask.account == account)
            .where(col(PlatformTask.kind).in_(KINDS))
            .order_by(col(PlatformTask.requested_at).desc())
        )
    )


def open_task(session: Session, account: str) -> PlatformTask | None:
    """An exemption task for this learner that the platform has not answered yet: while there
    is one, no other is written (the platform must apply set and clear in the order given)."""
    return next((t for t in _tasks_of(session, account) if TaskStatus(t.status).open), None)


def task_of(session: Session, filing: ExemptionFiling, account: str, kind: str) -> TaskView | None:
    """The task of ``kind`` that tells where the filing stands on the platform, if any."""
    mine = [
        t
        for t in _tasks_of(session, account)
        if t.kind == kind and tasks.fields_of(t).get("filing_id") == filing.id
    ]
    mine.sort(key=_rank)  # stable: the newest first within a rank
    return tasks.view(mine[0]) if mine else None


def request_set(
    uow: UnitOfWork, filing: ExemptionFiling, learner: Learner, unit: Unit
) -> PlatformTask:
    """Ask the platform to show the learner as exempt (the city office has it on file)."""
    fields: dict[str, Any] = {"filing_id": filing.id, "reason": filing.reason}
    if filing.retirement_date is not None:
        fields["retirement_date"] = filing.retirement_date.isoformat()
    return tasks.submit(
        uow, TaskRequest(TaskKind.EXEMPTION_SET, learner.account, unit.code, fields)
    )


def request_clear(
    uow: UnitOfWork, filing: ExemptionFiling, learner: Learner, unit: Unit, note: str
) -> PlatformTask:
    """Ask the platform to undo the exemption (the city office revoked the filing)."""
    fields = {"filing_id": filing.id, "note": note}
    return tasks.submit(
        uow, TaskRequest(TaskKind.EXEMPTION_CLEAR, learner.account, unit.code, fields)
    )


def _learner_of(uow: UnitOfWork, task: TaskView) -> Learner | None:
    """The task's learner: by its filing (an account may have been renamed since), else by
    the account the platform applied it to."""
    filing_id = task.fields.get("filing_id")
    filing = uow.session.get(ExemptionFiling, filing_id) if isinstance(filing_id, int) else None
    if filing is not None:
        return uow.session.get(Learner, filing.learner_id)
    return uow.session.exec(select(Learner).where(Learner.account == task.account)).first()


def _mirror(uow: UnitOfWork, task: TaskView, exempt: bool) -> None:
    learner = _learner_of(uow, task)
    if learner is None or learner.exempt == exempt:
        return
    learner.exempt = exempt
    learner.updated_at = uow.now
    uow.session.add(learner)


def on_set_applied(uow: UnitOfWork, task: TaskView) -> None:
    """The platform shows the learner as exempt: so does the bot."""
    _mirror(uow, task, True)


def on_clear_applied(uow: UnitOfWork, task: TaskView) -> None:
    """The platform no longer shows the learner as exempt: neither does the bot."""
    _mirror(uow, task, False)


EFFECTS = {
    TaskKind.EXEMPTION_SET.value: on_set_applied,
    TaskKind.EXEMPTION_CLEAR.value: on_clear_applied,
}
"""This capability's effects, by task kind (merged into ``bot.effects.EFFECTS``)."""
