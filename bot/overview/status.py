"""The city office's overview (``/status``, ``python -m bot status``): per online round who has
registered and who has not, learners covered, the centralized-exam slots, makeup numbers and the
county plans. Also the one place that decides whether a unit's category exam takes precedence
(notice 二.3), used by the registration service as well.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session, col, select

from bot.core.config import CategoryDepartment, Config, Window
from bot.org.models import Unit, UnitKind
from bot.registration.models import Registration, SeatBooking, SeatSlot
from bot.registration.plans import PlanOverview, plan_status

COUNTY_KINDS = (UnitKind.COUNTY.value, UnitKind.PARK.value)
NUMERALS = "零一二三四五六七八九十"
ACTIVE = "active"


# --- the unit tree ------------------------------------------------------------------------------


def _path_ids(unit: Unit) -> list[int]:
    """The ids from the root down to ``unit`` (its materialised path, plus itself if missing)."""
    ids = [int(part) for part in (unit.path or "").strip("/").split("/") if part.isdigit()]
    if unit.id is not None and (not ids or ids[-1] != unit.id):
        ids.append(unit.id)
    return ids


def _chain(session: Session, unit: Unit) -> list[Unit]:
    """``unit`` and its ancestors, nearest first."""
    chain = [unit]
    for unit_id in reversed(_path_ids(unit)[:-1]):
        node = session.get(Unit, unit_id)
        if node is not None:
            chain.append(node)
    return chain


def unit_level(session: Session, unit: Unit) -> str:
    """Attachment 1's level of a unit: "county" under (or being) a county or park, else "city"."""
    return "county" if any(n.kind in COUNTY_KINDS for n in _chain(session, unit)) else "city"


def category_precedence(session: Session, config: Config, unit: Unit) -> CategoryDepartment | None:
    """The provincial department whose category exam this unit takes instead of the city's zone
    exam, or None.

    The unit's own ``category_department`` decides, else its nearest ancestor's that has one. It
    takes precedence only when that name is a department of attachment 1 (config
    ``category_departments``) whose exam covers the unit's level, and only while no consent of
    the department is recorded (``category_consent`` on the unit or on any node up to and
    including the one naming the department).
    """
    chain = _chain(session, unit)
    level = "county" if any(n.kind in COUNTY_KINDS for n in chain) else "city"
    consent = False
    for node in chain:
        consent = consent or bool(node.category_consent)
        name = "".join((node.category_department or "").split())
        if not name:
            continue
        department = config.category_department(name)
        if department is None or not department.covers(level) or consent:
            return None
        return department
    return None


@dataclass(frozen=True)
class UnitRef:
    id: int
    code: str
    name: str
    county: str | None = None  # the county / park it belongs to; None for city-level units


class _Tree:
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
        for node_id in _path_ids(unit):
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
                for i in _path_ids(unit)
                if i in self.units and self.units[i].kind in COUNTY_KINDS
            ),
            None,
        )
        return UnitRef(unit.id, unit.code, unit.name, county)  # type: ignore[arg-type]


# --- the result objects -----------------------------------------------------------------------


@dataclass(frozen=True)
class Excluded:
    unit: UnitRef
    reason: str  # "category" | "centralized"
    department: str = ""


@dataclass(frozen=True)
class RoundStatus:
    key: str  # "zone1", "zone2", "makeup"
    number: int | None  # the zone round's number; None for the makeup
    name: str
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
        return self.number is None

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
    first_level_units: int
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


def round_label(config: Config, key: str) -> str:
    if key == "makeup":
        return "补考"
    number = int(key.removeprefix("zone")) if key.startswith("zone") else 0
    numeral = NUMERALS[number] if 0 < number <= 10 else str(number)
    return f"分众组考第{numeral}次考试"


def _state(window: Window, now: dt.datetime) -> str:
    today = now.date()
    if today < window.start:
        return "upcoming"
    return "closed" if today > window.end else "open"


def _round(
    session: Session,
    config: Config,
    tree: _Tree,
    *,
    key: str,
    number: int | None,
    registration: Window,
    exam: Window,
    now: dt.datetime,
    rows: list[Registration],
) -> RoundStatus:
    active = [r for r in rows if r.round_key == key]
    registered_ids: set[int] = set()
    for row in active:
        first = tree.first_level_of(row.unit_id)
        if first is not None:
            registered_ids.add(first.id)  # type: ignore[arg-type]
    excluded: list[Excluded] = []
    missing: list[UnitRef] | None = None
    if number is not None:  # the makeup is for whoever failed or missed: nobody is "missing"
        missing = []
        centralized = set(config.centralized.units)
        for unit in tree.first_level():
            department = tree.precedence(session, config, unit)
            if department is not None:
                excluded.append(Excluded(tree.ref(unit), "category", department.name))
            elif unit.name in centralized:
                excluded.append(Excluded(tree.ref(unit), "centralized"))
            elif unit.id not in registered_ids:
                missing.append(tree.ref(unit))
    registered = [tree.ref(u) for u in tree.first_level() if u.id in registered_ids]
    return RoundStatus(
        key=key,
        number=number,
        name=round_label(config, key),
        registration=registration,
        exam=exam,
        state=_state(registration, now),
        registered=registered,
        missing=missing,
        excluded=excluded,
        registrations=len(active),
        learners=sum(r.learner_count for r in active),
    )


def _centralized(
    session: Session, config: Config, tree: _Tree, now: dt.datetime
) -> CentralizedStatus:
    cz = config.centralized
    rows = {(s.exam_date, s.slot_index): s for s in session.exec(select(SeatSlot))}
    bookings: dict[int, list[SeatBooking]] = {}
    for booking in session.exec(
        select(SeatBooking).where(SeatBooking.status != "cancelled").order_by(col(SeatBooking.id))
    ):
        bookings.setdefault(booking.slot_id, []).append(booking)
    slots = []
    booked_units: set[int] = set()
    for day in cz.exam.days():
        for index, spec in enumerate(cz.slots):
            row = rows.get((day, index))
            items = []
            for booking in bookings.get(row.id, []) if row is not None else []:
                unit = tree.units.get(booking.unit_id)
                if unit is None:
                    continue
                booked_units.add(unit.id)  # type: ignore[arg-type]
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
        state=_state(cz.preregistration, now),
        capacity_per_slot=cz.capacity_per_slot,
        slots=slots,
        booked=[n for n in cz.units if n in booked_names],
        not_booked=[n for n in cz.units if n not in booked_names],
    )


def status(session: Session, config: Config, now: dt.datetime) -> StatusReport:
    """The whole overview as of ``now`` (read only)."""
    now = now.astimezone(config.tz)
    tree = _Tree(session)
    rows = list(session.exec(select(Registration).where(Registration.status == ACTIVE)))
    zone_rounds = [
        _round(
            session,
            config,
            tree,
            key=f"zone{r.number}",
            number=r.number,
            registration=r.registration,
            exam=r.exam,
            now=now,
            rows=rows,
        )
        for r in config.zone_rounds
    ]
    makeup = _round(
        session,
        config,
        tree,
        key="makeup",
        number=None,
        registration=config.makeup.registration,
        exam=config.makeup.exam,
        now=now,
        rows=rows,
    )
    return StatusReport(
        now=now,
        first_level_units=len(tree.first_level()),
        rounds=zone_rounds,
        makeup=makeup,
        centralized=_centralized(session, config, tree, now),
        plans=plan_status(session, config, now),
    )
