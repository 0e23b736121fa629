"""County centralized-exam plans (县市区集中组考, notice 五（四）).

Each county / park administrator reports the plan for their own county: how many units take part
(at least ``config.county_plans.min_units``) and on which dates. A new submission replaces the
old one (one row per county, an upsert on ``unit_id``). Submissions after the deadline are still
accepted, and flagged as late in the reply and in the city office's overview.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.config import Config
from bot.core.errors import Refused
from bot.org.identity import Identity
from bot.org.models import Role, Unit, UnitKind
from bot.registration.models import CountyPlan

MAX_UNITS = 9999  # far above any county, below nonsense
MAX_DATES = 16  # the stored list ("2022-09-20,...") fits the 200-character column
MAX_RANGE_DAYS = 31
MAX_DETAIL = 500
COUNTY_KINDS = (UnitKind.COUNTY.value, UnitKind.PARK.value)

# --- parsing ----------------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[、,;\s]+|和|及|与")
_RANGE = re.compile(r"^(?P<a>.+?)(?:至|到|~)(?P<b>.+)$")
_FULL = re.compile(r"^(?P<y>\d{4})[-/.年](?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号]?$")
_MONTH_DAY = re.compile(r"^(?P<m>\d{1,2})[-/.月](?P<d>\d{1,2})[日号]?$")
_DAY = re.compile(r"^(?P<d>\d{1,2})[日号]?$")
_DATE_TOKEN = re.compile(r"^[\d年月日号\-/.、,;至到~]+$")
_COUNT = re.compile(r"^(?P<n>\d{1,6})(?:个单位|家单位|个|家)?$")


def _normalise(text: str) -> str:
    """Full-width digits and punctuation to ASCII (NFKC), and the usual wave dashes to '~'."""
    return unicodedata.normalize("NFKC", text).replace("〜", "~").replace("—", "~")


def _date(year: int, month: int, day: int, token: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError as exc:
        raise Refused("plan_date_bad", token=token) from exc


def _single(token: str, year: int, previous: dt.date | None = None) -> dt.date:
    """One date; a bare day ("21日") continues the month of the date before it."""
    match = _FULL.match(token)
    if match:
        if int(match["y"]) != year:
            raise Refused("plan_date_year", token=token, year=year)
        return _date(year, int(match["m"]), int(match["d"]), token)
    match = _MONTH_DAY.match(token)
    if match:
        return _date(year, int(match["m"]), int(match["d"]), token)
    match = _DAY.match(token)
    if match and previous is not None:
        return _date(year, previous.month, int(match["d"]), token)
    raise Refused("plan_date_bad", token=token)


def parse_dates(text: str, year: int) -> list[dt.date]:
    """Dates as people write them: "9月20日、9月21日", "2022-09-20,2022-09-21", "9/20 9/21",
    ranges "9月20日至22日" / "9/20~9/22". Every date must exist and lie in ``year``; the result
    is sorted and without repeats."""
    days: set[dt.date] = set()
    previous: dt.date | None = None
    for token in _SEPARATORS.split(_normalise(text).strip()):
        if not token:
            continue
        ranged = _RANGE.match(token)
        if ranged is None:
            previous = _single(token, year, previous)
            days.add(previous)
            continue
        start = _single(ranged["a"], year, previous)
        end = _single(ranged["b"], year, start)
        if end < start or (end - start).days >= MAX_RANGE_DAYS:
            raise Refused("plan_date_bad", token=token)
        days.update(start + dt.timedelta(days=i) for i in range((end - start).days + 1))
        previous = end
        if len(days) > MAX_DATES:
            break
    if not days:
        raise Refused("plan_dates_missing")
    if len(days) > MAX_DATES:
        raise Refused("plan_too_many_dates", max=MAX_DATES)
    return sorted(days)


def parse_count(value: int | str) -> int:
    if isinstance(value, bool):
        raise Refused("plan_count_bad", token=str(value))
    if isinstance(value, int):
        number = value
    else:
        match = _COUNT.match(_normalise(value).strip())
        if match is None:
            raise Refused("plan_count_bad", token=value)
        number = int(match["n"])
    if not 0 < number <= MAX_UNITS:
        raise Refused("plan_count_bad", token=str(value))
    return number


def split_plan_text(text: str) -> tuple[str, str, str]:
    """``/plan`` arguments → (unit count, dates, detail).

    The first word is the count; the following words that look like dates are the dates; the
    rest, with its own line breaks kept, is the detail.
    """
    words = list(re.finditer(r"\S+", text))
    if not words:
        return "", "", ""
    count = words[0].group()
    dates: list[str] = []
    detail = ""
    for match in words[1:]:
        if _DATE_TOKEN.match(_normalise(match.group())):
            dates.append(match.group())
            continue
        detail = text[match.start() :].strip()
        break
    return count, " ".join(dates), detail


def format_dates(days: list[dt.date]) -> str:
    return ",".join(d.isoformat() for d in days)


def stored_dates(text: str) -> list[dt.date]:
    days = []
    for part in (text or "").split(","):
        try:
            days.append(dt.date.fromisoformat(part.strip()))
        except ValueError:
            continue
    return days


# --- submitting -------------------------------------------------------------------------------


def is_late(config: Config, moment: dt.datetime) -> bool:
    """Late once the deadline day has passed (the notice: "9月1日前报"), by the campaign's clock."""
    return moment.astimezone(config.tz).date() > config.county_plans.deadline


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


def _county_unit(session: Session, identity: Identity) -> Unit:
    if identity.role != Role.COUNTY:
        raise Refused("plan_county_only")
    unit = session.get(Unit, identity.unit_id)
    if unit is None or unit.kind not in COUNTY_KINDS:
        raise Refused("plan_county_only")
    return unit


def _upsert(session: Session, values: dict) -> None:
    dialect = session.get_bind().dialect.name
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
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


def submit_plan(
    session: Session,
    config: Config,
    identity: Identity,
    unit_count: int | str,
    dates_text: str,
    detail: str,
    now: dt.datetime,
    *,
    chat_id: int | None = None,
) -> PlanReceipt:
    """Record (or replace) the administrator's county plan; everything is checked first, so a
    refusal writes nothing. The row and its audit entry share the caller's transaction."""
    unit = _county_unit(session, identity)
    count = parse_count(unit_count)
    minimum = config.county_plans.min_units
    if count < minimum:
        raise Refused("plan_min_units", min=minimum, count=count)
    days = parse_dates(dates_text or "", config.campaign.year)
    detail = (detail or "").strip()
    if len(detail) > MAX_DETAIL:
        raise Refused("plan_detail_long", max=MAX_DETAIL, length=len(detail))
    replaced = (
        session.exec(select(CountyPlan.id).where(CountyPlan.unit_id == unit.id)).first() is not None
    )
    values = {
        "unit_id": unit.id,
        "unit_count": count,
        "dates": format_dates(days),
        "detail": detail,
        "admin_id": identity.admin_id,
        "submitted_at": now,
    }
    _upsert(session, values)
    late = is_late(config, now)
    audit.record(
        session,
        at=now,
        action="plan.submit",
        actor=identity.unit_name,
        target=unit.code,
        detail={
            "unit_count": count,
            "dates": values["dates"],
            "detail": detail,
            "late": late,
            "replaced": replaced,
        },
        actor_admin_id=identity.admin_id,
        actor_telegram_id=identity.telegram_user_id,
        chat_id=chat_id,
    )
    session.flush()
    return PlanReceipt(
        unit_name=unit.name,
        unit_code=unit.code,
        unit_count=count,
        dates=days,
        detail=detail,
        submitted_at=now,
        late=late,
        replaced=replaced,
    )


# --- the city office's overview -----------------------------------------------------------------

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


def plan_status(session: Session, config: Config, now: dt.datetime) -> PlanOverview:
    """Every county / park unit with its plan's state: submitted, late or missing."""
    units = session.exec(
        select(Unit).where(col(Unit.kind).in_(COUNTY_KINDS)).order_by(col(Unit.id))
    ).all()
    plans = {p.unit_id: p for p in session.exec(select(CountyPlan))}
    rows = []
    for unit in units:
        plan = plans.get(unit.id)  # type: ignore[arg-type]
        if plan is None:
            rows.append(PlanRow(unit.id, unit.code, unit.name, unit.kind, MISSING))  # type: ignore[arg-type]
            continue
        rows.append(
            PlanRow(
                unit_id=unit.id,  # type: ignore[arg-type]
                unit_code=unit.code,
                unit_name=unit.name,
                kind=unit.kind,
                state=LATE if is_late(config, plan.submitted_at) else SUBMITTED,
                unit_count=plan.unit_count,
                dates=stored_dates(plan.dates),
                detail=plan.detail,
                submitted_at=plan.submitted_at.astimezone(config.tz),
            )
        )
    return PlanOverview(
        deadline=config.county_plans.deadline,
        min_units=config.county_plans.min_units,
        deadline_passed=is_late(config, now),
        rows=rows,
    )
