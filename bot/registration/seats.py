"""Centralized-exam seats (集中考试): the listed units pre-register seats in the slots the config
gives, each slot holding at most its capacity; the city office confirms the final allocation.

The capacity holds under concurrent bookings because the database enforces it: a booking moves
``seat_slots.used`` with one conditional UPDATE (``used + n <= capacity``) and a CHECK constraint
backs it up, so no interleaving of requests can overfill a slot.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.config import Config
from bot.core.errors import Refused
from bot.org.identity import Identity
from bot.org.models import Unit
from bot.registration.models import SeatBooking, SeatSlot
from bot.registration.service import registering_unit

MAX_SEATS = 2000


def ensure_slots(session: Session, config: Config) -> int:
    """Create the configured slots that do not exist yet (idempotent); return how many."""
    created = 0
    cz = config.centralized
    existing = {(s.exam_date, s.slot_index) for s in session.exec(select(SeatSlot))}
    for day in cz.exam.days():
        for index, _slot in enumerate(cz.slots):
            if (day, index) not in existing:
                session.add(
                    SeatSlot(exam_date=day, slot_index=index, capacity=cz.capacity_per_slot)
                )
                created += 1
    return created


@dataclass(frozen=True)
class SlotView:
    id: int
    exam_date: dt.date
    index: int
    label: str
    start: dt.time
    end: dt.time
    used: int
    capacity: int
    confirmed: int

    @property
    def left(self) -> int:
        return self.capacity - self.used


def slots(session: Session, config: Config) -> list[SlotView]:
    rows = session.exec(select(SeatSlot).order_by(SeatSlot.exam_date, SeatSlot.slot_index)).all()
    confirmed: dict[int, int] = {}
    for booking in session.exec(select(SeatBooking).where(SeatBooking.status == "confirmed")):
        confirmed[booking.slot_id] = confirmed.get(booking.slot_id, 0) + booking.seats
    views = []
    for row in rows:
        if row.slot_index >= len(config.centralized.slots):
            continue
        spec = config.centralized.slots[row.slot_index]
        views.append(
            SlotView(
                row.id,
                row.exam_date,
                row.slot_index,
                spec.label,
                spec.start,
                spec.end,
                row.used,
                row.capacity,
                confirmed.get(row.id, 0),
            )
        )
    return views


def centralized_unit(
    session: Session, config: Config, identity: Identity, unit_code: str | None
) -> Unit:
    unit = registering_unit(session, identity, unit_code)
    if unit.name not in config.centralized.units:
        raise Refused("not_centralized", unit=unit.name)
    return unit


def require_window(config: Config, now: dt.datetime) -> None:
    window = config.centralized.preregistration
    if not window.contains(now.date()):
        state = "upcoming" if now.date() < window.start else "closed"
        raise Refused(f"seats_{state}", start=window.start, end=window.end)


def split(views: list[SlotView], first_slot_id: int, seats: int) -> list[tuple[SlotView, int]]:
    """Seats for a unit larger than what the chosen slot has left: the chosen slot first, then
    the following slots in order (the notice: batch it)."""
    chosen = next(v for v in views if v.id == first_slot_id)
    position = (chosen.exam_date, chosen.index)
    later = [v for v in views if (v.exam_date, v.index) > position]
    earlier = [v for v in views if (v.exam_date, v.index) < position]
    order = [chosen, *later, *earlier]
    parts: list[tuple[SlotView, int]] = []
    remaining = seats
    for view in order:
        take = min(view.left, remaining)
        if take > 0:
            parts.append((view, take))
            remaining -= take
        if remaining == 0:
            return parts
    raise Refused("seats_exhausted", seats=seats, left=seats - remaining)


def propose(
    session: Session,
    config: Config,
    identity: Identity,
    *,
    slot_id: int,
    seats: int,
    now: dt.datetime,
    unit_code: str | None = None,
) -> tuple[Unit, list[tuple[SlotView, int]]]:
    """Check a booking request and say how it would be placed; nothing is written."""
    require_window(config, now)
    unit = centralized_unit(session, config, identity, unit_code)
    if not 1 <= seats <= MAX_SEATS:
        raise Refused("count_range", max=MAX_SEATS)
    views = slots(session, config)
    if not any(v.id == slot_id for v in views):
        raise Refused("slot_unknown")
    return unit, split(views, slot_id, seats)


def book(
    session: Session,
    config: Config,
    identity: Identity,
    unit: Unit,
    parts: list[tuple[int, int]],
    now: dt.datetime,
    chat_id: int | None = None,
) -> list[SeatBooking]:
    """Book ``(slot_id, seats)`` parts all together or not at all."""
    require_window(config, now)
    bookings = []
    for slot_id, seats in parts:
        if seats <= 0:
            raise Refused("count_range", max=MAX_SEATS)
        moved = session.execute(
            update(SeatSlot)
            .where(col(SeatSlot.id) == slot_id)
            .where(col(SeatSlot.used) + seats <= col(SeatSlot.capacity))
            .values(used=col(SeatSlot.used) + seats)
        )
        if moved.rowcount != 1:
            raise Refused("slot_full")  # the caller's transaction rolls every part back
        booking = SeatBooking(
            slot_id=slot_id,
            unit_id=unit.id,
            seats=seats,
            admin_id=identity.admin_id,
            created_at=now,
        )
        session.add(booking)
        bookings.append(booking)
    session.flush()
    audit.record_by(
        session,
        identity,
        at=now,
        action="seats.book",
        target=unit.name,
        detail={"parts": parts},
        chat_id=chat_id,
    )
    return bookings


def cancel_unit(
    session: Session,
    config: Config,
    identity: Identity,
    unit: Unit,
    now: dt.datetime,
    chat_id: int | None = None,
) -> int:
    """Give back every pre-registered (unconfirmed) seat of ``unit``."""
    require_window(config, now)
    freed = 0
    for booking in session.exec(
        select(SeatBooking).where(SeatBooking.unit_id == unit.id, SeatBooking.status == "pre")
    ):
        session.execute(
            update(SeatSlot)
            .where(col(SeatSlot.id) == booking.slot_id)
            .values(used=col(SeatSlot.used) - booking.seats)
        )
        booking.status = "cancelled"
        session.add(booking)
        freed += booking.seats
    if freed:
        audit.record_by(
            session,
            identity,
            at=now,
            action="seats.cancel",
            target=unit.name,
            detail={"seats": freed},
            chat_id=chat_id,
        )
    return freed


def confirm_all(
    session: Session, identity: Identity, now: dt.datetime, chat_id: int | None = None
) -> int:
    """The city office fixes the allocation: every pre-registered booking becomes confirmed."""
    from bot.org.admins import require_city

    require_city(identity)
    result = session.execute(
        update(SeatBooking).where(col(SeatBooking.status) == "pre").values(status="confirmed")
    )
    audit.record_by(
        session,
        identity,
        at=now,
        action="seats.confirm",
        target="all",
        detail={"bookings": result.rowcount},
        chat_id=chat_id,
    )
    return result.rowcount


@dataclass(frozen=True)
class UnitBooking:
    slot: SlotView
    seats: int
    status: str


def unit_bookings(session: Session, config: Config, unit: Unit) -> list[UnitBooking]:
    views = {v.id: v for v in slots(session, config)}
    rows = session.exec(
        select(SeatBooking)
        .where(SeatBooking.unit_id == unit.id, SeatBooking.status != "cancelled")
        .order_by(SeatBooking.slot_id)
    ).all()
    return [UnitBooking(views[b.slot_id], b.seats, b.status) for b in rows if b.slot_id in views]
