"""Base, sat and passed per unit, before and after the makeup, counted by the database.

The same definitions as ``bot.results.outcomes`` (which reads one learner at a time for the
lists), computed as aggregates: each learner's results folded into one row
(``aggregates.folded``: the best regular-round grade, the unit of the latest regular round with
a result, the makeup result's grade and unit, packed as integers), joined to the learner and
counted by the database grouped by those plain columns; the few thousand groups are read back
here into the pair of units each counts for. Learners without any result count for their roster
unit and are counted per unit from the learners table alone. Python only adds each unit's own counts
to the units above it (a few thousand units, not a hundred thousand learners).

``within``: only the learners who can count anywhere in that subtree — those whose roster unit is
in it, or who have a result recorded for a unit in it — so a unit's /results reads its own rows.
The whole city (``None``) is read without any filter.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import CompoundSelect, func, union
from sqlmodel import Session, col

from bot.core.config import Config
from bot.org.tree import subtree_ids
from bot.results.aggregates import base_per_unit, folded, joined, outcome, without_results
from bot.results.models import ExamResult
from bot.roster.models import Learner

Counts7 = tuple[int, int, int, int, int, int, int]


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
    units = subtree_ids(within)
    return union(
        sa.select(col(Learner.id)).where(col(Learner.unit_id).in_(units)),
        sa.select(col(ExamResult.learner_id)).where(col(ExamResult.unit_id).in_(units)),
    )


def direct_counts(session: Session, config: Config, within: str | None = None) -> list[Counts7]:
    """Rows of (unit before, unit after, base, sat before, passed before, sat after, passed
    after) — one per pair of units learners count for and outcome (a pair may come several
    times; the caller sums)."""
    per_learner = folded(config, _scope(within) if within is not None else None)
    r = per_learner.c
    # Grouped by plain columns (the packed values): the database only counts; the rows are
    # read back here, a few per unit.
    keys = (col(Learner.unit_id), r.grade, r.last, r.makeup)
    query = (
        sa.select(*keys, func.count())
        .select_from(per_learner)
        .join(Learner, joined(per_learner))
        .group_by(*keys)
    )
    rows: list[Counts7] = []
    with_results: dict[int, int] = {}
    for roster_unit, grade, last, makeup, n in session.connection().execute(query).all():
        with_results[roster_unit] = with_results.get(roster_unit, 0) + n
        before, after, sat, passed, sat_after, passed_after = outcome(
            roster_unit, grade, last, makeup
        )
        rows.append((before, after, n, n * sat, n * passed, n * sat_after, n * passed_after))
    left = without_results(base_per_unit(session, within), with_results)
    rows += [(uid, uid, n, 0, 0, 0, 0) for uid, n in left.items()]
    return rows


def _per_unit(rows: list[Counts7]) -> tuple[dict[int, list[int]], dict[int, list[int]]]:
    """Each unit's own (base, sat, passed) before and after the makeup."""
    before: dict[int, list[int]] = {}
    after: dict[int, list[int]] = {}
    for ub, ua, n, sb, pb, sat, pa in rows:
        b = before.setdefault(ub, [0, 0, 0])
        b[0], b[1], b[2] = b[0] + n, b[1] + sb, b[2] + pb
        a = after.setdefault(ua, [0, 0, 0])
        a[0], a[1], a[2] = a[0] + n, a[1] + sat, a[2] + pa
    return before, after


def tally(
    session: Session, config: Config, paths: dict[int, list[int]], within: str | None = None
) -> Tally:
    """Counts per unit over its subtree. ``paths``: every unit's materialised path as ids (root
    first), for the units the caller wants figures of."""
    result = Tally({uid: Row() for uid in paths}, {uid: Row() for uid in paths})
    own_before, own_after = _per_unit(direct_counts(session, config, within))
    for side, own in ((result.before, own_before), (result.after, own_after)):
        for unit_id, (n, sat, passed) in own.items():
            for node in paths.get(unit_id, ()):
                if node in side:
                    side[node].add(n, sat, passed)
    return result
