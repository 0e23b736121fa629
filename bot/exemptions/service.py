"""Exemption filings (免考, notice 三).

A learner may be exempted for one of three reasons (retirement within the configured window,
maternity leave, serious illness). The notice's procedure is a chain of steps, and the bot
records each one with who and when:

    filed          the learner's written application and proof, entered by an in-scope
                   administrator (``open_filing``)
    hr_reviewed    the unit's organisation/personnel (HR) department has reviewed it
    head_approved  the unit's principal head has approved it
    city_filed     the city office has put it on file (``file_with_city``, city office only)
    revoked        the city office's spot-check found it wrong (``revoke``, city office only)

Only a filing on file makes the learner exempt, and only once the platform (如法网, the system
of record) has set the flag: ``city_filed`` writes an ``exemption_set`` platform task and the
bot shows the learner as exempt when the platform applied it (``bot.exemptions.flag``);
``revoked`` writes an ``exemption_clear`` task, mirrored the same way. Any other way of making a
learner exempt is refused with the notice's warning: it counts as evading the exam. ``rejected``
ends a filing at any step before the city office files it. Every state change writes an audit
row in the same transaction, and a step is claimed with a conditional UPDATE so it is recorded
exactly once.

A learner already registered for a coming exam session is not withdrawn from it by a filing:
the filing's result names the sessions (``FilingView.registered``, from the ``Registrations`` the
caller passes in) and says the registration should be withdrawn, when the filing is opened and
when the city office files it.

Every action runs in a unit of work and is taken by the administrator it authorizes; the role
and scope checks are here, never in an adapter.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.exemptions import flag
from bot.exemptions.models import ExemptionFiling, ExemptionReason, ExemptionState, ExemptionStep
from bot.exemptions.registered import RegisteredSession, Registrations
from bot.exemptions.rules import parse_reason, retirement_date
from bot.org.access import require_city, require_scope
from bot.org.identity import Identity
from bot.org.models import Role, Unit
from bot.platform.models import TaskKind
from bot.platform.tasks import TaskView
from bot.roster.accounts import learner_in_scope
from bot.roster.learners import mask_name, parse_account
from bot.roster.models import Learner

S = ExemptionState

# The state a filing must be in before each step. (Templates name the steps with
# ``config.exemption.steps`` by position: filed 0, hr_reviewed 1, head_approved 2, city_filed 3.)
PREVIOUS = {S.HR_REVIEWED: S.FILED, S.HEAD_APPROVED: S.HR_REVIEWED, S.CITY_FILED: S.HEAD_APPROVED}
OPEN_STATES = (S.FILED, S.HR_REVIEWED, S.HEAD_APPROVED)
# States an administrator of the learner's unit (or above) records; the city office files.
UNIT_STEPS = (S.HR_REVIEWED, S.HEAD_APPROVED)
# The platform task that carries out a filing's last step (None: nothing on the platform).
TASK_OF_STATE = {S.CITY_FILED: TaskKind.EXEMPTION_SET, S.REVOKED: TaskKind.EXEMPTION_CLEAR}
MAX_NOTE = 200
LIST_LIMIT = 200


# --- commands ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenFiling:
    """Open a filing: the learner's account, the reason as written (or the reason itself) and,
    for retirement, the retirement date (as written or a date)."""

    account: str | None
    reason: str | ExemptionReason | None
    retirement_date: dt.date | str | None = None


@dataclass(frozen=True)
class StepRequest:
    """Record the step that brings filing ``filing_id`` to state ``step``, with a note."""

    filing_id: int
    step: str
    note: str = ""


@dataclass(frozen=True)
class FilingNote:
    """Act on filing ``filing_id`` (file it with the city office, reject or revoke it), with a
    note (for a revocation, its reason)."""

    filing_id: int
    note: str = ""


# --- views ------------------------------------------------------------------------------------


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
    exempt: bool  # as the platform shows it (the bot mirrors what the platform applied)
    task: TaskView | None = None  # the platform task of the filing's last step, if any
    submitted: str | None = None  # the id of the task this action submitted
    # coming sessions the learner is registered for (looked up when a filing is opened or filed)
    registered: list[RegisteredSession] = field(default_factory=list)


@dataclass(frozen=True)
class FilingList:
    """Filings in an administrator's scope: the whole city's, or those of ``unit_name`` and the
    units below it."""

    filings: list[FilingView]
    whole_city: bool
    unit_name: str


def _learner_and_unit(session: Session, learner_id: int) -> tuple[Learner, Unit]:
    learner = session.get(Learner, learner_id)
    unit = session.get(Unit, learner.unit_id) if learner is not None else None
    if learner is None or unit is None:  # foreign keys make this impossible
        raise LookupError(f"learner {learner_id} or its unit is missing")
    return learner, unit


def _view(session: Session, filing: ExemptionFiling) -> FilingView:
    learner, unit = _learner_and_unit(session, filing.learner_id)
    steps = session.exec(
        select(ExemptionStep)
        .where(ExemptionStep.filing_id == filing.id)
        .order_by(col(ExemptionStep.at), col(ExemptionStep.id))
    ).all()
    assert filing.id is not None  # a stored filing
    kind = TASK_OF_STATE.get(S(filing.state))
    task = flag.task_of(session, filing, learner.account, kind.value) if kind else None
    return FilingView(
        id=filing.id,
        account=learner.account,
        masked_name=mask_name(learner.name),
        unit_name=unit.name,
        reason=filing.reason,
        retirement_date=filing.retirement_date,
        state=filing.state,
        steps=[StepView(s.state, s.actor, s.at, s.note) for s in steps],
        exempt=learner.exempt,
        task=task,
    )


# --- recording --------------------------------------------------------------------------------


def _record_step(
    uow: UnitOfWork,
    filing: ExemptionFiling,
    state: ExemptionState,
    *,
    target: str,
    note: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    """The step row (who, when, the note) and its audit row, in the unit of work."""
    identity: Identity = uow.authorize()
    assert filing.id is not None  # flushed before its first step
    uow.session.add(
        ExemptionStep(
            filing_id=filing.id,
            state=state,
            admin_id=identity.admin_id,
            telegram_user_id=identity.telegram_user_id,
            actor=identity.unit_name,
            note=note[:MAX_NOTE],
            at=uow.now,
        )
    )
    uow.audit(
        f"exemption.{state.value}",
        target=target,
        detail={"filing_id": filing.id, "reason": filing.reason, **(detail or {})},
    )


# --- opening a filing -------------------------------------------------------------------------


def _with_sessions(
    uow: UnitOfWork, view: FilingView, learner: Learner, registrations: Registrations | None
) -> FilingView:
    """The view, with the coming sessions the learner is registered for (when asked)."""
    if registrations is None or learner.id is None:
        return view
    coming = registrations.coming(uow.session, uow.config, learner.id, uow.now)
    return replace(view, registered=coming)


def open_filing(
    uow: UnitOfWork, request: OpenFiling, registrations: Registrations | None = None
) -> FilingView:
    """Open a filing for a learner of the administrator's scope (state ``filed``). With
    ``registrations``, the result names the coming sessions the learner is registered for."""
    identity = uow.authorize()
    if not request.account or not request.reason:
        raise Refused("exempt_usage")
    account = parse_account(request.account)
    reason = request.reason
    kind = reason if isinstance(reason, ExemptionReason) else parse_reason(reason)
    learner, unit = learner_in_scope(uow.session, identity, account)
    if not learner.in_service:
        raise Refused("exempt_not_in_service", account=account)
    if learner.exempt:
        raise Refused("exempt_already", account=account)
    existing = uow.session.exec(
        select(ExemptionFiling).where(
            ExemptionFiling.learner_id == learner.id,
            col(ExemptionFiling.state) != S.REJECTED,
        )
    ).first()
    if existing is not None and existing.state == S.REVOKED:
        raise Refused("exempt_revoked", id=existing.id, account=account)
    if existing is not None:
        raise Refused("exempt_open_exists", id=existing.id, state=existing.state)
    when: dt.date | None = None
    if kind == ExemptionReason.RETIREMENT:
        today = uow.now.astimezone(uow.config.tz).date()
        when = retirement_date(uow.config, request.retirement_date, today)
    assert learner.id is not None  # a stored learner
    filing = ExemptionFiling(
        learner_id=learner.id,
        reason=kind,
        retirement_date=when,
        state=S.FILED,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(filing)
    try:
        uow.session.flush()
    except IntegrityError:  # another filing for this learner was opened at the same moment
        raise Refused("exempt_open_exists", id="?", state=S.FILED.value) from None
    _record_step(
        uow,
        filing,
        S.FILED,
        target=learner.account,
        detail={"unit": unit.code, "retirement_date": when.isoformat() if when else None},
    )
    uow.session.flush()
    return _with_sessions(uow, _view(uow.session, filing), learner, registrations)


# --- moving a filing along --------------------------------------------------------------------


def _state(step: str) -> ExemptionState:
    try:
        return S(step)
    except ValueError:
        raise Refused("exempt_step_unknown", step=str(step)[:20]) from None


def _filing_in_scope(uow: UnitOfWork, filing_id: int) -> tuple[ExemptionFiling, Learner, Unit]:
    """The filing, if it exists and its learner lies in the administrator's scope."""
    filing = uow.session.get(ExemptionFiling, filing_id)
    if filing is None:
        raise Refused("exempt_unknown", id=filing_id)
    learner, unit = _learner_and_unit(uow.session, filing.learner_id)
    require_scope(uow.authorize(), unit)
    return filing, learner, unit


_STEPS = (S.HR_REVIEWED, S.HEAD_APPROVED, S.CITY_FILED)
# For each step, the states in which it has been recorded already (it or a later step).
_AT_OR_AFTER: dict[ExemptionState, tuple[ExemptionState, ...]] = {
    step: _STEPS[i:] for i, step in enumerate(_STEPS)
}


def _claim(
    uow: UnitOfWork, filing: ExemptionFiling, expected: ExemptionState, to: ExemptionState
) -> None:
    """Move the filing from ``expected`` to ``to`` exactly once (a conditional UPDATE)."""

    def wrong_state(state: str) -> Refused:
        return Refused(
            "exempt_wrong_state",
            id=filing.id,
            state=state,
            wanted=to.value,
            expected=expected.value,
        )

    if filing.state in _AT_OR_AFTER.get(to, ()):  # this step (or a later one) is done already
        raise Refused("exempt_step_done", id=filing.id, state=filing.state, wanted=to.value)
    if filing.state != expected:
        raise wrong_state(filing.state)
    claimed: CursorResult[Any] = uow.session.execute(  # type: ignore[assignment]
        update(ExemptionFiling)
        .where(col(ExemptionFiling.id) == filing.id, col(ExemptionFiling.state) == expected)
        .values(state=to, updated_at=uow.now)
    )
    if claimed.rowcount != 1:
        raise wrong_state("changed")
    filing.state = to
    filing.updated_at = uow.now


def advance(uow: UnitOfWork, request: StepRequest) -> FilingView:
    """Record the HR review or the head's approval. An administrator of the learner's unit or of
    a unit above it (county, city) records them, in order."""
    target = _state(request.step)
    if target not in UNIT_STEPS:
        raise Refused("exempt_step_unknown", step=str(request.step)[:20])
    filing, learner, _unit = _filing_in_scope(uow, request.filing_id)
    _claim(uow, filing, PREVIOUS[target], target)
    _record_step(uow, filing, target, target=learner.account, note=request.note)
    uow.session.flush()
    return _view(uow.session, filing)


def _require_no_open_task(uow: UnitOfWork, filing: ExemptionFiling, learner: Learner) -> None:
    """One exemption task at a time per learner: the platform applies them in order."""
    pending = flag.open_task(uow.session, learner.account)
    if pending is not None:
        raise Refused("exempt_task_open", id=filing.id, kind=pending.kind, task=pending.id[:8])


def _submitted(uow: UnitOfWork, filing: ExemptionFiling, task_id: str | None) -> FilingView:
    uow.session.flush()
    return replace(_view(uow.session, filing), submitted=task_id)


def file_with_city(
    uow: UnitOfWork, request: FilingNote, registrations: Registrations | None = None
) -> FilingView:
    """The city office puts an approved filing on file and the platform is asked to show the
    learner as exempt; the learner is exempt in the bot once the platform has applied it.
    With ``registrations``, the result names the coming sessions the learner is registered for.

    A filing on file whose flag the platform refused (and that has no task open) may be filed
    again: the same task is submitted anew, no step is recorded twice."""
    require_city(uow.authorize())
    filing, learner, unit = _filing_in_scope(uow, request.filing_id)
    _require_no_open_task(uow, filing, learner)
    if filing.state == S.CITY_FILED and not learner.exempt:
        task = flag.request_set(uow, filing, learner, unit)
        uow.audit("exemption.resubmit", target=learner.account, detail={"filing_id": filing.id})
        return _with_sessions(uow, _submitted(uow, filing, task.id), learner, registrations)
    _claim(uow, filing, S.HEAD_APPROVED, S.CITY_FILED)
    _record_step(uow, filing, S.CITY_FILED, target=learner.account, note=request.note)
    task = flag.request_set(uow, filing, learner, unit)
    return _with_sessions(uow, _submitted(uow, filing, task.id), learner, registrations)


def revoke(uow: UnitOfWork, request: FilingNote) -> FilingView:
    """The city office undoes a filing its spot-check found wrong (the reason is required).
    The platform is asked to clear the exemption, unless it never set it (then there is
    nothing to undo there). A revocation the platform refused may be sent again."""
    require_city(uow.authorize())
    if not request.note.strip():
        raise Refused("exempt_revoke_usage")
    filing, learner, unit = _filing_in_scope(uow, request.filing_id)
    note = request.note.strip()[:MAX_NOTE]
    if filing.state not in (S.CITY_FILED, S.REVOKED):
        raise Refused("exempt_not_filed", id=filing.id, state=filing.state)
    _require_no_open_task(uow, filing, learner)
    if filing.state == S.REVOKED:  # the platform refused to clear it: ask again, or nothing
        if not learner.exempt:
            raise Refused("exempt_not_filed", id=filing.id, state=filing.state)
        task = flag.request_clear(uow, filing, learner, unit, note)
        uow.audit("exemption.resubmit", target=learner.account, detail={"filing_id": filing.id})
        return _submitted(uow, filing, task.id)
    _claim(uow, filing, S.CITY_FILED, S.REVOKED)
    _record_step(uow, filing, S.REVOKED, target=learner.account, note=note)
    cleared = flag.request_clear(uow, filing, learner, unit, note) if learner.exempt else None
    return _submitted(uow, filing, cleared.id if cleared else None)


def reject(uow: UnitOfWork, request: FilingNote) -> FilingView:
    """End a filing that is not yet on file with the city office (in-scope administrators)."""
    filing, learner, _unit = _filing_in_scope(uow, request.filing_id)
    if filing.state not in OPEN_STATES:
        raise Refused("exempt_not_open", id=filing.id, state=filing.state)
    _claim(uow, filing, S(filing.state), S.REJECTED)
    _record_step(uow, filing, S.REJECTED, target=learner.account, note=request.note)
    uow.session.flush()
    return _view(uow.session, filing)


def record_step(
    uow: UnitOfWork, request: StepRequest, registrations: Registrations | None = None
) -> FilingView:
    """Any step by the state it reaches: the unit's steps, the city's filing, or a rejection."""
    target = _state(request.step)
    if target == S.CITY_FILED:
        return file_with_city(uow, FilingNote(request.filing_id, request.note), registrations)
    if target == S.REJECTED:
        return reject(uow, FilingNote(request.filing_id, request.note))
    if target == S.REVOKED:
        return revoke(uow, FilingNote(request.filing_id, request.note))
    return advance(uow, request)


# --- the only way to exempt, and lists --------------------------------------------------------


def set_exempt(uow: UnitOfWork, account: str | None) -> FilingView:
    """Asked to mark a learner exempt directly: the notice forbids it. Refused with the reason,
    unless the learner's filing is already on file with the city office (then nothing to do)."""
    identity = uow.authorize()
    if account is None:
        raise Refused("exempt_set_refused")
    account = parse_account(account)
    learner, _unit = learner_in_scope(uow.session, identity, account)
    filed = uow.session.exec(
        select(ExemptionFiling).where(
            ExemptionFiling.learner_id == learner.id, ExemptionFiling.state == S.CITY_FILED
        )
    ).first()
    if filed is None:
        raise Refused("exempt_set_refused", account=account)
    return _view(uow.session, filed)


def list_filings(uow: UnitOfWork, *, limit: int = LIST_LIMIT) -> FilingList:
    """Filings of learners in the administrator's scope (the city office sees all), newest
    first."""
    identity: Identity = uow.authorize()
    whole_city = identity.role == Role.CITY
    query = (
        select(ExemptionFiling)
        .join(Learner, col(Learner.id) == col(ExemptionFiling.learner_id))
        .join(Unit, col(Unit.id) == col(Learner.unit_id))
        .order_by(col(ExemptionFiling.created_at).desc(), col(ExemptionFiling.id).desc())
    )
    if not whole_city:
        query = query.where(col(Unit.path).startswith(identity.unit_path))
    filings = [_view(uow.session, f) for f in uow.session.exec(query.limit(limit))]
    return FilingList(filings, whole_city, identity.unit_name)
