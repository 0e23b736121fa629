"""Exam registrations on the platform (如法网, the system of record), where 报考 really happens.

The bot's own registration row is the unit's choice, kept for the city office's overview
(``/status``, ``/export``) whatever the gateway. Whether the platform is also asked to register
the unit depends on the gateway, and the gateway says so (``queues_for_operator``): one that
delivers tasks (``http``, ``sandbox``) gets an ``exam_registration`` task for a booking and its
change, an ``exam_registration_cancel`` task for a cancellation, written in the same transaction
as the row and its audit row; one that queues tasks for a person (``operator``) gets none, since a
round brings hundreds of units: each unit's administrator completes 报考 on the platform, and the
bot tells them how.

The kinds' own fields, for docs/platform-api.md (besides id, kind, account = "", unit_code,
requested_by, requested_at):

    exam_registration         registration_id (int: the bot's registration number, the same for
                              a booking and all its changes), round ("zone1" | "zone2" |
                              "makeup"), round_name, exam_date ("YYYY-MM-DD"), session_time
                              ("HH:MM"), count (int), accounts ([str], only when the unit named its
                              learners), unit_name, and "change": true when it replaces the day and
                              session of the registration_id booked before (absent on a booking)
    exam_registration_cancel  registration_id, round, round_name, exam_date, session_time,
                              unit_name: the booking to withdraw

One task per registration at a time: a change or cancellation waits until the platform has
answered the task before it, so the platform receives them in the order they were made.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from bot.core import rounds
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.models import Unit
from bot.platform import tasks
from bot.platform.models import PlatformTask, TaskKind, TaskStatus
from bot.platform.tasks import TaskRequest, TaskView
from bot.registration.models import Registration, RegistrationLearner
from bot.roster.models import Learner

KINDS = (TaskKind.EXAM_REGISTRATION.value, TaskKind.EXAM_REGISTRATION_CANCEL.value)


def takes_registrations(uow: UnitOfWork, queues_for_operator: bool | None) -> bool:
    """Whether the platform is asked to register units (see the module's docstring). The
    caller passes its gateway's ``queues_for_operator``; None reads ``[platform] gateway``."""
    if queues_for_operator is None:
        queues_for_operator = uow.config.platform.gateway == "operator"
    return not queues_for_operator


def _accounts(session: Session, registration_id: int) -> list[str]:
    rows = session.exec(
        select(Learner.account)
        .join(RegistrationLearner, col(RegistrationLearner.learner_id) == col(Learner.id))
        .where(RegistrationLearner.registration_id == registration_id)
        .order_by(col(Learner.account))
    )
    return list(rows)


def _booking(uow: UnitOfWork, registration: Registration, unit: Unit) -> dict[str, Any]:
    return {
        "registration_id": registration.id,
        "round": registration.round_key,
        "round_name": rounds.name(uow.config, registration.round_key),
        # A round the platform schedules itself (the province-wide makeup) has no day or session
        # of the unit's choosing: both are sent empty.
        "exam_date": registration.exam_date.isoformat() if registration.session_time else "",
        "session_time": registration.session_time,
        "unit_name": unit.name,
    }


def submit_booking(
    uow: UnitOfWork, registration: Registration, unit: Unit, *, change: bool = False
) -> PlatformTask:
    """Ask the platform to register the unit for the booking (or, ``change``, to move the
    booking made before to its new day and session)."""
    assert registration.id is not None  # flushed by the caller
    fields = {**_booking(uow, registration, unit), "count": registration.learner_count}
    accounts = _accounts(uow.session, registration.id)
    if accounts:
        fields["accounts"] = accounts
    if change:
        fields["change"] = True
    return tasks.submit(
        uow, TaskRequest(TaskKind.EXAM_REGISTRATION, unit_code=unit.code, fields=fields)
    )


def submit_cancel(uow: UnitOfWork, registration: Registration, unit: Unit) -> PlatformTask:
    """Ask the platform to withdraw the booking."""
    fields = _booking(uow, registration, unit)
    return tasks.submit(
        uow, TaskRequest(TaskKind.EXAM_REGISTRATION_CANCEL, unit_code=unit.code, fields=fields)
    )


def _tasks_of_units(session: Session, unit_codes: set[str]) -> list[PlatformTask]:
    if not unit_codes:
        return []
    return list(
        session.exec(
            select(PlatformTask)
            .where(col(PlatformTask.kind).in_(KINDS))
            .where(col(PlatformTask.unit_code).in_(sorted(unit_codes)))
            .order_by(col(PlatformTask.requested_at))
        )
    )


def _registration_of(task: PlatformTask) -> int | None:
    value = tasks.fields_of(task).get("registration_id")
    return value if isinstance(value, int) else None


def latest(session: Session, booked: list[tuple[Registration, Unit]]) -> dict[int, TaskView]:
    """The latest platform task of each registration (an open one before any other): where
    the registration stands on the platform."""
    wanted = {r.id for r, _ in booked}
    found: dict[int, PlatformTask] = {}
    for task in _tasks_of_units(session, {u.code for _, u in booked}):
        reg_id = _registration_of(task)
        if reg_id not in wanted or reg_id is None:
            continue
        before = found.get(reg_id)
        if before is None or not TaskStatus(before.status).open:
            found[reg_id] = task
    return {reg_id: tasks.view(task) for reg_id, task in found.items()}


def require_settled(uow: UnitOfWork, registration: Registration, unit: Unit) -> None:
    """Refuse a change or cancellation while the platform has not answered the registration's
    previous task (it would reach the platform before, or instead of, the one it follows)."""
    for task in _tasks_of_units(uow.session, {unit.code}):
        if _registration_of(task) == registration.id and TaskStatus(task.status).open:
            raise Refused("registration_task_open", id=registration.id, task=task.id[:8])
