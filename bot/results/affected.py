"""The annual-assessment consequences (notice 六（三）), once the makeup exam window has ended by
the clock: a learner on the makeup list who never sat any round, makeup included → grade
deferred (``consequences.absent``); one who sat but never passed — failed the makeup, or failed
and skipped it → not rated excellent (``consequences.failed_makeup``). Shown to the
administrators whose scope covers the learner's current unit, and to the city office.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org import admins
from bot.results import outcomes
from bot.results.outcomes import MAKEUP_SAT, Outcome
from bot.roster.learners import mask_name

# Affected.detail: what the learner did (the template words it)
NEVER_SAT = "never_sat"  # no score in any round, makeup included
FAILED_MAKEUP = "failed_makeup"  # sat the makeup, below the pass mark
SKIPPED_MAKEUP = "skipped_makeup"  # failed the regular rounds, absent from the makeup


@dataclass(frozen=True)
class Affected:
    account: str
    masked_name: str
    unit_name: str
    detail: str  # NEVER_SAT | FAILED_MAKEUP | SKIPPED_MAKEUP
    best: float | None  # best regular-round score
    makeup_score: float | None


@dataclass(frozen=True)
class AffectedReport:
    unit_name: str
    absent: list[Affected]  # grade deferred (consequences.absent)
    failed: list[Affected]  # not rated excellent (consequences.failed_makeup)


def _detail(o: Outcome) -> str:
    if not o.sat_after:
        return NEVER_SAT
    return FAILED_MAKEUP if o.makeup == MAKEUP_SAT else SKIPPED_MAKEUP


def affected(uow: UnitOfWork, unit_code: str | None = None) -> AffectedReport:
    """Learners of the administrator's scope (their unit, or ``unit_code`` within it) whose
    annual assessment is affected; only once the makeup exam window has ended."""
    identity = uow.authorize()
    config = uow.config
    if not outcomes.makeup_closed(config, uow.now):
        raise Refused("affected_not_yet", end=config.makeup.exam.end)
    unit = admins.unit_in_scope(uow.session, identity, unit_code)
    names = outcomes.unit_names(uow.session, unit)
    absent: list[Affected] = []
    failed: list[Affected] = []
    learners = sorted(
        outcomes.load(uow.session, config, unit.path),
        key=lambda o: (names.get(o.unit_id, ""), o.account),
    )
    for o in learners:
        if not o.on_makeup_list or o.passed_after:
            continue
        item = Affected(
            o.account,
            mask_name(o.name),
            names.get(o.unit_id, ""),
            _detail(o),
            o.best_before,
            o.makeup_score,
        )
        (failed if o.sat_after else absent).append(item)
    return AffectedReport(unit.name, absent, failed)
