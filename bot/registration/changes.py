"""A unit's registrations after booking (/myreg): the list, and changing the day and session or
cancelling while the round's registration window is open. Registrations of units in the
administrator's subtree are theirs to see and change; the centralized exam's units also see
their seats.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import col, select

from bot.core import rounds
from bot.core.errors import Refused
from bot.core.rounds import ExamRound
from bot.core.uow import UnitOfWork
from bot.org.access import require_unit_scope
from bot.org.models import Unit
from bot.registration import schedule, seats
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


@dataclass(frozen=True)
class MyRegistrations:
    items: list[Listed]
    booked: list[UnitBooking]  # the centralized exam's seats of the administrator's own unit


@dataclass(frozen=True)
class CancelRegistration:
    registration_id: int


@dataclass(frozen=True)
class ChangeRegistration:
    registration_id: int
    exam_date: dt.date
    session_time: str


def _listed(uow: UnitOfWork, registration: Registration, unit: Unit) -> Listed:
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
        and schedule.is_open(item, uow.now.date()),
    )


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
    return MyRegistrations([_listed(uow, reg, unit) for reg, unit in rows], booked)


def _owned(uow: UnitOfWork, registration_id: int) -> tuple[Registration, Unit, ExamRound]:
    """An active registration of the administrator's scope whose round is still open."""
    identity = uow.authorize()
    registration = uow.session.get(Registration, registration_id)
    if registration is None or registration.status != ACTIVE:
        raise Refused("registration_unknown")
    unit = uow.session.get(Unit, registration.unit_id)
    if unit is None:
        raise Refused("registration_unknown")
    require_unit_scope(identity, unit)
    item = schedule.find_round(uow.config, registration.round_key)
    schedule.require_open(item, uow.now.date())
    return registration, unit, item


def changeable(uow: UnitOfWork, registration_id: int) -> ExamRound:
    """The round of a registration this administrator may still change (window open)."""
    return _owned(uow, registration_id)[2]


def cancel(uow: UnitOfWork, request: CancelRegistration) -> Listed:
    registration, unit, _item = _owned(uow, request.registration_id)
    registration.status = CANCELLED
    registration.updated_at = uow.now
    uow.session.add(registration)
    for row in uow.session.exec(
        select(RegistrationLearner).where(RegistrationLearner.registration_id == registration.id)
    ):
        uow.session.delete(row)
    uow.audit(
        "registration.cancel",
        target=unit.name,
        detail={"id": registration.id, "round": registration.round_key},
    )
    return _listed(uow, registration, unit)


def change(uow: UnitOfWork, request: ChangeRegistration) -> Listed:
    registration, unit, item = _owned(uow, request.registration_id)
    schedule.require_exam_day(item, request.exam_date)
    schedule.require_session(uow.config, request.session_time)
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
    return _listed(uow, registration, unit)
