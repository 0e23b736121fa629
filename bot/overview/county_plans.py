"""The city office's overview of the county plans (/plans, and a part of /status and the
workbook): every county and park with its plan's state, submitted, late or missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from bot.core.config import Config
from bot.core.uow import UnitOfWork
from bot.org.access import city_or_operator
from bot.org.models import Unit
from bot.registration.assignment import COUNTY_KINDS
from bot.registration.models import CountyPlan
from bot.registration.plan_text import stored_dates
from bot.registration.plans import is_late

SUBMITTED, LATE, MISSING = "submitted", "late", "missing"


@dataclass(frozen=True)
class PlanRow:
    unit_id: int
    unit_code: str
    unit_name: str
    kind: str
    state: str  # submitted | late | missing
    unit_count: int | None = None
    dates: list[dt.date] = field(default_factory=list)
    detail: str = ""
    submitted_at: dt.datetime | None = None


@dataclass(frozen=True)
class PlanOverview:
    deadline: dt.date
    min_units: int
    deadline_passed: bool
    rows: list[PlanRow]

    def _with(self, *states: str) -> list[PlanRow]:
        return [r for r in self.rows if r.state in states]

    @property
    def submitted(self) -> list[PlanRow]:
        """On time or late: every county that has a plan."""
        return self._with(SUBMITTED, LATE)

    @property
    def late(self) -> list[PlanRow]:
        return self._with(LATE)

    @property
    def missing(self) -> list[PlanRow]:
        return self._with(MISSING)


def _row(config: Config, unit: Unit, plan: CountyPlan | None) -> PlanRow:
    unit_id = unit.id or 0
    if plan is None:
        return PlanRow(unit_id, unit.code, unit.name, unit.kind, MISSING)
    return PlanRow(
        unit_id=unit_id,
        unit_code=unit.code,
        unit_name=unit.name,
        kind=unit.kind,
        state=LATE if is_late(config, plan.submitted_at) else SUBMITTED,
        unit_count=plan.unit_count,
        dates=stored_dates(plan.dates),
        detail=plan.detail,
        submitted_at=plan.submitted_at.astimezone(config.tz),
    )


def plan_status(session: Session, config: Config, now: dt.datetime) -> PlanOverview:
    """Every county / park unit with its plan's state as of ``now`` (read only)."""
    units = session.exec(
        select(Unit).where(col(Unit.kind).in_(COUNTY_KINDS)).order_by(col(Unit.id))
    ).all()
    plans = {p.unit_id: p for p in session.exec(select(CountyPlan))}
    return PlanOverview(
        deadline=config.county_plans.deadline,
        min_units=config.county_plans.min_units,
        deadline_passed=is_late(config, now),
        rows=[_row(config, unit, plans.get(unit.id or 0)) for unit in units],
    )


def plans_overview(uow: UnitOfWork) -> PlanOverview:
    """/plans: for the city office (or the server's operator)."""
    city_or_operator(uow)
    return plan_status(uow.session, uow.config, uow.now)
