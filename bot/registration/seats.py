"""Centralized-exam seats (集中考试): the listed units pre-register seats in the slots the config
gives, each slot holding at most its capacity; the city office confirms the final allocation.

The capacity holds under concurrent bookings because the database enforces it: a booking moves
``seat_slots.used`` with one conditional UPDATE (``used + n <= capacity``) and a CHECK constraint
backs it up, so no interleaving of requests can overfill a slot.

A unit books through a proposal the server keeps (``bot.registration.seat_proposals``) and
gives its seats back in two steps too (``release_preview``, then ``release``).

The city office's confirmation is two steps: ``confirmation`` shows what is pending, and
``confirm`` fixes exactly that (the bookings it showed, no later ones), once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import update
from sqlmodel import Session, col, func, select

from bot.core import windows
from bot.core.config import Config
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.access import require_city, unit_in_scope
from bot.org.models import Unit
from bot.registration.assignment import is_centralized
from bot.registration.models import SeatBooking, SeatSlot
from bot.roster.accounts import typed_form

MAX_SEATS = 2000
PRE, CONFIRMED, CANCELLED = "pre", "confirmed", "cancelled"


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
    rows = session.exec(
        select(SeatSlot).order_by(col(SeatSlot.exam_date), col(SeatSlot.slot_index))
    ).all()
    confirmed: dict[int, int] = {}
    for booking in session.exec(select(SeatBooking).where(SeatBooking.status == CONFIRMED)):
        confirmed[booking.slot_id] = confirmed.get(booking.slot_id, 0) + booking.seats
    views = []
    for row in rows:
        if row.id is None or row.slot_index >= len(config.centralized.slots):
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


@dataclass(frozen=True)
class UnitBooking:
    slot: SlotView
    seats: int
    status: str


def unit_bookings(session: Session, config: Config, unit: Unit) -> list[UnitBooking]:
    views = {v.id: v for v in slots(session, config)}
    rows = session.exec(
        select(SeatBooking)
        .where(SeatBooking.unit_id == unit.id, SeatBooking.status != CANCELLED)
        .order_by(col(SeatBooking.slot_id))
    ).all()
    return [UnitBooking(views[b.slot_id], b.seats, b.status) for b in rows if b.slot_id in views]


# --- the table and the requests ---------------------------------------------------------------


@dataclass(frozen=True)
class SeatTable:
    views: list[SlotView]
    mine: list[UnitBooking]  # the administrator's own unit's seats


@dataclass(frozen=True)
class Freed:
    unit_name: str
    seats: int


def table(uow: UnitOfWork) -> SeatTable:
    """/seats: every slot with its use, and the administrator's own unit's seats."""
    identity = uow.authorize()
    own = uow.session.get(Unit, identity.unit_id)
    mine = unit_bookings(uow.session, uow.config, own) if own is not None else []
    return SeatTable(slots(uow.session, uow.config), mine)


def centralized_unit(uow: UnitOfWork) -> Unit:
    """The administrator's unit, which must be on the centralized exam's list."""
    unit = unit_in_scope(uow.session, uow.authorize(), None)
    if not is_centralized(uow.config, unit):
        raise Refused("not_centralized", unit=unit.name)
    return unit


def require_window(config: Config, now: dt.datetime) -> None:
    """Refuse unless the centralized exam's pre-registration is open at ``now`` (it closes at
    ``day_deadline`` on its last day, ``bot.core.windows``)."""
    window = config.centralized.preregistration
    state = windows.state(config, window, now)
    if state != windows.OPEN:
        raise Refused(
            f"seats_{state}",
            start=window.start,
            end=window.end,
            closes=windows.closes_at(config, window.end),
        )


def parse_seats(text: str) -> int:
    """A number of seats as typed after /seats_book: ASCII digits (full-width ones folded)."""
    text = typed_form(text).strip()
    if not (text.isascii() and text.isdigit()):
        raise Refused("count_range", max=MAX_SEATS)
    return int(text)


def require_seats(seats: int) -> None:
    if not 1 <= seats <= MAX_SEATS:
        raise Refused("count_range", max=MAX_SEATS)


def split(views: list[SlotView], first_slot_id: int, seats: int) -> list[tuple[SlotView, int]]:
    """Seats for a unit larger than what the chosen slot has left: the chosen slot first, then
    the following slots in order (the notice: batch it)."""
    chosen = next(v for v in views if v.id == first_slot_id)
    position = (chosen.exam_date, chosen.index)
    later = [v for v in views if (v.exam_date, v.index) > position]
    earlier = [v for v in views if (v.exam_date, v.index) < position]
    parts: list[tuple[SlotView, int]] = []
    remaining = seats
    for view in [chosen, *later, *earlier]:
        take = min(view.left, remaining)
        if take > 0:
            parts.append((view, take))
            remaining -= take
        if remaining == 0:
            return parts
    raise Refused("seats_exhausted", seats=seats, left=seats - remaining)


def place(uow: UnitOfWork, unit: Unit, parts: list[tuple[int, int]]) -> None:
    """Book ``(slot_id, seats)`` parts for ``unit`` all together or not at all: a slot that
    cannot take its part refuses, and the unit of work rolls every part back."""
    admin_id = uow.authorize().admin_id
    for slot_id, seats in parts:
        require_seats(seats)
        moved = cast(
            Any,
            uow.session.execute(
                update(SeatSlot)
                .where(col(SeatSlot.id) == slot_id)
                .where(col(SeatSlot.used) + seats <= col(SeatSlot.capacity))
                .values(used=col(SeatSlot.used) + seats)
            ),
        )
        if moved.rowcount != 1:
            raise Refused("slot_full")
        uow.session.add(
            SeatBooking(
                slot_id=slot_id,
                unit_id=unit.id or 0,
                seats=seats,
                admin_id=admin_id,
                created_at=uow.now,
            )
        )
    uow.session.flush()
    uow.audit("seats.book", target=unit.name, detail={"parts": parts})


@dataclass(frozen=True)
class Release:
    """What /seats_cancel would give back: the unit's pre-registered seats, numbered up to
    ``up_to`` (``bookings`` of them; what ``ReleaseSeats`` must match)."""

    unit_name: str
    held: list[UnitBooking]
    up_to: int  # the last one's booking id (0: none)
    bookings: int

    @property
    def seats(self) -> int:
        return sum(b.seats for b in self.held)


@dataclass(frozen=True)
class ReleaseSeats:
    """Give back the ``count`` pre-registered bookings a release showed, numbered up to
    ``up_to``: a booking made after it was shown is not given back by its button."""

    up_to: int
    count: int


def _held(uow: UnitOfWork, unit: Unit, up_to: int | None = None) -> list[SeatBooking]:
    query = select(SeatBooking).where(SeatBooking.unit_id == unit.id, SeatBooking.status == PRE)
    if up_to is not None:
        query = query.where(col(SeatBooking.id) <= up_to)
    return list(uow.session.exec(query.order_by(col(SeatBooking.id))))


def release_preview(uow: UnitOfWork) -> Release:
    """/seats_cancel: the seats it would give back; nothing is written."""
    unit = centralized_unit(uow)
    require_window(uow.config, uow.now)
    rows = _held(uow, unit)
    views = {v.id: v for v in slots(uow.session, uow.config)}
    held = [UnitBooking(views[b.slot_id], b.seats, b.status) for b in rows if b.slot_id in views]
    return Release(unit.name, held, max((b.id or 0 for b in rows), default=0), len(rows))


def release(uow: UnitOfWork, request: ReleaseSeats) -> Freed:
    """Give back the pre-registered seats the unit was shown, once: each booking leaves "pre"
    by a conditional UPDATE, and only a booking that left it gives its seats back. Pressed
    again (nothing left) or after the list changed, nothing is written."""
    unit = centralized_unit(uow)
    require_window(uow.config, uow.now)
    rows = _held(uow, unit, request.up_to)
    if not rows:
        raise Refused("seats_nothing_to_release", unit=unit.name)
    if len(rows) != request.count:
        raise Refused("seats_release_changed")
    freed = 0
    for booking in rows:
        claimed = cast(
            Any,
            uow.session.execute(
                update(SeatBooking)
                .where(col(SeatBooking.id) == booking.id, col(SeatBooking.status) == PRE)
                .values(status=CANCELLED)
            ),
        )
        if claimed.rowcount != 1:
            raise Refused("seats_release_changed")
        uow.session.execute(
            update(SeatSlot)
            .where(col(SeatSlot.id) == booking.slot_id)
            .values(used=col(SeatSlot.used) - booking.seats)
        )
        freed += booking.seats
    uow.audit("seats.cancel", target=unit.name, detail={"seats": freed})
    return Freed(unit.name, freed)


# --- the city office's confirmation -------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    unit_name: str
    slot: SlotView
    seats: int


@dataclass(frozen=True)
class Confirmation:
    """What a confirmation would fix: the pending bookings up to booking ``up_to``."""

    pending: list[Pending]
    up_to: int  # the last pending booking's id (0: none)
    bookings: int  # pending bookings up to it (what ``ConfirmSeats.count`` must match)

    @property
    def seats(self) -> int:
        return sum(p.seats for p in self.pending)


@dataclass(frozen=True)
class ConfirmSeats:
    """Confirm the ``count`` pending bookings a confirmation showed, numbered up to ``up_to``."""

    up_to: int
    count: int


def confirmation(uow: UnitOfWork) -> Confirmation:
    """/seats_confirm: the pending bookings the city office would confirm; nothing is written."""
    require_city(uow.authorize())
    rows = uow.session.exec(
        select(SeatBooking, Unit)
        .join(Unit, col(Unit.id) == SeatBooking.unit_id)
        .where(SeatBooking.status == PRE)
        .order_by(col(SeatBooking.id))
    ).all()
    views = {v.id: v for v in slots(uow.session, uow.config)}
    pending = [Pending(u.name, views[b.slot_id], b.seats) for b, u in rows if b.slot_id in views]
    up_to = max((b.id or 0 for b, _u in rows), default=0)
    return Confirmation(pending, up_to, len(rows))


def confirm(uow: UnitOfWork, request: ConfirmSeats) -> int:
    """The city office fixes the allocation it was shown: those pre-registered bookings become
    confirmed. Nothing pending (pressed again) or a changed list is refused, writing nothing."""
    require_city(uow.authorize())
    count = uow.session.exec(
        select(func.count())
        .select_from(SeatBooking)
        .where(SeatBooking.status == PRE, col(SeatBooking.id) <= request.up_to)
    ).one()
    if count == 0:
        raise Refused("seats_nothing_pending")
    if count != request.count:
        raise Refused("seats_pending_changed")
    result = cast(
        Any,
        uow.session.execute(
            update(SeatBooking)
            .where(col(SeatBooking.status) == PRE, col(SeatBooking.id) <= request.up_to)
            .values(status=CONFIRMED)
        ),
    )
    uow.audit("seats.confirm", target="all", detail={"bookings": result.rowcount})
    return int(result.rowcount)
