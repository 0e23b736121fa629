"""Online exam registration: the two zone rounds (分众组考) and the makeup (补考).

A unit's administrator books a day of the round's exam window and one of the daily sessions,
for a number of learners or for named learners from the roster, while the round's registration
window is open by the injected clock. The rules the notice gives are enforced here.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.config import Config, Window
from bot.core.errors import Refused
from bot.org.admins import require_unit_scope, unit_in_scope
from bot.org.identity import Identity
from bot.org.models import Unit
from bot.overview.status import category_precedence
from bot.registration.models import Registration, RegistrationLearner
from bot.results import service as makeup
from bot.roster.learners import ACCOUNT_RE
from bot.roster.models import Learner

MAX_COUNT = 5000  # learners in one session booking: far above any unit, below nonsense
MAX_ACCOUNTS = 300  # named learners in one message


@dataclass(frozen=True)
class Round:
    key: str  # "zone1", "zone2", "makeup"
    name: str
    registration: Window
    exam: Window

    @property
    def is_makeup(self) -> bool:
        return self.key == "makeup"


def rounds(config: Config) -> list[Round]:
    numerals = "零一二三四五六七八九十"
    items = [
        Round(
            f"zone{r.number}",
            f"分众组考第{numerals[r.number] if r.number <= 10 else r.number}次考试",
            r.registration,
            r.exam,
        )
        for r in config.zone_rounds
    ]
    items.append(Round("makeup", "补考", config.makeup.registration, config.makeup.exam))
    return items


def find_round(config: Config, key: str) -> Round:
    for item in rounds(config):
        if item.key == key:
            return item
    raise Refused("round_unknown", round=key)


def open_rounds(config: Config, now: dt.datetime) -> list[Round]:
    return [r for r in rounds(config) if r.registration.contains(now.date())]


def round_state(item: Round, now: dt.datetime) -> str:
    today = now.date()
    if today < item.registration.start:
        return "upcoming"
    if today > item.registration.end:
        return "closed"
    return "open"


def require_open(config: Config, item: Round, now: dt.datetime) -> None:
    state = round_state(item, now)
    if state != "open":
        after_makeup = item.is_makeup and state == "closed"
        raise Refused(
            f"round_{state}",
            round=item.name,
            start=item.registration.start,
            end=item.registration.end,
            after_makeup=after_makeup,
        )


def session_times(config: Config) -> list[str]:
    return [s.time.strftime("%H:%M") for s in config.online_sessions]


def registering_unit(session: Session, identity: Identity, unit_code: str | None) -> Unit:
    """The unit a registration is for: the administrator's own, or a named unit of their scope."""
    return unit_in_scope(session, identity, unit_code)


def check_assignment(session: Session, config: Config, unit: Unit, item: Round) -> None:
    """Notice 二: a unit in a provincial department's category exam (at its level) takes that
    exam, not the city's zone exam, unless the department agreed (recorded as consent)."""
    if item.is_makeup:
        return  # the makeup is the province's unified one for everybody who missed or failed
    department = category_precedence(session, config, unit)
    if department is not None:
        raise Refused("category_precedence", department=department.name)


@dataclass
class Plan:
    """A checked registration, ready to confirm."""

    round: Round
    unit_id: int
    unit_name: str
    exam_date: dt.date
    session_time: str
    count: int
    learner_ids: list[int] = field(default_factory=list)
    at_risk: list[str] = field(default_factory=list)  # masked names short of credits


def parse_learners(text: str) -> tuple[int | None, list[str]]:
    """A count ("35") or login accounts separated by spaces, commas or new lines."""
    text = (text or "").strip()
    if not text:
        raise Refused("learners_missing")
    if text.isascii() and text.isdigit():
        count = int(text)
        if not 1 <= count <= MAX_COUNT:
            raise Refused("count_range", max=MAX_COUNT)
        return count, []
    parts = [p for p in text.replace("，", ",").replace("、", ",").replace(",", " ").split() if p]
    if len(parts) > MAX_ACCOUNTS:
        raise Refused("too_many_accounts", max=MAX_ACCOUNTS)
    bad = [p for p in parts if not ACCOUNT_RE.fullmatch(p)]
    if bad:
        raise Refused("account_malformed")
    if len(set(parts)) != len(parts):
        raise Refused("accounts_repeat")
    return None, parts


def plan(
    session: Session,
    config: Config,
    identity: Identity,
    *,
    round_key: str,
    exam_date: dt.date,
    session_time: str,
    learners_text: str,
    now: dt.datetime,
    unit_code: str | None = None,
) -> Plan:
    """Check everything for a registration; nothing is written."""
    item = find_round(config, round_key)
    require_open(config, item, now)
    unit = registering_unit(session, identity, unit_code)
    check_assignment(session, config, unit, item)
    if not item.exam.contains(exam_date):
        raise Refused("date_outside", round=item.name, start=item.exam.start, end=item.exam.end)
    if session_time not in session_times(config):
        raise Refused("session_unknown", time=session_time)
    if item.is_makeup and makeup.is_all(learners_text):  # exactly the unit's makeup list
        count, accounts = None, makeup.pending_makeup_accounts(session, config, unit, now)
    else:
        count, accounts = parse_learners(learners_text)
        if item.is_makeup:  # with results imported, only learners on the unit's makeup list
            makeup.check_makeup_learners(session, config, unit, now, count=count, accounts=accounts)
    result = Plan(item, unit.id, unit.name, exam_date, session_time, count or len(accounts))
    if accounts:
        rows = session.exec(
            select(Learner, Unit)
            .join(Unit, Unit.id == Learner.unit_id)
            .where(col(Learner.account).in_(accounts))
        ).all()
        found = {learner.account: (learner, lunit) for learner, lunit in rows}
        missing = [a for a in accounts if a not in found]
        if missing:
            raise Refused(
                "learners_unknown", accounts="、".join(missing[:10]), more=len(missing) - 10
            )
        problems: list[str] = []
        for account in accounts:
            learner, lunit = found[account]
            if not lunit.path.startswith(unit.path):
                problems.append(f"{account}（不属于{unit.name}）")
            elif not learner.in_service:
                problems.append(f"{account}（不在职）")
            elif learner.exempt:
                problems.append(f"{account}（已免考）")
        if problems:
            raise Refused("learners_ineligible", items="；".join(problems[:10]))
        taken = session.exec(
            select(Learner.account)
            .join(RegistrationLearner, RegistrationLearner.learner_id == Learner.id)
            .where(col(Learner.account).in_(accounts), RegistrationLearner.round_key == item.key)
        ).all()
        if taken:
            raise Refused("learners_taken", accounts="、".join(taken[:10]), round=item.name)
        result.learner_ids = [found[a][0].id for a in accounts]
        from bot.roster.learners import mask_name

        result.at_risk = [
            mask_name(found[a][0].name) for a in accounts if _short_of_credits(config, found[a][0])
        ]
    return result


def _short_of_credits(config: Config, learner: Learner) -> bool:
    if learner.required_credits is None and learner.total_credits is None:
        return False
    return (learner.required_credits or 0) < config.study.required_credits or (
        learner.total_credits or 0
    ) < config.study.total_credits


def study_deadline(config: Config, exam_date: dt.date) -> dt.datetime:
    """Credits must be complete by 21:00 the day before one's exam (notice 五（一）)."""
    day = exam_date - dt.timedelta(days=config.study.deadline_days_before_exam)
    return dt.datetime.combine(day, config.study.deadline_time, config.tz)


def commit(
    session: Session,
    config: Config,
    identity: Identity,
    planned: Plan,
    now: dt.datetime,
    chat_id: int | None = None,
) -> Registration:
    """Write a checked plan (the window is checked again: the clock may have moved)."""
    require_open(config, planned.round, now)
    registration = Registration(
        unit_id=planned.unit_id,
        round_key=planned.round.key,
        exam_date=planned.exam_date,
        session_time=planned.session_time,
        learner_count=planned.count,
        admin_id=identity.admin_id,
        created_at=now,
        updated_at=now,
    )
    session.add(registration)
    session.flush()
    for learner_id in planned.learner_ids:
        session.add(
            RegistrationLearner(
                registration_id=registration.id, learner_id=learner_id, round_key=planned.round.key
            )
        )
    try:
        session.flush()
    except IntegrityError as exc:  # a learner booked meanwhile by someone else
        raise Refused("learners_taken", accounts="", round=planned.round.name) from exc
    audit.record_by(
        session,
        identity,
        at=now,
        action="registration.create",
        target=planned.unit_name,
        detail={
            "round": planned.round.key,
            "date": planned.exam_date.isoformat(),
            "session": planned.session_time,
            "count": planned.count,
            "named": len(planned.learner_ids),
        },
        chat_id=chat_id,
    )
    return registration


@dataclass(frozen=True)
class Listed:
    id: int
    round_name: str
    round_key: str
    unit_name: str
    exam_date: dt.date
    session_time: str
    count: int
    editable: bool


def list_registrations(
    session: Session, config: Config, identity: Identity, now: dt.datetime
) -> list[Listed]:
    rows = session.exec(
        select(Registration, Unit)
        .join(Unit, Unit.id == Registration.unit_id)
        .where(Registration.status == "active")
        .where(col(Unit.path).startswith(identity.unit_path))
        .order_by(Registration.round_key, Registration.exam_date, Registration.session_time)
    ).all()
    by_key = {r.key: r for r in rounds(config)}
    return [
        Listed(
            reg.id,
            by_key[reg.round_key].name if reg.round_key in by_key else reg.round_key,
            reg.round_key,
            unit.name,
            reg.exam_date,
            reg.session_time,
            reg.learner_count,
            reg.round_key in by_key and round_state(by_key[reg.round_key], now) == "open",
        )
        for reg, unit in rows
    ]


def _owned(session: Session, identity: Identity, registration_id: int) -> tuple[Registration, Unit]:
    registration = session.get(Registration, registration_id)
    if registration is None or registration.status != "active":
        raise Refused("registration_unknown")
    unit = session.get(Unit, registration.unit_id)
    require_unit_scope(identity, unit)
    return registration, unit


def changeable(
    session: Session, config: Config, identity: Identity, registration_id: int, now: dt.datetime
) -> Round:
    """The round of a registration this administrator may still change (window open)."""
    registration, _unit = _owned(session, identity, registration_id)
    item = find_round(config, registration.round_key)
    require_open(config, item, now)
    return item


def cancel(
    session: Session,
    config: Config,
    identity: Identity,
    registration_id: int,
    now: dt.datetime,
    chat_id: int | None = None,
) -> Listed:
    registration, unit = _owned(session, identity, registration_id)
    item = find_round(config, registration.round_key)
    require_open(config, item, now)
    registration.status = "cancelled"
    registration.updated_at = now
    session.add(registration)
    for row in session.exec(
        select(RegistrationLearner).where(RegistrationLearner.registration_id == registration.id)
    ):
        session.delete(row)
    audit.record_by(
        session,
        identity,
        at=now,
        action="registration.cancel",
        target=unit.name,
        detail={"id": registration.id, "round": registration.round_key},
        chat_id=chat_id,
    )
    return Listed(
        registration.id,
        item.name,
        item.key,
        unit.name,
        registration.exam_date,
        registration.session_time,
        registration.learner_count,
        False,
    )


def change(
    session: Session,
    config: Config,
    identity: Identity,
    registration_id: int,
    *,
    exam_date: dt.date,
    session_time: str,
    now: dt.datetime,
    chat_id: int | None = None,
) -> Listed:
    registration, unit = _owned(session, identity, registration_id)
    item = find_round(config, registration.round_key)
    require_open(config, item, now)
    if not item.exam.contains(exam_date):
        raise Refused("date_outside", round=item.name, start=item.exam.start, end=item.exam.end)
    if session_time not in session_times(config):
        raise Refused("session_unknown", time=session_time)
    before = (registration.exam_date.isoformat(), registration.session_time)
    registration.exam_date = exam_date
    registration.session_time = session_time
    registration.updated_at = now
    session.add(registration)
    audit.record_by(
        session,
        identity,
        at=now,
        action="registration.change",
        target=unit.name,
        detail={"id": registration.id, "from": before, "to": (exam_date.isoformat(), session_time)},
        chat_id=chat_id,
    )
    return Listed(
        registration.id,
        item.name,
        item.key,
        unit.name,
        exam_date,
        session_time,
        registration.learner_count,
        True,
    )
