"""Base, sat and passed per unit, before and after the makeup, counted by the database.

The same definitions as ``bot.results.outcomes`` (which reads one learner at a time for the
lists), computed as aggregates: each learner's results folded into one row
(``aggregates.folded``: the best regular-round grade, the unit of the latest regular round with
a result, the makeup result's grade and unit, packed as integers), counted by the database
grouped by roster unit and those plain columns; the few thousand groups are read back here into
the pair of units each counts for. Python only adds each unit's own counts to the units above it
(a few thousand units, not a hundred thousand learners).

The whole city (``within`` None) is counted from the learners table alone: the importer keeps
each learner's fold on the row (``aggregates.refold``), and the learners are read grouped in the
order of their index (unit, fold, base flags). A learner without any result has the None fold,
which counts for the roster unit, as sat and passed by no one. Folding every result of the city
and sorting the folded rows made the city's /results about 1.7 times as slow (``make bench``).

``within``: only the learners who can count anywhere in that subtree — those whose roster unit is
in it, or who have a result recorded for a unit in it — so a unit's /results reads its own rows.
Their results are folded as the report runs, and those without any result are counted per unit
from the learners table.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy import CompoundSelect, func, union
from sqlmodel import Session, col

from bot.core.config import Config
from bot.org.tree import subtree_ids
from bot.results.aggregates import (
    base_per_unit,
    folded,
    in_base,
    joined,
    outcome,
    without_results,
)
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


Grouped = sa.Select[int, int | None, int | None, int | None, int]
"""Base learners counted by (roster unit, grade, last, makeup) as ``aggregates.folded`` packs
them."""


def stored_counts() -> Grouped:
    """Every base learner of the city, counted by roster unit and the fold stored on the row
    (those without any result in the None fold)."""
    keys = (
        col(Learner.unit_id),
        col(Learner.fold_grade),
        col(Learner.fold_last),
        col(Learner.fold_makeup),
    )
    return sa.select(*keys, func.count()).where(*in_base()).group_by(*keys)


def folded_counts(config: Config, learner_ids: CompoundSelect | None = None) -> Grouped:
    """The base learners with any result (only those ``learner_ids`` selects, if given),
    counted by roster unit and their results folded as the query runs."""
    per_learner = folded(config, learner_ids)
    r = per_learner.c
    keys = (col(Learner.unit_id), r.grade, r.last, r.makeup)
    return (
        sa.select(*keys, func.count())
        .select_from(per_learner)
        .join(Learner, joined(per_learner))
        .group_by(*keys)
    )


def direct_counts(session: Session, config: Config, within: str | None = None) -> list[Counts7]:
    """Rows of (unit before, unit after, base, sat before, passed before, sat after, passed
    after) — one per pair of units learners count for and outcome (a pair may come several
    times; the caller sums)."""
    query = stored_counts() if within is None else folded_counts(config, _scope(within))
    rows: list[Counts7] = []
    with_results: dict[int, int] = {}
    for roster_unit, grade, last, makeup, n in session.connection().execute(query).all():
        if within is not None:  # the city's rows hold the learners without results too
            with_results[roster_unit] = with_results.get(roster_unit, 0) + n
        before, after, sat, passed, sat_after, passed_after = outcome(
            roster_unit, grade, last, makeup
        )
        rows.append((before, after, n, n * sat, n * passed, n * sat_after, n * passed_after))
    if within is not None:  # the learners without results, from the learners table
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
