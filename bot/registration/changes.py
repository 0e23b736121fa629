"""A unit's registrations after booking (/myreg): the list, and changing the day and session or
cancelling while the round's registration window is open. Registrations of units in the
administrator's subtree are theirs to see and change; the centralized exam's units also see
their seats.

A change or cancellation updates the bot's row (the unit's choice, for the overview) and, where
the platform takes registrations, asks the platform to follow (``platform_tasks``): a change as
an ``exam_registration`` task for the same registration with ``"change": true``, a cancellation
as an ``exam_registration_cancel`` task.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import update
from sqlmodel import col, select

from bot.core import rounds
from bot.core.errors import Refused
from bot.core.rounds import ExamRound
from bot.core.uow import UnitOfWork
from bot.org.access import city_or_operator, require_unit_scope
from bot.org.models import Unit
from bot.org.tree import subtree_ids
from bot.platform import tasks
from bot.platform.models import PlatformTask
from bot.platform.tasks import TaskView
from bot.registration import platform_tasks, schedule, seats
from bot.registration.assignment import is_centralized
from bot.registration.models import Registration, RegistrationLearner
from bot.registration.seats import UnitBooking

ACTIVE, CANCELLED = "active", "cancelled"


@dataclass(frozen=True)
class Listed:
    id: int
    round: ExamRound | None  # None: a round no longer in the config
    round_key: str
    unit_name: str
    exam_date: dt.date
    session_time: str
    count: int
    editable: bool  # the round's registration window is open
    platform: TaskView | None = None  # its latest platform task: where it stands on the platform


@dataclass(frozen=True)
class MyRegistrations:
    items: list[Listed]
    booked: list[UnitBooking]  # the centralized exam's seats of the administrator's own unit


@dataclass(frozen=True)
class CancelRegistration:
    registration_id: int
    queues_for_operator: bool | None = None  # the gateway's (see RegistrationRequest)


@dataclass(frozen=True)
class ChangeRegistration:
    registration_id: int
    exam_date: dt.date
    session_time: str
    queues_for_operator: bool | None = None  # the gateway's (see RegistrationRequest)


@dataclass(frozen=True)
class Changed:
    """A registration changed or cancelled: ``task_id`` is the platform task asking the
    platform to follow, None when the administrator does it on the platform themselves."""

    item: Listed
    task_id: str | None = None


def _listed(
    uow: UnitOfWork, registration: Registration, unit: Unit, platform: TaskView | None = None
) -> Listed:
    item = rounds.find(uow.config, registration.round_key)
    return Listed(
        registration.id or 0,
        item,
        registration.round_key,
        unit.name,
        registration.exam_date,
        registration.session_time,
        registration.learner_count,
        registration.status == ACTIVE
        and item is not None
        and schedule.is_open(uow.config, item, uow.now),
        platform,
    )


def standing_zone_registrations(uow: UnitOfWork, unit_code: str) -> list[Listed]:
    """The unit's (and its sub-units') active registrations for a zone round still to come:
    what withdrawing its leave to take the zone exam (/consent 撤销, /allow_zone 撤销) leaves
    in place. Nothing is cancelled here: a cancellation goes to the platform (``cancel``)."""
    city_or_operator(uow)
    unit = uow.session.exec(select(Unit).where(Unit.code == unit_code)).first()
    if unit is None:
        return []
    zone = [r.key for r in rounds.catalogue(uow.config) if r.is_zone]
    rows = uow.session.exec(
        select(Registration, Unit)
        .join(Unit, col(Unit.id) == col(Registration.unit_id))
        .where(
            col(Registration.unit_id).in_(subtree_ids(unit.path)),
            col(Registration.status) == ACTIVE,
            col(Registration.round_key).in_(zone),
            col(Registration.exam_date) >= uow.now.astimezone(uow.config.tz).date(),
        )
        .order_by(col(Registration.exam_date), col(Registration.session_time))
    ).all()
    return [_listed(uow, registration, owner) for registration, owner in rows]


def my_registrations(uow: UnitOfWork) -> MyRegistrations:
    identity = uow.authorize()
    rows = uow.session.exec(
        select(Registration, Unit)
        .join(Unit, col(Unit.id) == Registration.unit_id)
        .where(Registration.status == ACTIVE)
        .where(col(Unit.path).startswith(identity.unit_path))
        .order_by(
            col(Registration.round_key),
            col(Registration.exam_date),
            col(Registration.session_time),
        )
    ).all()
    own = uow.session.get(Unit, identity.unit_id)
    booked = (
        seats.unit_bookings(uow.session, uow.config, own)
        if own is not None and is_centralized(uow.config, own)
        else []
    )
    on_platform = platform_tasks.latest(uow.session, [(reg, unit) for reg, unit in rows])
    items = [_listed(uow, reg, unit, on_platform.get(reg.id or 0)) for reg, unit in rows]
    return MyRegistrations(items, booked)


def _owned(uow: UnitOfWork, registration_id: int) -> tuple[Registration, Unit, ExamRound]:
    """An active registration of the administrator's scope whose round is still open, and
    whose last platform task (if any) has been answered."""
    identity = uow.authorize()
    registration = uow.session.get(Registration, registration_id)
    if registration is None or registration.status != ACTIVE:
        raise Refused("registration_unknown")
    unit = uow.session.get(Unit, registration.unit_id)
    if unit is None:
        raise Refused("registration_unknown")
    require_unit_scope(identity, unit)
    item = schedule.find_round(uow.config, registration.round_key)
    schedule.require_open(uow.config, item, uow.now)
    platform_tasks.require_settled(uow, registration, unit)
    return registration, unit, item


def changeable(uow: UnitOfWork, registration_id: int) -> ExamRound:
    """The round of a registration this administrator may still change (window open)."""
    return _owned(uow, registration_id)[2]


def _follow(
    uow: UnitOfWork, registration: Registration, unit: Unit, task: PlatformTask | None
) -> Changed:
    uow.session.flush()
    if task is None:
        return Changed(_listed(uow, registration, unit))
    return Changed(_listed(uow, registration, unit, tasks.view(task)), task.id)


def cancellation(uow: UnitOfWork, registration_id: int) -> Listed:
    """What /myreg's cancel button would cancel, for the administrator to confirm first;
    nothing is written."""
    registration, unit, _item = _owned(uow, registration_id)
    return _listed(uow, registration, unit)


def cancel(uow: UnitOfWork, request: CancelRegistration) -> Changed:
    """The confirmed cancellation, once: the registration leaves "active" by a conditional
    UPDATE, so a second press (or two at once) cancels nothing more and asks the platform
    nothing more."""
    registration, unit, _item = _owned(uow, request.registration_id)
    claimed = cast(
        Any,
        uow.session.execute(
            update(Registration)
            .where(col(Registration.id) == registration.id, col(Registration.status) == ACTIVE)
            .values(status=CANCELLED, updated_at=uow.now)
        ),
    )
    if claimed.rowcount != 1:
        raise Refused("registration_unknown")
    uow.session.refresh(registration)
    for row in uow.session.exec(
        select(RegistrationLearner).where(RegistrationLearner.registration_id == registration.id)
    ):
        uow.session.delete(row)
    uow.audit(
        "registration.cancel",
        target=unit.name,
        detail={"id": registration.id, "round": registration.round_key},
    )
    task = None
    if platform_tasks.takes_registrations(uow, request.queues_for_operator):
        task = platform_tasks.submit_cancel(uow, registration, unit)
    return _follow(uow, registration, unit, task)


def change(uow: UnitOfWork, request: ChangeRegistration) -> Changed:
    registration, unit, item = _owned(uow, request.registration_id)
    schedule.require_sessions(uow.config, item)
    schedule.require_exam_day(item, request.exam_date)
    schedule.require_session(uow.config, request.session_time, item)
    before = (registration.exam_date.isoformat(), registration.session_time)
    registration.exam_date = request.exam_date
    registration.session_time = request.session_time
    registration.updated_at = uow.now
    uow.session.add(registration)
    uow.audit(
        "registration.change",
        target=unit.name,
        detail={
            "id": registration.id,
            "from": before,
            "to": (request.exam_date.isoformat(), request.session_time),
        },
    )
    task = None
    if platform_tasks.takes_registrations(uow, request.queues_for_operator):
        task = platform_tasks.submit_booking(uow, registration, unit, change=True)
    return _follow(uow, registration, unit, task)
