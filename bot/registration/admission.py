"""Which online rounds a unit may register for through /register, given which exam it takes
(``bot.registration.assignment``), and what /register tells it first.

* A unit whose provincial department's category exam takes precedence (notice 二.3 分类组考优先)
  does not register for the city's zone rounds; it learns so, with the rule and what to do, in
  /register's first message (the city office records the department's consent with /consent).
* A unit on the centralized exam's list (五（四）) takes its zone exam at the exam centre, booked
  with /seats_book; it registers for online zone sessions only with the city office's approval
  (``Unit.zone_approved``, /allow_zone), and then books both.
* The makeup is the province's unified one for everybody who missed or failed (五（三）): no
  assignment excludes it.

The conversation filters its round buttons by ``Standing.excludes``; the services check again on
every step (``check``), so a stale button or a call from elsewhere is refused all the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, func, select

from bot.core import rounds
from bot.core.config import CategoryDepartment, Config
from bot.core.errors import Refused
from bot.core.rounds import ExamRound
from bot.org.models import Unit
from bot.registration.assignment import category_precedence, is_centralized
from bot.registration.models import Registration, SeatBooking
from bot.registration.seats import CANCELLED


@dataclass(frozen=True)
class Standing:
    """What decides a unit's online rounds: the category exam taking precedence (None: it does
    not), whether it is a centralized-exam unit and whether the city office let it book zone
    sessions as well."""

    category: CategoryDepartment | None
    centralized: bool
    zone_approved: bool

    @property
    def zone_refused(self) -> str | None:
        """The refusal key for a zone round, or None when the unit may register for one."""
        if self.category is not None:
            return "category_precedence"
        if self.centralized and not self.zone_approved:
            return "centralized_zone"
        return None

    def excludes(self, item: ExamRound) -> bool:
        return item.is_zone and self.zone_refused is not None


def standing(session: Session, config: Config, unit: Unit) -> Standing:
    return Standing(
        category=category_precedence(session, config, unit),
        centralized=is_centralized(config, unit),
        zone_approved=bool(unit.zone_approved),
    )


def check(session: Session, config: Config, unit: Unit, item: ExamRound) -> Standing:
    """Refuse a round the unit's exam excludes; the unit's standing otherwise."""
    found = standing(session, config, unit)
    key = found.zone_refused if item.is_zone else None
    if key == "category_precedence" and found.category is not None:
        raise Refused(key, department=found.category.name, unit=unit.name)
    if key is not None:
        raise Refused(key, unit=unit.name)
    return found


def seats_held(session: Session, unit: Unit) -> int:
    """The centralized exam's seats the unit holds (pre-registered or confirmed)."""
    total = session.exec(
        select(func.coalesce(func.sum(SeatBooking.seats), 0)).where(
            SeatBooking.unit_id == unit.id, col(SeatBooking.status) != CANCELLED
        )
    ).one()
    return int(total or 0)


def zone_registered(session: Session, config: Config, unit: Unit) -> int:
    """Learners the unit has registered for online zone sessions (active registrations): what
    a centralized-exam unit allowed both holds besides its seats."""
    zones = [r.key for r in rounds.catalogue(config) if r.is_zone]
    total = session.exec(
        select(func.coalesce(func.sum(Registration.learner_count), 0)).where(
            Registration.unit_id == unit.id,
            col(Registration.round_key).in_(zones),
            Registration.status == "active",
        )
    ).one()
    return int(total or 0)
