"""The SQL building blocks every results report shares: who is in the base, which learners a
subtree reaches, each learner's results folded into one row, and learners counted per unit by
outcome (``cohorts``), which the makeup list, the consequences and the reminders count from.

Why these shapes (measured on the generated 150,000-learner city, ``make bench``):

* Learners are reached through ``learners.unit_id IN (units of the subtree)`` — the units table
  is small, the learners and results tables are read through their ``unit_id`` indexes — and
  the city root needs no filter at all (``bot.org.tree.is_root``): joining every learner to its
  unit to test the path made each report read the whole city.
* A learner's results are folded by one ``GROUP BY learner_id`` over the results table read in
  the order of its covering index (learner, round, score, unit): no sort, no table lookups. The
  folded values are packed integers (``folded``), so the outer query groups by plain columns and
  the database only counts.
* Learners without any result need no folding: they are counted per unit from the learners
  table's covering index (unit, in service, exempt), less those with results.
* The whole city's tally reads no result at all: each learner row carries its fold (``refold``,
  kept by the results importer, the one writer of the results), and the learners table's index
  (unit, fold, base flags) hands the rows over in the order they are grouped in. The fold has
  one definition (``folds``), computed as a report runs and stored alike.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, CompoundSelect, Exists, Select, Subquery, and_, case, func
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col

from bot.core import rounds
from bot.core.config import Config
from bot.org.models import Unit
from bot.org.tree import is_root, subtree_ids
from bot.results.models import ExamResult, FoldRules
from bot.roster.models import Learner

UNIT_SPAN = 1 << 32  # above any unit id: rank × UNIT_SPAN + unit id orders by rank, keeps the id
ABSENT, SAT, PASSED = 0, 1, 2  # a result's grade (``grade``); a higher grade includes the lower

LearnerIds = Select[int | None] | CompoundSelect


def regular_keys(config: Config) -> list[str]:
    """The regular rounds' keys, in their order (category < zone1 < zone2 …)."""
    return [r.key for r in rounds.regular(config)]


def in_base() -> list[ColumnElement[bool]]:
    """Learners in the base (应考人数): in service and not exempt."""
    return [col(Learner.in_service).is_(True), col(Learner.exempt).is_(False)]


def scope_path(unit: Unit | None) -> str | None:
    """The subtree filter a report of ``unit`` needs: None for the whole city (no unit, or
    the root), else the unit's materialised path."""
    return None if unit is None or is_root(unit) else unit.path


def roster_in(path: str | None) -> list[ColumnElement[bool]]:
    """Learners whose current roster unit lies in the subtree at ``path`` (None: anywhere)."""
    return [] if path is None else [col(Learner.unit_id).in_(subtree_ids(path))]


def roster_ids(path: str) -> Select[int | None]:
    """The ids of the base learners whose roster unit lies in the subtree at ``path``."""
    return sa.select(col(Learner.id)).where(*in_base(), *roster_in(path))


def grade_of(
    config: Config, score: ColumnElement[float | None] | Mapped[float | None]
) -> ColumnElement[int]:
    """A result's grade: PASSED (a score at or above the pass mark), SAT (a score below it),
    ABSENT (no score)."""
    return case((score >= config.exam.pass_mark, PASSED), (score.is_not(None), SAT), else_=ABSENT)


def results_alias(name: str = "r") -> sa.FromClause:
    """The results table under another name, for a subquery about the learner of the enclosing
    query (a Core alias: cheap to build on every report)."""
    table: sa.Table = ExamResult.__table__  # type: ignore[attr-defined]
    return table.alias(name)


def passing(config: Config, keys: Sequence[str]) -> Exists:
    """The learner (of the enclosing query) has a passing score in one of the rounds ``keys``."""
    r = results_alias().c
    return sa.exists().where(
        r.learner_id == col(Learner.id),
        r.round_key.in_(list(keys)),
        r.score >= config.exam.pass_mark,
    )


def any_result() -> Exists:
    """The learner (of the enclosing query) has a result of any round."""
    r = results_alias().c
    return sa.exists().where(r.learner_id == col(Learner.id))


def best_regular(config: Config) -> sa.ScalarSelect[float | None]:
    """The learner's (of the enclosing query) best regular-round score; None: never sat one."""
    r = results_alias().c
    return (
        sa.select(func.max(r.score))
        .where(r.learner_id == col(Learner.id), r.round_key.in_(regular_keys(config)))
        .scalar_subquery()
    )


FOLDS = ("grade", "makeup", "last")  # what ``folded`` can fold


def folds(config: Config) -> dict[str, ColumnElement[Any]]:
    """The aggregate each of ``FOLDS`` is over one learner's results (see ``folded``): the one
    definition of the fold, computed by the reports' queries and stored on the learner row
    (``refold``)."""
    order = regular_keys(config)
    key, unit_id = col(ExamResult.round_key), col(ExamResult.unit_id)
    span = sa.literal(UNIT_SPAN, sa.BigInteger)
    grade = grade_of(config, col(ExamResult.score))
    rank = case({k: i for i, k in enumerate(order)}, value=key)  # None: not a regular round
    return {
        "grade": func.max(case((key.in_(order), grade))),
        "makeup": func.max(case((key == rounds.MAKEUP, grade * span + unit_id))),
        "last": func.max(rank * span + unit_id),
    }


def folded(
    config: Config, learner_ids: LearnerIds | None = None, columns: Sequence[str] = FOLDS
) -> Subquery:
    """One row per learner with any result (optionally only those ``learner_ids`` selects), each
    column packed so that one MAX folds it and the rows can be grouped by plain columns:

    * ``grade``: the best grade over the regular rounds (None: no regular-round result);
    * ``makeup``: the makeup result as grade × UNIT_SPAN + its unit (None: no makeup result);
    * ``last``: the latest regular round with a result as rank × UNIT_SPAN + the unit of that
      round (an absence counts: the learner belonged to that unit then; None: no such round).

    ``Folded.of`` reads them back. Each column costs a pass of MAX over the results: a report
    asks only for the ``columns`` it reads."""
    fold = folds(config)
    selected: list[sa.Label[Any]] = [col(ExamResult.learner_id).label("learner_id")]
    selected += [fold[name].label(name) for name in columns]
    where = [] if learner_ids is None else [col(ExamResult.learner_id).in_(learner_ids)]
    query = sa.select(*selected).where(*where).group_by(col(ExamResult.learner_id))
    return query.subquery("folded")


STORED = {"grade": "fold_grade", "last": "fold_last", "makeup": "fold_makeup"}
"""Each fold's column on the learners table (``refold`` writes them, the city's tally groups by
them)."""


def refold(
    connection: sa.Connection,
    config: Config,
    learner_ids: LearnerIds | None = None,
    learners: sa.TableClause | None = None,
) -> None:
    """Store ``folded``'s values on the learners ``learner_ids`` selects (None: every learner),
    as one ``UPDATE … FROM`` the folded rows. Only learners with a result are written: a
    learner's results are never deleted, so one without any keeps the None the columns start
    with. The results importer calls it for the learners whose results it changed, in the same
    transaction; ``learners``: the table as a migration sees it (default: the model's)."""
    target = learners if learners is not None else Learner.__table__  # type: ignore[attr-defined]
    rows = folded(config, learner_ids)
    statement = (
        sa.update(target)
        .where(target.c.id == rows.c.learner_id)
        .values({column: rows.c[name] for name, column in STORED.items()})
    )
    connection.execute(statement)


def fold_rules(config: Config) -> str:
    """What the stored folds depend on in the config, as text to compare."""
    return (
        f"pass_mark={config.exam.pass_mark};regular={','.join(regular_keys(config))};"
        f"makeup={rounds.MAKEUP};span={UNIT_SPAN}"
    )


def ensure_folds(connection: sa.Connection, config: Config) -> bool:
    """Fold every learner again if the stored folds were made under other rules (a new pass
    mark, a regular round added in config.toml); whether it did. Run at every start, so the
    city's tally never reads folds of another year's rules. ``result_folds`` holds the rules."""
    table: sa.Table = FoldRules.__table__  # type: ignore[attr-defined]
    rules = fold_rules(config)
    stored = connection.execute(sa.select(table.c.rules).where(table.c.id == 1)).scalar()
    if stored == rules:
        return False
    refold(connection, config)
    connection.execute(sa.delete(table))
    connection.execute(sa.insert(table).values(id=1, rules=rules))
    return True


def makeup_grade(makeup: int | None) -> int | None:
    """The grade of a packed ``folded.makeup`` (None: no makeup result)."""
    return None if makeup is None else int(makeup) // UNIT_SPAN


@dataclass(frozen=True)
class Folded:
    """One learner's year as ``folded`` packs it (the rules: ``bot.results.outcomes``)."""

    sat_before: bool
    passed_before: bool
    unit_before: int
    makeup: int | None  # the makeup result's grade (None: no makeup result)
    unit_after: int

    @property
    def sat_after(self) -> bool:
        return self.sat_before or (self.makeup or ABSENT) >= SAT

    @property
    def passed_after(self) -> bool:
        return self.passed_before or self.makeup == PASSED

    @classmethod
    def of(
        cls, roster_unit: int, grade: int | None, last: int | None, makeup: int | None
    ) -> Folded:
        unit_before, unit_after, sat_before, passed_before, _, _ = outcome(
            roster_unit, grade, last, makeup
        )
        return cls(sat_before, passed_before, unit_before, makeup_grade(makeup), unit_after)


Outcome = tuple[int, int, bool, bool, bool, bool]


def outcome(roster_unit: int, grade: int | None, last: int | None, makeup: int | None) -> Outcome:
    """(unit before, unit after, sat before, passed before, sat after, passed after) of one
    packed row: ``Folded``'s rules as a plain tuple, for the loops over every group of the
    city (a dataclass per group cost a report a tenth of a second)."""
    unit_before = roster_unit if last is None else int(last) % UNIT_SPAN
    if makeup is None:
        unit_after, makeup_grade_ = unit_before, ABSENT
    else:
        unit_after, makeup_grade_ = int(makeup) % UNIT_SPAN, int(makeup) // UNIT_SPAN
    sat_before = (grade or ABSENT) >= SAT
    passed_before = grade == PASSED
    return (
        unit_before,
        unit_after,
        sat_before,
        passed_before,
        sat_before or makeup_grade_ >= SAT,
        passed_before or makeup_grade_ == PASSED,
    )


def joined(folded_rows: Subquery) -> ColumnElement[bool]:
    """The join of ``folded`` rows to their learner, base learners only."""
    return and_(col(Learner.id) == folded_rows.c.learner_id, *in_base())


def base_per_unit(session: Session, path: str | None) -> dict[int, int]:
    """Base learners per roster unit of the subtree at ``path`` (None: the city)."""
    query = (
        sa.select(col(Learner.unit_id), func.count())
        .where(*in_base(), *roster_in(path))
        .group_by(col(Learner.unit_id))
    )
    return {unit_id: n for unit_id, n in session.connection().execute(query)}


def without_results(base: Mapping[int, int], with_results: Mapping[int, int]) -> dict[int, int]:
    """Per unit, the base learners without any result: the base less those with one."""
    left = {uid: n - with_results.get(uid, 0) for uid, n in base.items()}
    return {uid: n for uid, n in left.items() if n > 0}


@dataclass(frozen=True)
class Cohort:
    """The base learners of one roster unit who share an outcome."""

    unit_id: int  # current roster unit
    grade: int | None  # best regular-round grade (None: no regular-round result)
    makeup: int | None  # makeup grade (None: no makeup result)
    named: bool  # named in a makeup registration
    count: int


def cohorts(
    session: Session,
    config: Config,
    path: str | None,
    named: Select[int] | None,
    *,
    makeup: bool = True,
) -> list[Cohort]:
    """Every base learner whose roster unit lies in the subtree at ``path`` (None: the city),
    counted by roster unit and outcome; ``named``: the learner ids named in a makeup
    registration (None: nobody can be told named). Without ``makeup`` the makeup result is not
    read (every cohort's ``makeup`` is None)."""
    learner_ids = roster_ids(path) if path is not None else None
    per_learner = folded(config, learner_ids, ("grade", "makeup") if makeup else ("grade",))
    r = per_learner.c
    is_named = col(Learner.id).in_(named) if named is not None else sa.false()
    # The flag and the makeup grade are computed per learner below, grouped by as plain columns.
    span = sa.literal(UNIT_SPAN, sa.BigInteger)
    rows = (
        sa.select(
            col(Learner.unit_id).label("unit_id"),
            r.grade,
            (r.makeup // span if makeup else sa.null()).label("makeup"),
            case((is_named, 1), else_=0).label("named"),
        )
        .select_from(per_learner)
        .join(Learner, joined(per_learner))
        .subquery("outcome")
    )
    keys = (rows.c.unit_id, rows.c.grade, rows.c.makeup, rows.c.named)
    counted = sa.select(*keys, func.count()).group_by(*keys)
    found: list[Cohort] = []
    with_results: dict[int, int] = {}
    for unit_id, grade, makeup_grade_, is_named_, n in session.connection().execute(counted):
        with_results[unit_id] = with_results.get(unit_id, 0) + n
        mg = None if makeup_grade_ is None else int(makeup_grade_)
        found.append(Cohort(unit_id, grade, mg, bool(is_named_), n))
    left = without_results(base_per_unit(session, path), with_results)
    named_left = _named_without_results(session, path, named) if named is not None else {}
    for unit_id, n in left.items():
        k = named_left.get(unit_id, 0)
        found += [Cohort(unit_id, None, None, True, k)] if k else []
        found += [Cohort(unit_id, None, None, False, n - k)] if n > k else []
    return found


def _named_without_results(
    session: Session, path: str | None, named: Select[int]
) -> dict[int, int]:
    """Per roster unit, the base learners named in a makeup registration with no result at all
    (few: the named ones are looked up, not the whole base)."""
    query = (
        sa.select(col(Learner.unit_id), func.count())
        .where(col(Learner.id).in_(named), *in_base(), *roster_in(path), ~any_result())
        .group_by(col(Learner.unit_id))
    )
    return {unit_id: n for unit_id, n in session.connection().execute(query)}
