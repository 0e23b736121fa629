"""The city office's overview (``/status``, ``python -m bot status``): per online round who has
registered and who has not, learners covered, the centralized-exam slots, makeup numbers and the
county plans. Which exam a unit takes (category precedence, the centralized list) is decided by
``bot.registration.assignment``; this module only counts.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from bot.core import rounds, windows
from bot.core.config import CategoryDepartment, Config, Window
from bot.core.rounds import ExamRound
from bot.core.uow import UnitOfWork
from bot.org.access import city_or_operator
from bot.org.models import Unit, UnitKind
from bot.overview.county_plans import PlanOverview, plan_status
from bot.registration import schedule
from bot.registration.assignment import COUNTY_KINDS, category_precedence, is_centralized, path_ids
from bot.registration.models import Registration, SeatBooking, SeatSlot

ACTIVE = "active"


# --- the unit tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    county: str | None = None  # the county / park it belongs to; None for city-level units


class UnitTree:
    """All units loaded once; first-level ancestors and counties looked up in memory."""

    def __init__(self, session: Session) -> None:
        self.units = {u.id: u for u in session.exec(select(Unit).order_by(col(Unit.id)))}
        self._precedence: dict[int | None, CategoryDepartment | None] = {}

    def first_level(self) -> list[Unit]:
        return [u for u in self.units.values() if u.kind == UnitKind.UNIT.value]

    def first_level_of(self, unit_id: int) -> Unit | None:
        unit = self.units.get(unit_id)
        if unit is None:
            return None
        for node_id in path_ids(unit):
            node = self.units.get(node_id)
            if node is not None and node.kind == UnitKind.UNIT.value:
                return node
        return None

    def precedence(self, session: Session, config: Config, unit: Unit) -> CategoryDepartment | None:
        if unit.id not in self._precedence:
            self._precedence[unit.id] = category_precedence(session, config, unit)
        return self._precedence[unit.id]

    def ref(self, unit: Unit) -> UnitRef:
        county = next(
            (
                self.units[i].name
                for i in path_ids(unit)
                if i in self.units and self.units[i].kind in COUNTY_KINDS
            ),
            None,
        )
        return UnitRef(unit.id or 0, unit.code, unit.name, county)


# --- the result objects -----------------------------------------------------------------------


@dataclass(frozen=True)
class Excluded:
    unit: UnitRef
    reason: str  # "category" | "centralized"
    department: str = ""


@dataclass(frozen=True)
class RoundStatus:
    """One registrable round; ``kind`` and ``number`` name it (the ``round_name`` macro)."""

    key: str  # "zone1", "zone2", "makeup"
    kind: str  # bot.core.rounds.ZONE | MAKEUP
    number: int | None  # the zone round's number; None for the makeup
    registration: Window
    exam: Window
    state: str  # "upcoming" | "open" | "closed" (the registration window, by the clock)
    registered: list[UnitRef]  # first-level units with an active registration in their subtree
    missing: list[UnitRef] | None  # first-level units expected but not registered (None: makeup)
    excluded: list[Excluded]  # not expected in this round, and why
    registrations: int  # active registrations
    learners: int  # sum of their learner counts

    @property
    def is_makeup(self) -> bool:
        return self.kind == rounds.MAKEUP

    @property
    def expected(self) -> int | None:
        """First-level units expected to register (registered among them, plus missing)."""
        if self.missing is None:
            return None
        excluded = {e.unit.id for e in self.excluded}
        return len([u for u in self.registered if u.id not in excluded]) + len(self.missing)

    def excluded_for(self, reason: str) -> list[Excluded]:
        return [e for e in self.excluded if e.reason == reason]


@dataclass(frozen=True)
class SlotBooking:
    unit: UnitRef
    seats: int
    status: str  # "pre" | "confirmed"


@dataclass(frozen=True)
class SlotStatus:
    exam_date: dt.date
    index: int
    label: str
    start: dt.time
    end: dt.time
    capacity: int
    used: int
    bookings: list[SlotBooking] = field(default_factory=list)

    @property
    def confirmed_seats(self) -> int:
        return sum(b.seats for b in self.bookings if b.status == "confirmed")

    @property
    def pending_seats(self) -> int:
        return sum(b.seats for b in self.bookings if b.status == "pre")

    @property
    def confirmed(self) -> bool:
        """Every booking of the slot confirmed by the city office (and at least one)."""
        return bool(self.bookings) and self.pending_seats == 0


@dataclass(frozen=True)
class CentralizedStatus:
    window: Window  # pre-registration
    state: str
    capacity_per_slot: int
    slots: list[SlotStatus]
    booked: list[str]  # listed units with seats (pre or confirmed)
    not_booked: list[str]  # listed units without any

    @property
    def seats_used(self) -> int:
        return sum(s.used for s in self.slots)

    @property
    def capacity(self) -> int:
        return sum(s.capacity for s in self.slots)

    @property
    def pending(self) -> int:
        return sum(s.pending_seats for s in self.slots)

    @property
    def confirmed(self) -> bool:
        """The allocation is final: there are bookings and none is still pre-registered."""
        return any(s.bookings for s in self.slots) and self.pending == 0


@dataclass(frozen=True)
class StatusReport:
    now: dt.datetime
    first_level_units: int  # every first-level unit: the city's own and the counties' and parks'
    city_level_units: int  # of them, the city's own (市直)
    counties: int  # the counties and parks themselves: areas, not first-level units
    rounds: list[RoundStatus]  # the zone rounds, in order
    makeup: RoundStatus
    centralized: CentralizedStatus
    plans: PlanOverview

    def to_dict(self) -> dict[str, Any]:
        """Plain data for ``--json``: dates as ISO strings, derived properties included."""
        return _plain(self)

    def to_json(self, **kwargs: Any) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, **kwargs)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        data = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        for klass in type(value).__mro__:
            for name, attr in vars(klass).items():
                if isinstance(attr, property) and not name.startswith("_") and name not in data:
                    data[name] = _plain(getattr(value, name))
        return data
    if isinstance(value, Window):
        return {"start": value.start.isoformat(), "end": value.end.isoformat()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value


# --- computing the overview -------------------------------------------------------------------


def _round(
    session: Session,
    config: Config,
    tree: UnitTree,
    item: ExamRound,
    now: dt.datetime,
    rows: list[Registration],
) -> RoundStatus:
    active = [r for r in rows if r.round_key == item.key]
    registered_ids: set[int | None] = set()
    for row in active:
        first = tree.first_level_of(row.unit_id)
        if first is not None:
            registered_ids.add(first.id)
    excluded: list[Excluded] = []
    missing: list[UnitRef] | None = None
    if not item.is_makeup:  # the makeup is for whoever failed or missed: nobody is "missing"
        missing = []
        for unit in tree.first_level():
            department = tree.precedence(session, config, unit)
            if department is not None:
                excluded.append(Excluded(tree.ref(unit), "category", department.name))
            elif is_centralized(config, unit) and not (
                unit.zone_approved and unit.id in registered_ids
            ):  # one allowed the zone exam too (/allow_zone) and registered for it: registered
                excluded.append(Excluded(tree.ref(unit), "centralized"))
            elif unit.id not in registered_ids:
                missing.append(tree.ref(unit))
    assert item.registration is not None  # a registrable round
    return RoundStatus(
        key=item.key,
        kind=item.kind,
        number=None if item.is_makeup else item.number,
        registration=item.registration,
        exam=item.exam,
        state=schedule.registration_state(config, item, now),
        registered=[tree.ref(u) for u in tree.first_level() if u.id in registered_ids],
        missing=missing,
        excluded=excluded,
        registrations=len(active),
        learners=sum(r.learner_count for r in active),
    )


def _centralized(
    session: Session, config: Config, tree: UnitTree, now: dt.datetime
) -> CentralizedStatus:
    cz = config.centralized
    rows = {(s.exam_date, s.slot_index): s for s in session.exec(select(SeatSlot))}
    bookings: dict[int | None, list[SeatBooking]] = {}
    for booking in session.exec(
        select(SeatBooking).where(SeatBooking.status != "cancelled").order_by(col(SeatBooking.id))
    ):
        bookings.setdefault(booking.slot_id, []).append(booking)
    slots = []
    booked_units: set[int | None] = set()
    for day in cz.exam.days():
        for index, spec in enumerate(cz.slots):
            row = rows.get((day, index))
            items = []
            for booking in bookings.get(row.id, []) if row is not None else []:
                unit = tree.units.get(booking.unit_id)
                if unit is None:
                    continue
                booked_units.add(unit.id)
                items.append(SlotBooking(tree.ref(unit), booking.seats, booking.status))
            slots.append(
                SlotStatus(
                    exam_date=day,
                    index=index,
                    label=spec.label,
                    start=spec.start,
                    end=spec.end,
                    capacity=row.capacity if row is not None else cz.capacity_per_slot,
                    used=row.used if row is not None else 0,
                    bookings=items,
                )
            )
    booked_names = {tree.units[i].name for i in booked_units}
    return CentralizedStatus(
        window=cz.preregistration,
        state=windows.state(config, cz.preregistration, now),
        capacity_per_slot=cz.capacity_per_slot,
        slots=slots,
        booked=[n for n in cz.units if n in booked_names],
        not_booked=[n for n in cz.units if n not in booked_names],
    )


def status(session: Session, config: Config, now: dt.datetime) -> StatusReport:
    """The whole overview as of ``now`` (read only)."""
    now = now.astimezone(config.tz)
    tree = UnitTree(session)
    rows = list(session.exec(select(Registration).where(Registration.status == ACTIVE)))
    items = [_round(session, config, tree, r, now, rows) for r in rounds.registrable(config)]
    return StatusReport(
        now=now,
        first_level_units=len(tree.first_level()),
        city_level_units=sum(1 for u in tree.first_level() if tree.ref(u).county is None),
        counties=sum(1 for u in tree.units.values() if u.kind in COUNTY_KINDS),
        rounds=[r for r in items if not r.is_makeup],
        makeup=next(r for r in items if r.is_makeup),
        centralized=_centralized(session, config, tree, now),
        plans=plan_status(session, config, now),
    )


def report(uow: UnitOfWork) -> StatusReport:
    """/status: the overview for the city office (or the server's operator), as of the unit of
    work's moment."""
    city_or_operator(uow)
    return status(uow.session, uow.config, uow.now)
