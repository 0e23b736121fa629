"""County centralized-exam plans (县市区集中组考, notice 五（四）).

Each county / park administrator reports the plan for their own county: how many units take part
(at least ``config.county_plans.min_units``) and on which dates. A new submission replaces the
old one (one row per county, an upsert on ``unit_id``). Submissions after the deadline are still
accepted, and flagged as late in the reply and in the city office's overview
(``bot.overview.county_plans``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, select

from bot.core import windows
from bot.core.config import Config
from bot.core.errors import Refused
from bot.core.rounds import zone_exam_period
from bot.core.uow import UnitOfWork
from bot.org.identity import Identity
from bot.org.models import Role, Unit
from bot.registration.assignment import COUNTY_KINDS
from bot.registration.models import CountyPlan
from bot.registration.plan_text import format_dates, parse_count, parse_dates, split_plan_text

MAX_DETAIL = 500


@dataclass(frozen=True)
class PlanSubmission:
    """A county's plan as written: the unit count, the dates and a note."""

    unit_count: int | str
    dates: str
    detail: str = ""

    @classmethod
    def from_text(cls, text: str) -> PlanSubmission:
        """The words after /plan (line breaks of the note kept)."""
        return cls(*split_plan_text(text))


@dataclass(frozen=True)
class PlanReceipt:
    unit_name: str
    unit_code: str
    unit_count: int
    dates: list[dt.date]
    detail: str
    submitted_at: dt.datetime
    late: bool
    replaced: bool  # an earlier plan of this county was replaced


def is_late(config: Config, moment: dt.datetime) -> bool:
    """Late once the deadline is reached (the notice: "9月1日前报"): its day at ``day_deadline``,
    by the campaign's clock (``bot.core.windows``)."""
    return windows.is_past(config, config.county_plans.deadline, moment)


def county_unit(session: Session, identity: Identity) -> Unit:
    """Only a county's or park's own administrator reports its plan."""
    if identity.role != Role.COUNTY:
        raise Refused("plan_county_only")
    unit = session.get(Unit, identity.unit_id)
    if unit is None or unit.kind not in COUNTY_KINDS:
        raise Refused("plan_county_only")
    return unit


def require_exam_period(config: Config, days: list[dt.date]) -> None:
    """A county's centralized exam is its units' zone exam: every date must lie in the zone
    rounds' exam period (config's ``zone_rounds``, first exam day to last)."""
    period = zone_exam_period(config)
    outside = [day for day in days if not period.contains(day)]
    if outside:
        raise Refused("plan_date_outside", day=outside[0], start=period.start, end=period.end)


def _upsert(session: Session, values: dict[str, Any]) -> None:
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert: Any = sqlite_insert if dialect == "sqlite" else pg_insert
        statement = insert(CountyPlan).values(**values)
        statement = statement.on_conflict_do_update(
            index_elements=["unit_id"],
            set_={key: statement.excluded[key] for key in values if key != "unit_id"},
        )
        session.execute(statement)
        return
    row = session.exec(select(CountyPlan).where(CountyPlan.unit_id == values["unit_id"])).first()
    row = row or CountyPlan(**values)
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)


def submit_plan(uow: UnitOfWork, submission: PlanSubmission) -> PlanReceipt:
    """Record (or replace) the administrator's county plan; everything is checked first, so a
    refusal writes nothing. The row and its audit entry share the unit of work."""
    identity = uow.authorize()
    unit = county_unit(uow.session, identity)
    if not str(submission.unit_count).strip():
        raise Refused("plan_usage")
    count = parse_count(submission.unit_count)
    minimum = uow.config.county_plans.min_units
    if count < minimum:
        raise Refused("plan_min_units", min=minimum, count=count)
    days = parse_dates(submission.dates or "", uow.config.campaign.year)
    require_exam_period(uow.config, days)
    detail = (submission.detail or "").strip()
    if len(detail) > MAX_DETAIL:
        raise Refused("plan_detail_long", max=MAX_DETAIL, length=len(detail))
    existing = select(CountyPlan.id).where(CountyPlan.unit_id == unit.id)
    replaced = uow.session.exec(existing).first() is not None
    values = {
        "unit_id": unit.id,
        "unit_count": count,
        "dates": format_dates(days),
        "detail": detail,
        "admin_id": identity.admin_id,
        "submitted_at": uow.now,
    }
    _upsert(uow.session, values)
    late = is_late(uow.config, uow.now)
    uow.audit(
        "plan.submit",
        target=unit.code,
        detail={
            "unit_count": count,
            "dates": values["dates"],
            "detail": detail,
            "late": late,
            "replaced": replaced,
        },
    )
    uow.session.flush()
    return PlanReceipt(
        unit_name=unit.name,
        unit_code=unit.code,
        unit_count=count,
        dates=days,
        detail=detail,
        submitted_at=uow.now,
        late=late,
        replaced=replaced,
    )
