"""The annual-assessment consequences (notice 六（三）), once the makeup exam window has ended by
the clock: a learner on the makeup list who never sat any round, makeup included → grade
deferred (``consequences.absent``); one who sat but never passed — failed the makeup, or failed
and skipped it → not rated excellent (``consequences.failed_makeup``). Shown to the
administrators whose scope covers the learner's current unit, and to the city office.

Until makeup results are imported the list cannot be final: a learner registered for the makeup
may have sat it. Then the report is ``provisional`` (whenever makeup registrations exist in the
scope, or cannot be looked up), and a learner named in a makeup registration without a makeup
result is listed apart (``registered``: "registered for the makeup, result not imported"), never
as having missed it. Registrations are the registration capability's, asked through the
``MakeupRegistrations`` the caller passes in (``bot.registration.makeup_registrations``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org import admins
from bot.results import outcomes
from bot.results.makeup import MakeupRegistrations
from bot.results.outcomes import MAKEUP_NONE, MAKEUP_SAT, Outcome
from bot.roster.learners import mask_name

# Affected.detail: what the learner did (the template words it)
NEVER_SAT = "never_sat"  # no score in any round, makeup included
FAILED_MAKEUP = "failed_makeup"  # sat the makeup, below the pass mark
SKIPPED_MAKEUP = "skipped_makeup"  # failed the regular rounds, absent from the makeup
REGISTERED_MAKEUP = "registered_makeup"  # named in a makeup registration, no makeup result yet


@dataclass(frozen=True)
class Affected:
    account: str
    masked_name: str
    unit_name: str
    detail: str  # NEVER_SAT | FAILED_MAKEUP | SKIPPED_MAKEUP | REGISTERED_MAKEUP
    best: float | None  # best regular-round score
    makeup_score: float | None


@dataclass(frozen=True)
class AffectedReport:
    unit_name: str
    absent: list[Affected]  # grade deferred (consequences.absent)
    failed: list[Affected]  # not rated excellent (consequences.failed_makeup)
    registered: list[Affected] = field(default_factory=list)  # REGISTERED_MAKEUP: not yet known
    provisional: bool = False  # makeup results not imported while the makeup has registrations
    counted: int = 0  # learners registered for the makeup by a head count (naming nobody)


def _detail(o: Outcome) -> str:
    if not o.sat_after:
        return NEVER_SAT
    return FAILED_MAKEUP if o.makeup == MAKEUP_SAT else SKIPPED_MAKEUP


def affected(
    uow: UnitOfWork,
    unit_code: str | None = None,
    registrations: MakeupRegistrations | None = None,
) -> AffectedReport:
    """Learners of the administrator's scope (their unit, or ``unit_code`` within it) whose
    annual assessment is affected; only once the makeup exam window has ended. Without
    ``registrations`` nobody can be told registered for the makeup, so the report is
    provisional as long as no makeup result is imported."""
    identity = uow.authorize()
    config = uow.config
    if not outcomes.makeup_closed(config, uow.now):
        raise Refused("affected_not_yet", end=config.makeup.exam.end)
    unit = admins.unit_in_scope(uow.session, identity, unit_code)
    names = outcomes.unit_names(uow.session, unit)
    absent: list[Affected] = []
    failed: list[Affected] = []
    waiting: list[Affected] = []
    learners = sorted(
        (o for o in outcomes.load(uow.session, config, unit.path) if o.on_makeup_list),
        key=lambda o: (names.get(o.unit_id, ""), o.account),
    )
    due = [o for o in learners if not o.passed_after]
    named = (
        registrations.named(uow.session, [o.learner_id for o in due]) if registrations else set()
    )
    counted = (
        sum(n for unit_id, n in registrations.counted(uow.session) if unit_id in names)
        if registrations
        else 0
    )
    for o in due:
        registered = o.learner_id in named and o.makeup == MAKEUP_NONE
        item = Affected(
            o.account,
            mask_name(o.name),
            names.get(o.unit_id, ""),
            REGISTERED_MAKEUP if registered else _detail(o),
            o.best_before,
            o.makeup_score,
        )
        (waiting if registered else failed if o.sat_after else absent).append(item)
    imported = outcomes.has_makeup_results(uow.session)
    provisional = not imported and (registrations is None or bool(named) or counted > 0)
    return AffectedReport(unit.name, absent, failed, waiting, provisional, counted)
