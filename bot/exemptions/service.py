"""Exemption filings (免考, notice 三).

A learner may be exempted for one of three reasons (retirement within the configured window,
maternity leave, serious illness). The notice's procedure is a chain of steps, and the bot
records each one with who and when:

    filed          the learner's written application and proof, entered by an in-scope
                   administrator (``open_filing``)
    hr_reviewed    the unit's organisation/personnel (HR) department has reviewed it
    head_approved  the unit's principal head has approved it
    city_filed     the city office has put it on file (``file_with_city``, city office only)

Only at ``city_filed`` does the learner become exempt. Any other way of making a learner exempt
is refused with the notice's warning: it counts as evading the exam. ``rejected`` ends a filing
at any step before the city office files it. Every state change writes an audit row in the same
transaction, and a step is claimed with a conditional UPDATE so it is recorded exactly once.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.config import Config
from bot.core.errors import Refused
from bot.exemptions.models import ExemptionFiling, ExemptionReason, ExemptionState, ExemptionStep
from bot.org.admins import require_city, require_scope
from bot.org.identity import Identity
from bot.org.models import Role, Unit
from bot.roster.learners import mask_name, parse_account
from bot.roster.models import Learner

S = ExemptionState

# The state a filing must be in before each step. (Templates name the steps with
# ``config.exemption.steps`` by position: filed 0, hr_reviewed 1, head_approved 2, city_filed 3.)
PREVIOUS = {S.HR_REVIEWED: S.FILED, S.HEAD_APPROVED: S.HR_REVIEWED, S.CITY_FILED: S.HEAD_APPROVED}
OPEN_STATES = (S.FILED, S.HR_REVIEWED, S.HEAD_APPROVED)
# States an administrator of the learner's unit (or above) records; the city office files.
UNIT_STEPS = (S.HR_REVIEWED, S.HEAD_APPROVED)

REASON_WORDS: dict[str, ExemptionReason] = {
    "retirement": ExemptionReason.RETIREMENT,
    "retire": ExemptionReason.RETIREMENT,
    "退休": ExemptionReason.RETIREMENT,
    "临近退休": ExemptionReason.RETIREMENT,
    "maternity": ExemptionReason.MATERNITY,
    "产假": ExemptionReason.MATERNITY,
    "休产假": ExemptionReason.MATERNITY,
    "illness": ExemptionReason.ILLNESS,
    "重病": ExemptionReason.ILLNESS,
    "疾病": ExemptionReason.ILLNESS,
    "重大疾病": ExemptionReason.ILLNESS,
    "大病": ExemptionReason.ILLNESS,
}
MAX_NOTE = 200
_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")


def parse_reason(text: str | None) -> ExemptionReason:
    word = unicodedata.normalize("NFKC", text or "").strip().lower()
    if not word:
        raise Refused("exempt_usage")
    reason = REASON_WORDS.get(word)
    if reason is None:
        raise Refused("exempt_reason_unknown", reason=word[:20])
    return reason


def parse_date(text: str) -> dt.date:
    match = _DATE.match(unicodedata.normalize("NFKC", text).strip())
    if match is None:
        raise Refused("exempt_date_malformed", text=text[:20])
    try:
        return dt.date(*(int(g) for g in match.groups()))
    except ValueError:
        raise Refused("exempt_date_malformed", text=text[:20]) from None


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def retirement_window(config: Config, today: dt.date) -> tuple[dt.date, dt.date]:
    """The retirement dates that qualify, both ends included.

    The notice: "2022年12月30日前距退休时间在2周年内的" — as of the cut-off date (2022-12-30),
    the time left until retirement is at most two full years. So the latest qualifying
    retirement date is the cut-off plus ``retirement_within_years`` calendar years (2024-12-30).
    A learner retiring *before* the cut-off is even closer to retirement and qualifies as well,
    as long as they are still in service: the earliest date is today (someone whose retirement
    date has passed is no longer a participant at all and belongs in the roster as 不在职, not
    in an exemption). Between today and the cut-off this is wider than "cut-off ≤ date"; a
    learner retiring next month is plainly "within two years of retirement".
    """
    ex = config.exemption
    return today, _add_years(ex.retirement_cutoff, ex.retirement_within_years)


# --- views -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class StepView:
    state: str
    actor: str
    at: dt.datetime
    note: str


@dataclass(frozen=True)
class FilingView:
    id: int
    account: str
    masked_name: str
    unit_name: str
    reason: str
    retirement_date: dt.date | None
    state: str
    steps: list[StepView]
    exempt: bool


def _view(session: Session, filing: ExemptionFiling) -> FilingView:
    learner = session.get(Learner, filing.learner_id)
    unit = session.get(Unit, learner.unit_id)
    steps = session.exec(
        select(ExemptionStep)
        .where(ExemptionStep.filing_id == filing.id)
        .order_by(col(ExemptionStep.at), col(ExemptionStep.id))
    ).all()
    return FilingView(
        id=filing.id,  # type: ignore[arg-type]
        account=learner.account,
        masked_name=mask_name(learner.name),
        unit_name=unit.name,
        reason=filing.reason,
        retirement_date=filing.retirement_date,
        state=filing.state,
        steps=[StepView(s.state, s.actor, s.at, s.note) for s in steps],
        exempt=learner.exempt,
    )


def _record_step(
    session: Session,
    identity: Identity,
    filing: ExemptionFiling,
    state: ExemptionState,
    now: dt.datetime,
    *,
    note: str = "",
    chat_id: int | None = None,
    detail: dict | None = None,
    target: str = "",
) -> None:
    session.add(
        ExemptionStep(
            filing_id=filing.id,
            state=state,
            admin_id=identity.admin_id,
            telegram_user_id=identity.telegram_user_id,
            actor=identity.unit_name,
            note=note[:MAX_NOTE],
            at=now,
        )
    )
    audit.record(
        session,
        at=now,
        action=f"exemption.{state.value}",
        actor=identity.unit_name,
        target=target,
        detail={"filing_id": filing.id, "reason": filing.reason, **(detail or {})},
        actor_admin_id=identity.admin_id,
        actor_telegram_id=identity.telegram_user_id,
        chat_id=chat_id,
    )


def _learner(session: Session, account: str) -> tuple[Learner, Unit]:
    row = session.exec(
        select(Learner, Unit)
        .join(Unit, Unit.id == Learner.unit_id)
        .where(Learner.account == account)
    ).first()
    if row is None:
        raise Refused("learner_unknown", account=account)
    return row


# --- opening a filing ---------------------------------------------------------------------------


def open_filing(
    session: Session,
    config: Config,
    identity: Identity,
    account: str | None,
    reason: str | ExemptionReason | None,
    retirement_date: dt.date | str | None,
    now: dt.datetime,
    *,
    chat_id: int | None = None,
) -> FilingView:
    """Open a filing for a learner of the administrator's scope (state ``filed``)."""
    account = parse_account(account)
    kind = reason if isinstance(reason, ExemptionReason) else parse_reason(reason)
    learner, unit = _learner(session, account)
    require_scope(identity, unit)
    if not learner.in_service:
        raise Refused("exempt_not_in_service", account=account)
    if learner.exempt:
        raise Refused("exempt_already", account=account)
    existing = session.exec(
        select(ExemptionFiling).where(
            ExemptionFiling.learner_id == learner.id,
            col(ExemptionFiling.state) != S.REJECTED,
        )
    ).first()
    if existing is not None:
        raise Refused("exempt_open_exists", id=existing.id, state=existing.state)
    when: dt.date | None = None
    if kind == ExemptionReason.RETIREMENT:
        if retirement_date is None or retirement_date == "":
            raise Refused("exempt_date_missing")
        when = (
            retirement_date if isinstance(retirement_date, dt.date) else parse_date(retirement_date)
        )
        earliest, latest = retirement_window(config, now.astimezone(config.tz).date())
        if when < earliest:
            raise Refused("exempt_already_retired", date=when.isoformat())
        if when > latest:
            raise Refused("exempt_retirement_window", date=when.isoformat(), latest=latest)
    filing = ExemptionFiling(
        learner_id=learner.id,  # type: ignore[arg-type]
        reason=kind,
        retirement_date=when,
        state=S.FILED,
        created_at=now,
        updated_at=now,
    )
    session.add(filing)
    try:
        session.flush()
    except IntegrityError:  # another filing for this learner was opened at the same moment
        raise Refused("exempt_open_exists", id="?", state=S.FILED.value) from None
    _record_step(
        session,
        identity,
        filing,
        S.FILED,
        now,
        chat_id=chat_id,
        target=learner.account,
        detail={"unit": unit.code, "retirement_date": when.isoformat() if when else None},
    )
    session.flush()
    return _view(session, filing)


# --- moving a filing along ---------------------------------------------------------------------


def _filing(
    session: Session, identity: Identity, filing_id: int
) -> tuple[ExemptionFiling, Learner]:
    filing = session.get(ExemptionFiling, filing_id)
    if filing is None:
        raise Refused("exempt_unknown", id=filing_id)
    learner = session.get(Learner, filing.learner_id)
    unit = session.get(Unit, learner.unit_id)
    require_scope(identity, unit)
    return filing, learner


def _claim(
    session: Session, filing: ExemptionFiling, expected: ExemptionState, to: ExemptionState, now
) -> None:
    """Move the filing from ``expected`` to ``to`` exactly once (a conditional UPDATE)."""
    if filing.state != expected:
        raise Refused(
            "exempt_wrong_state",
            id=filing.id,
            state=filing.state,
            wanted=to.value,
            expected=expected.value,
        )
    claimed = session.execute(
        update(ExemptionFiling)
        .where(col(ExemptionFiling.id) == filing.id, col(ExemptionFiling.state) == expected)
        .values(state=to, updated_at=now)
    )
    if claimed.rowcount != 1:
        raise Refused(
            "exempt_wrong_state",
            id=filing.id,
            state="changed",
            wanted=to.value,
            expected=expected.value,
        )
    filing.state = to
    filing.updated_at = now


def advance(
    session: Session,
    identity: Identity,
    filing_id: int,
    step: ExemptionState | str,
    now: dt.datetime,
    *,
    note: str = "",
    chat_id: int | None = None,
) -> FilingView:
    """Record the HR review or the head's approval. An administrator of the learner's unit or of
    a unit above it (county, city) records them, in order."""
    target = S(step)
    if target not in UNIT_STEPS:
        raise Refused("exempt_step_unknown", step=str(step))
    filing, learner = _filing(session, identity, filing_id)
    _claim(session, filing, PREVIOUS[target], target, now)
    _record_step(
        session, identity, filing, target, now, note=note, chat_id=chat_id, target=learner.account
    )
    session.flush()
    return _view(session, filing)


def file_with_city(
    session: Session,
    identity: Identity,
    filing_id: int,
    now: dt.datetime,
    *,
    note: str = "",
    chat_id: int | None = None,
) -> FilingView:
    """The city office puts an approved filing on file; only now is the learner exempt."""
    require_city(identity)
    filing, learner = _filing(session, identity, filing_id)
    _claim(session, filing, S.HEAD_APPROVED, S.CITY_FILED, now)
    learner.exempt = True
    learner.updated_at = now
    session.add(learner)
    _record_step(
        session,
        identity,
        filing,
        S.CITY_FILED,
        now,
        note=note,
        chat_id=chat_id,
        target=learner.account,
        detail={"exempt": True},
    )
    session.flush()
    return _view(session, filing)


def reject(
    session: Session,
    identity: Identity,
    filing_id: int,
    now: dt.datetime,
    *,
    note: str = "",
    chat_id: int | None = None,
) -> FilingView:
    """End a filing that is not yet on file with the city office (in-scope administrators)."""
    filing, learner = _filing(session, identity, filing_id)
    if filing.state not in OPEN_STATES:
        raise Refused("exempt_not_open", id=filing.id, state=filing.state)
    _claim(session, filing, S(filing.state), S.REJECTED, now)
    _record_step(
        session,
        identity,
        filing,
        S.REJECTED,
        now,
        note=note,
        chat_id=chat_id,
        target=learner.account,
    )
    session.flush()
    return _view(session, filing)


# --- the only way to exempt, and lists ---------------------------------------------------------


def set_exempt(session: Session, identity: Identity, account: str | None) -> FilingView:
    """Asked to mark a learner exempt directly: the notice forbids it. Refused with the reason,
    unless the learner's filing is already on file with the city office (then nothing to do)."""
    account = parse_account(account)
    learner, unit = _learner(session, account)
    require_scope(identity, unit)
    filed = session.exec(
        select(ExemptionFiling).where(
            ExemptionFiling.learner_id == learner.id, ExemptionFiling.state == S.CITY_FILED
        )
    ).first()
    if filed is None:
        raise Refused("exempt_set_refused", account=account)
    return _view(session, filed)


def list_filings(session: Session, identity: Identity, *, limit: int = 200) -> list[FilingView]:
    """Filings of learners in the administrator's scope (the city office sees all), newest
    first."""
    query = (
        select(ExemptionFiling)
        .join(Learner, Learner.id == ExemptionFiling.learner_id)
        .join(Unit, Unit.id == Learner.unit_id)
        .order_by(col(ExemptionFiling.created_at).desc(), col(ExemptionFiling.id).desc())
    )
    if identity.role != Role.CITY:
        query = query.where(col(Unit.path).startswith(identity.unit_path))
    return [_view(session, f) for f in session.exec(query.limit(limit))]
