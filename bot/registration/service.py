"""Online exam registration (/register): the zone rounds (分众组考) and the makeup (补考).

A unit's administrator books a day of the round's exam window and one of the daily sessions
(for the makeup, which the notice gives no sessions, only if config gives it some: otherwise the
platform's province-wide makeup schedule applies and no day or session is booked),
for a number of learners or for named learners from the roster, while the round's registration
window is open by the injected clock (until ``day_deadline`` on its last day). Each step of the
conversation is one call here, in one unit of work; the rules the notice gives are enforced
here, never in the Telegram adapter: which exam the unit takes (``admission``: a category-exam
unit, a centralized-exam unit) is said at the start and checked again at every step, and a head
count is checked against the unit's roster (``attendees.headroom``).

The bot's registration row is the unit's choice, for the city office's overview. The platform
(如法网), where 报考 really happens, is asked to register the unit only through a gateway that
delivers tasks (``bot.registration.platform_tasks``); otherwise the administrator is told to
complete 报考 on the platform themselves.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.exc import IntegrityError

from bot.core import rounds
from bot.core.errors import Refused
from bot.core.rounds import ExamRound
from bot.core.uow import UnitOfWork
from bot.org.access import unit_in_scope
from bot.org.models import Unit
from bot.registration import admission, platform_tasks, schedule
from bot.registration.admission import Standing
from bot.registration.attendees import attendees
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.registration.models import Registration, RegistrationLearner
from bot.results import makeup
from bot.results.makeup import MakeupList


@dataclass(frozen=True)
class UnitRef:
    code: str
    name: str


@dataclass(frozen=True)
class Opening:
    """What /register starts with: the unit registered for, which exam it takes
    (``standing``), the rounds open now (none: ``rounds`` and ``now`` say when registration
    opens and closes) and, of those, the ones the unit may choose (``allowed``)."""

    unit: UnitRef
    open_rounds: list[ExamRound]
    rounds: list[ExamRound]
    today: dt.date
    standing: Standing | None = None
    allowed: list[ExamRound] = field(default_factory=list)
    now: dt.datetime | None = None
    seats: int = 0  # centralized-exam seats the unit holds
    states: dict[str, str] = field(default_factory=dict)  # round key → upcoming/open/closed
    closing: dict[str, dt.datetime] = field(default_factory=dict)  # round key → when it closes

    @property
    def excluded(self) -> list[ExamRound]:
        """Rounds open now that the unit's exam excludes (said in the first message)."""
        return [r for r in self.open_rounds if r not in self.allowed]


@dataclass(frozen=True)
class RegistrationRequest:
    """One session booking, as the conversation collected it."""

    round_key: str
    exam_date: dt.date | None  # None (and no session) for a round the platform schedules
    session_time: str | None  # "09:00"
    learners: str  # a count or login accounts, as typed
    unit_code: str | None = None  # None: the administrator's own unit
    # The gateway's ``queues_for_operator`` (None: as ``[platform] gateway`` says): whether the
    # platform is asked to register the unit (``platform_tasks.takes_registrations``).
    queues_for_operator: bool | None = None


@dataclass(frozen=True)
class Plan:
    """A checked registration, ready to confirm (nothing is written yet)."""

    round: ExamRound
    unit_id: int
    unit_name: str
    exam_date: dt.date | None  # None: the platform's province-wide makeup schedule applies
    session_time: str | None
    count: int
    deadline: dt.datetime  # credits complete by then (the evening before the exam)
    learner_ids: list[int] = field(default_factory=list)
    at_risk: list[str] = field(default_factory=list)  # masked names short of credits
    roster_checked: bool = True  # False: the unit has no roster, the count was not checked
    centralized: bool = False  # a centralized-exam unit booking zone sessions (approved)
    seats: int = 0  # the centralized-exam seats it holds besides


@dataclass(frozen=True)
class Registered:
    """A registration recorded: ``task_id`` is the platform task asking the platform to
    register the unit, None when the administrator completes 报考 on the platform."""

    id: int
    plan: Plan
    task_id: str | None = None


def registering_unit(uow: UnitOfWork, unit_code: str | None) -> Unit:
    """The unit a registration is for: the administrator's own, or a named unit of their scope."""
    return unit_in_scope(uow.session, uow.authorize(), unit_code)


def open_registration(uow: UnitOfWork, unit_code: str | None) -> Opening:
    """/register [unit code]: whom it is for, which exam it takes, and which rounds may be
    chosen now (the open ones its exam does not exclude)."""
    unit = registering_unit(uow, unit_code)
    found = admission.standing(uow.session, uow.config, unit)
    now, config = uow.now, uow.config
    every = rounds.registrable(config)
    open_now = schedule.open_rounds(config, now)
    return Opening(
        UnitRef(unit.code, unit.name),
        open_now,
        every,
        now.date(),
        standing=found,
        allowed=[r for r in open_now if not found.excludes(r)],
        now=now,
        seats=admission.seats_held(uow.session, unit) if found.centralized else 0,
        states={r.key: schedule.registration_state(config, r, now) for r in every},
        closing={
            r.key: moment for r in every if (moment := schedule.closes_at(config, r)) is not None
        },
    )


def choose_round(uow: UnitOfWork, unit_code: str | None, round_key: str) -> ExamRound:
    """The round chosen, if the administrator still may register the unit for it now."""
    unit = registering_unit(uow, unit_code)
    item = schedule.find_round(uow.config, round_key)
    schedule.require_open(uow.config, item, uow.now)
    admission.check(uow.session, uow.config, unit, item)
    return item


def makeup_offer(uow: UnitOfWork, unit_code: str | None, round_key: str) -> MakeupList | None:
    """Before the learner step: for the makeup, the unit's makeup list to register from."""
    unit = registering_unit(uow, unit_code)
    if not schedule.find_round(uow.config, round_key).is_makeup:
        return None
    return makeup.makeup_list(uow, unit, MAKEUP_REGISTRATIONS)


def check_assignment(uow: UnitOfWork, unit: Unit, item: ExamRound) -> Standing:
    """Notice 二 and 五（四）: a unit in a provincial department's category exam (at its level)
    takes that exam, not the city's zone exam, unless the department agreed (recorded as
    consent); a centralized-exam unit takes its zone exam at the exam centre unless the city
    office approved online sessions too. The makeup excludes nobody."""
    return admission.check(uow.session, uow.config, unit, item)


def booked_session(
    uow: UnitOfWork, item: ExamRound, request: RegistrationRequest
) -> tuple[dt.date | None, str | None]:
    """The day and session booked. A round without sessions (the makeup, unless config gives it
    sessions) is scheduled by the platform: nothing is booked, and a day or time sent anyway is
    not kept, so no time is invented."""
    if not schedule.books_sessions(uow.config, item):
        return None, None
    if request.exam_date is None:
        raise Refused("date_outside", round=item, start=item.exam.start, end=item.exam.end)
    schedule.require_exam_day(item, request.exam_date)
    schedule.require_session(uow.config, request.session_time or "", item)
    return request.exam_date, request.session_time


def plan(uow: UnitOfWork, request: RegistrationRequest) -> Plan:
    """Check everything for a registration; nothing is written."""
    uow.authorize()
    item = schedule.find_round(uow.config, request.round_key)
    schedule.require_open(uow.config, item, uow.now)
    unit = registering_unit(uow, request.unit_code)
    found = check_assignment(uow, unit, item)
    exam_date, session_time = booked_session(uow, item, request)
    who = attendees(uow, unit, item, request.learners)
    both = found.centralized and item.is_zone
    return Plan(
        round=item,
        unit_id=unit.id or 0,
        unit_name=unit.name,
        exam_date=exam_date,
        session_time=session_time,
        count=who.count,
        deadline=schedule.study_deadline(uow.config, exam_date or item.exam.start),
        learner_ids=who.learner_ids,
        at_risk=who.at_risk,
        roster_checked=who.roster_checked,
        centralized=both,
        seats=admission.seats_held(uow.session, unit) if both else 0,
    )


def commit(uow: UnitOfWork, request: RegistrationRequest) -> Registered:
    """Check the request again (the clock and the roster may have moved since the summary)
    and write it, with its audit row and, where the platform takes registrations, its
    platform task."""
    planned = plan(uow, request)
    identity = uow.authorize()
    registration = Registration(
        unit_id=planned.unit_id,
        round_key=planned.round.key,
        # The table needs a day: the makeup's first when the platform schedules it (no session).
        exam_date=planned.exam_date or planned.round.exam.start,
        session_time=planned.session_time or "",
        learner_count=planned.count,
        admin_id=identity.admin_id,
        created_at=uow.now,
        updated_at=uow.now,
    )
    uow.session.add(registration)
    uow.session.flush()
    assert registration.id is not None
    for learner_id in planned.learner_ids:
        uow.session.add(
            RegistrationLearner(
                registration_id=registration.id, learner_id=learner_id, round_key=planned.round.key
            )
        )
    try:
        uow.session.flush()
    except IntegrityError as exc:  # a learner booked meanwhile by someone else
        raise Refused("learners_taken", accounts=[], round=planned.round) from exc
    uow.audit(
        "registration.create",
        target=planned.unit_name,
        detail={
            "round": planned.round.key,
            "date": planned.exam_date.isoformat() if planned.exam_date else None,
            "session": planned.session_time,
            "count": planned.count,
            "named": len(planned.learner_ids),
        },
    )
    if not platform_tasks.takes_registrations(uow, request.queues_for_operator):
        return Registered(registration.id, planned)
    unit = registering_unit(uow, request.unit_code)
    task = platform_tasks.submit_booking(uow, registration, unit)
    return Registered(registration.id, planned, task.id)
