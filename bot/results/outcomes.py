"""Each base learner's exam year, as far as the imported results tell (notice 四（二）（四）,
五（三）, 六（三）): the one reading of the results table every other results module builds on.

Definitions (the notice's words, made exact):

* **Base** (应考人数): learners in service and not exempt (the roster's current flags). A
  first-level unit's base is every such learner of its whole system — every unit below it —
  and the same subtree sum gives the county and city-wide figures (notice 四（二）: "一级单位总体
  考法通过率的计算基数为本系统所有学员").
* **Regular rounds**: the rounds before the makeup (``bot.core.rounds.regular``): the provincial
  category exam and the zone rounds. A learner needs to pass one of them; the best regular
  score counts.
* **Sat** (参考): at least one result with a score (not absent). A learner with no imported result
  counts as not having sat.  **Passed** (通过): a score ≥ ``exam.pass_mark``.
* **Transfers** (which unit a learner counts for): each result row stores the unit the learner
  belonged to at the time of that round (the results file's unit column, else the roster unit
  when the result was first imported). Before the makeup a learner counts for the unit of their
  latest regular round with a result (category < zone1 < zone2); after the makeup, for the unit
  of their makeup result if they have one. A learner with no result counts for their current
  roster unit. Why: the rate measures how a unit organised the exam it was responsible for; a
  learner who sat in unit A and moved to B afterwards was A's responsibility at that round, and
  the platform's own statistics attribute a sitting to the unit of that moment.
* **Makeup list** (补考名单, notice 五（三）"因故未参加分众分类组考或考试未及格的"): learners in the
  base with no regular-round score ≥ pass mark. See ``bot.results.makeup``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import Subquery, and_, or_
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core import rounds
from bot.core.config import Config
from bot.org.models import Unit, UnitKind
from bot.org.tree import subtree_ids
from bot.results.aggregates import in_base, roster_in, scope_path
from bot.results.models import ExamResult
from bot.roster.models import Learner

COUNTY_KINDS = (UnitKind.COUNTY.value, UnitKind.PARK.value)

# Outcome.makeup: no makeup result imported, absent from the makeup, sat it.
MAKEUP_NONE = "none"
MAKEUP_ABSENT = "absent"
MAKEUP_SAT = "sat"


@dataclass(frozen=True)
class Outcome:
    """One base learner's exam year."""

    learner_id: int
    account: str
    name: str
    unit_id: int  # current roster unit
    sat_before: bool
    best_before: float | None
    passed_before: bool
    unit_before: int  # the unit counted before the makeup (see the module docstring)
    makeup: str  # MAKEUP_NONE | MAKEUP_ABSENT | MAKEUP_SAT
    makeup_score: float | None
    passed_after: bool
    unit_after: int

    @property
    def sat_after(self) -> bool:
        return self.sat_before or self.makeup == MAKEUP_SAT

    @property
    def on_makeup_list(self) -> bool:
        return not self.passed_before

    @property
    def reason(self) -> str:
        """Why on the makeup list: "absent" (never sat a regular round) or "failed"."""
        return "failed" if self.sat_before else "absent"


class _Result(NamedTuple):
    score: float | None  # None: absent (the table's check constraint: absent <=> no score)
    unit_id: int


def path_ids(path: str) -> list[int]:
    """The unit ids of a materialised path ("/1/4/9/"), root first."""
    return [int(i) for i in path.strip("/").split("/") if i.isdigit()]


def load(session: Session, config: Config, unit_path: str | None = None) -> list[Outcome]:
    """Every base learner (in service, not exempt), optionally only those whose current unit is
    in ``unit_path``'s subtree."""
    in_base = (col(Learner.in_service).is_(True), col(Learner.exempt).is_(False))
    learners = select(Learner.id, Learner.account, Learner.name, Learner.unit_id).where(*in_base)
    ids: SelectOfScalar[int | None] | None = None
    if unit_path is not None:
        in_subtree = col(Unit.path).startswith(unit_path)
        learners = learners.join(Unit, col(Unit.id) == Learner.unit_id).where(in_subtree)
        ids = (
            select(col(Learner.id))
            .join(Unit, col(Unit.id) == Learner.unit_id)
            .where(*in_base, in_subtree)
        )
    results = _results(session, ids)
    order = [r.key for r in rounds.regular(config)]
    mark = config.exam.pass_mark
    return [
        _outcome(lid, account, name, unit_id, results.get(lid, {}), order, mark)
        for lid, account, name, unit_id in session.exec(learners)
        if lid is not None
    ]


def _results(
    session: Session, learner_ids: SelectOfScalar[int | None] | None
) -> dict[int, dict[str, _Result]]:
    """Results by learner and round; only of the learners ``learner_ids`` selects, if given."""
    query = select(
        ExamResult.learner_id, ExamResult.round_key, ExamResult.score, ExamResult.unit_id
    )
    if learner_ids is not None:
        query = query.where(col(ExamResult.learner_id).in_(learner_ids))
    found: dict[int, dict[str, _Result]] = {}
    for lid, key, score, unit_id in session.exec(query):
        found.setdefault(lid, {})[key] = _Result(score, unit_id)
    return found


def _outcome(
    lid: int,
    account: str,
    name: str,
    unit_id: int,
    mine: dict[str, _Result],
    order: list[str],
    mark: int,
) -> Outcome:
    regular = [mine[k] for k in order if k in mine]
    scores = [r.score for r in regular if r.score is not None]
    best = max(scores) if scores else None
    passed_before = best is not None and best >= mark
    unit_before = regular[-1].unit_id if regular else unit_id
    makeup = mine.get(rounds.MAKEUP)
    if makeup is None:
        state, makeup_score, unit_after = MAKEUP_NONE, None, unit_before
    else:
        state = MAKEUP_ABSENT if makeup.score is None else MAKEUP_SAT
        makeup_score, unit_after = makeup.score, makeup.unit_id
    return Outcome(
        learner_id=lid,
        account=account,
        name=name,
        unit_id=unit_id,
        sat_before=best is not None,
        best_before=best,
        passed_before=passed_before,
        unit_before=unit_before,
        makeup=state,
        makeup_score=makeup_score,
        passed_after=passed_before or (makeup_score is not None and makeup_score >= mark),
        unit_after=unit_after,
    )


def listed(config: Config, unit_path: str | None = None) -> Subquery:
    """The makeup list as a subquery (learner_id, account, name, unit_id, best): base learners,
    optionally of ``unit_path``'s subtree (current roster unit), with no regular score at or
    above the pass mark. ``best`` is their best regular score (None: never sat one). For lists
    of a unit (registration checks); the reports count with ``bot.results.aggregates``."""
    order = [r.key for r in rounds.regular(config)]
    best = func.max(col(ExamResult.score))
    return (
        sa.select(
            col(Learner.id).label("learner_id"),
            col(Learner.account).label("account"),
            col(Learner.name).label("name"),
            col(Learner.unit_id).label("unit_id"),
            best.label("best"),
        )
        .outerjoin(
            ExamResult,
            and_(
                col(ExamResult.learner_id) == col(Learner.id),
                col(ExamResult.round_key).in_(order),
            ),
        )
        .where(*in_base(), *roster_in(unit_path))
        .group_by(col(Learner.id), col(Learner.account), col(Learner.name), col(Learner.unit_id))
        .having(or_(best.is_(None), best < config.exam.pass_mark))
        .subquery("listed")
    )


def _exists(session: Session, query: sa.Select[int | None]) -> bool:
    """Whether ``query`` finds a row (an EXISTS: the database stops at the first)."""
    return bool(session.execute(sa.select(sa.exists(query))).scalar())


def has_results(session: Session, unit: Unit | None = None) -> bool:
    """Whether any result is imported (for ``unit``: any result counted in, or of a learner now
    in, its subtree)."""
    results = sa.select(col(ExamResult.id))
    path = scope_path(unit)
    if path is None:
        return _exists(session, results)
    units = subtree_ids(path)
    by_round_unit = results.where(col(ExamResult.unit_id).in_(units))
    by_learner = results.join(Learner, col(Learner.id) == col(ExamResult.learner_id)).where(
        col(Learner.unit_id).in_(units)
    )
    return _exists(session, by_round_unit) or _exists(session, by_learner)


def has_makeup_results(session: Session) -> bool:
    makeup = sa.select(col(ExamResult.id)).where(col(ExamResult.round_key) == rounds.MAKEUP)
    return _exists(session, makeup)


def makeup_closed(config: Config, now: dt.datetime) -> bool:
    """After the makeup exam window (notice: no further online exam after it)."""
    return now.astimezone(config.tz).date() > config.makeup.exam.end


def regular_over(config: Config, now: dt.datetime) -> bool:
    """After the last regular round's exam window: the makeup list can no longer shrink."""
    last = max(r.exam.end for r in rounds.regular(config))
    return now.astimezone(config.tz).date() > last


def unit_names(session: Session, unit: Unit) -> dict[int, str]:
    """The names of the units in ``unit``'s subtree, by id."""
    query = select(Unit.id, Unit.name).where(col(Unit.path).startswith(unit.path))
    return {uid: name for uid, name in session.exec(query)}  # type: ignore[misc]
