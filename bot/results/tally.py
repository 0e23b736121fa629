"""Base, sat and passed per unit, before and after the makeup, counted by the database.

The same definitions as ``bot.results.outcomes`` (which reads one learner at a time for the
lists), computed as one aggregate query: per base learner the best regular score, the unit of the
latest regular round with a result and the makeup result; then grouped by the pair of units the
learner counts for before and after the makeup. Python only adds each unit's own counts to the
units above it (a few thousand units, not a hundred thousand learners).

``within``: only the learners who can count anywhere in that subtree — those whose roster unit is
in it, or who have a result recorded for a unit in it — so a unit's /results reads its own rows.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    CompoundSelect,
    and_,
    case,
    func,
    literal,
    or_,
    select,
    union,
)
from sqlmodel import Session, col

from bot.core import rounds
from bot.core.config import Config
from bot.org.models import Unit
from bot.results.models import ExamResult
from bot.roster.models import Learner

UNIT_SPAN = 1 << 32  # above any unit id


@dataclass
class Row:
    """Counts of one unit (its own learners, or its subtree once rolled up)."""

    base: int = 0
    sat: int = 0
    passed: int = 0

    def add(self, base: int, sat: int, passed: int) -> None:
        self.base += base
        self.sat += sat
        self.passed += passed


@dataclass
class Tally:
    before: dict[int, Row]
    after: dict[int, Row]


def _scope(within: str) -> CompoundSelect:
    """The ids of the learners who can count in the subtree at path ``within``."""
    by_roster = (
        select(col(Learner.id))
        .join(Unit, col(Unit.id) == col(Learner.unit_id))
        .where(col(Unit.path).startswith(within))
    )
    by_result = (
        select(col(ExamResult.learner_id))
        .join(Unit, col(Unit.id) == col(ExamResult.unit_id))
        .where(col(Unit.path).startswith(within))
    )
    return union(by_roster, by_result)


def direct_counts(
    session: Session, config: Config, within: str | None = None
) -> list[tuple[int, int, int, int, int, int, int]]:
    """Rows of (unit before, unit after, base, sat before, passed before, sat after, passed
    after) — one per pair of units learners count for."""
    order = [r.key for r in rounds.regular(config)]
    mark = config.exam.pass_mark
    key = col(ExamResult.round_key)
    is_regular, is_makeup = key.in_(order), key == rounds.MAKEUP
    rank = case({k: i for i, k in enumerate(order)}, value=key)
    # Per base learner (their results joined, grouped by learner): the best regular score, the
    # unit of the latest regular round by one MAX over rank × UNIT_SPAN + unit id, the makeup.
    base = [col(Learner.in_service).is_(True), col(Learner.exempt).is_(False)]
    if within is not None:
        base.append(col(Learner.id).in_(_scope(within)))
    per_learner = (
        select(
            col(Learner.unit_id).label("unit_id"),
            func.max(case((is_regular, col(ExamResult.score)))).label("best"),
            func.max(
                case((is_regular, rank * literal(UNIT_SPAN, BigInteger) + col(ExamResult.unit_id)))
            ).label("last"),
            func.max(case((is_makeup, 1))).label("has_makeup"),
            func.max(case((is_makeup, col(ExamResult.score)))).label("makeup_score"),
            func.max(case((is_makeup, col(ExamResult.unit_id)))).label("makeup_unit"),
        )
        .select_from(Learner)
        .outerjoin(ExamResult, col(ExamResult.learner_id) == col(Learner.id))
        .where(*base)
        .group_by(col(Learner.id), col(Learner.unit_id))
        .subquery("per_learner")
    )
    r = per_learner.c
    unit_before = func.coalesce(r.last % literal(UNIT_SPAN, BigInteger), r.unit_id)
    unit_after = case((r.has_makeup.is_not(None), r.makeup_unit), else_=unit_before)
    sat_before = r.best.is_not(None)
    passed_before = and_(sat_before, r.best >= mark)
    sat_after = or_(sat_before, r.makeup_score.is_not(None))
    passed_after = or_(passed_before, and_(r.makeup_score.is_not(None), r.makeup_score >= mark))

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.sum(case((condition, 1), else_=0))

    query = select(
        unit_before,
        unit_after,
        func.count(),
        count(sat_before),
        count(passed_before),
        count(sat_after),
        count(passed_after),
    ).group_by(unit_before, unit_after)
    return [tuple(int(v or 0) for v in row) for row in session.execute(query)]  # type: ignore[misc]


def tally(
    session: Session, config: Config, paths: dict[int, list[int]], within: str | None = None
) -> Tally:
    """Counts per unit over its subtree. ``paths``: every unit's materialised path as ids (root
    first), for the units the caller wants figures of."""
    result = Tally({uid: Row() for uid in paths}, {uid: Row() for uid in paths})
    for ub, ua, n, sb, pb, sa, pa in direct_counts(session, config, within):
        for node in paths.get(ub, ()):
            if node in result.before:
                result.before[node].add(n, sb, pb)
        for node in paths.get(ua, ()):
            if node in result.after:
                result.after[node].add(n, sa, pa)
    return result
