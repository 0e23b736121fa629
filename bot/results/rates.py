"""Participation and pass rates of every unit over its subtree, before and after the makeup
(notice 四（二）: the base of a first-level unit is every learner of its system), and what
/results shows one administrator.

* **Rates**: participation = sat / base, pass rate = passed / base (both over the base, as the
  notice's 计算基数 says). "Before makeup" uses the regular rounds; "after makeup" also counts a
  makeup score for those who took it. Who counts where: ``bot.results.outcomes``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy import or_
from sqlmodel import col

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org import admins
from bot.org.identity import Identity
from bot.org.models import Role, Unit, UnitKind
from bot.results import outcomes, tally
from bot.results.aggregates import scope_path
from bot.results.outcomes import COUNTY_KINDS, path_ids

ROWS = 30  # units a /results table lists


@dataclass(frozen=True)
class Counts:
    base: int = 0
    sat: int = 0
    passed: int = 0

    @property
    def participation(self) -> float | None:
        return self.sat / self.base if self.base else None

    @property
    def pass_rate(self) -> float | None:
        return self.passed / self.base if self.base else None


@dataclass(frozen=True)
class UnitRates:
    id: int
    code: str
    name: str
    kind: str
    path: str
    depth: int  # 0 for the city root
    county: str | None  # the county / park it belongs to (None: city level)
    parent: str | None  # the parent unit's name
    before: Counts
    after: Counts


@dataclass(frozen=True)
class RatesReport:
    now: dt.datetime
    pass_mark: int
    has_results: bool
    has_makeup: bool  # any makeup result imported
    makeup_closed: bool
    city: UnitRates
    counties: list[UnitRates]
    first_level: list[UnitRates]
    sub_units: list[UnitRates]
    units: dict[int, UnitRates] = field(repr=False, default_factory=dict)

    def subtree(self, path: str) -> list[UnitRates]:
        """The units at and below ``path``, in tree order."""
        rows = [u for u in self.units.values() if u.path.startswith(path)]
        return sorted(rows, key=lambda u: _tree_key(self.units, u))

    def worst_first(self, rows: list[UnitRates] | None = None) -> list[UnitRates]:
        return sorted(self.first_level if rows is None else rows, key=_badness)


def _badness(u: UnitRates) -> tuple[bool, float, float, str]:
    rate = u.after.pass_rate
    return (rate is None, rate if rate is not None else 0.0, u.after.participation or 0.0, u.code)


def _tree_key(units: dict[int, UnitRates], unit: UnitRates) -> tuple[tuple[str, int], ...]:
    return tuple((units[i].code if i in units else "", i) for i in path_ids(unit.path))


class _Node(NamedTuple):
    """The columns of a unit a report needs (read as plain rows, not ORM objects)."""

    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    path: str


def _nodes(uow: UnitOfWork, within: Unit | None) -> dict[int, _Node]:
    """Every unit, or ``within``'s subtree and its ancestors."""
    fields = [col(getattr(Unit, name)) for name in _Node._fields]
    query = sa.select(*fields).order_by(col(Unit.id))
    if within is not None:
        ancestors = [i for i in path_ids(within.path) if i != within.id]
        query = query.where(
            or_(col(Unit.path).startswith(within.path), col(Unit.id).in_(ancestors))
        )
    return {row[0]: _Node(*row) for row in uow.session.connection().execute(query) if row[0]}


def rates(uow: UnitOfWork, within: Unit | None = None) -> RatesReport:
    """Rates of every unit over its subtree, before and after the makeup (read only). With
    ``within``, only that unit's subtree (and its ancestors, unfigured) are read and counted."""
    session, config = uow.session, uow.config
    units = _nodes(uow, within)
    shown = (
        units
        if within is None
        else {i: u for i, u in units.items() if u.path.startswith(within.path)}
    )
    paths = {uid: path_ids(u.path) for uid, u in shown.items()}
    counted = tally.tally(session, config, paths, scope_path(within))
    built = {
        uid: _unit_rates(
            units, unit, paths[uid], _counts(counted.before[uid]), _counts(counted.after[uid])
        )
        for uid, unit in shown.items()
    }
    root = next((u for u in built.values() if u.kind == UnitKind.CITY.value), None)
    if root is None:  # a database without the seeded root, or a subtree: no city figures
        root = UnitRates(0, "", config.campaign.city, UnitKind.CITY.value, "/", 0, None, None,
                         Counts(), Counts())  # fmt: skip
    codes = {uid: u.code for uid, u in built.items()}
    by_tree = sorted(
        built.values(), key=lambda u: tuple((codes.get(i, ""), i) for i in paths[u.id])
    )
    return RatesReport(
        now=uow.now,
        pass_mark=config.exam.pass_mark,
        has_results=outcomes.has_results(session),
        has_makeup=outcomes.has_makeup_results(session),
        makeup_closed=outcomes.makeup_closed(config, uow.now),
        city=root,
        counties=[u for u in by_tree if u.kind in COUNTY_KINDS],
        first_level=[u for u in by_tree if u.kind == UnitKind.UNIT.value],
        sub_units=[u for u in by_tree if u.kind == UnitKind.SUB.value],
        units=built,
    )


def _counts(row: tally.Row) -> Counts:
    return Counts(row.base, row.sat, row.passed)


def _unit_rates(
    units: dict[int, _Node], unit: _Node, path: list[int], before: Counts, after: Counts
) -> UnitRates:
    chain = [units[i] for i in path if i in units]
    county = next((n.name for n in chain if n.kind in COUNTY_KINDS), None)
    parent = units.get(unit.parent_id) if unit.parent_id else None
    return UnitRates(
        id=unit.id,
        code=unit.code,
        name=unit.name,
        kind=unit.kind,
        path=unit.path,
        depth=max(0, len(chain) - 1),
        county=county,
        parent=parent.name if parent else None,
        before=before,
        after=after,
    )


def city_report(uow: UnitOfWork) -> RatesReport:
    """Every unit's rates, for the city office only (/results_export)."""
    admins.require_city(uow.authorize())
    return rates(uow)


@dataclass(frozen=True)
class ResultsView:
    """What /results shows one administrator."""

    scope: str  # "city" | "unit"
    report: RatesReport
    head: UnitRates  # their own unit (the city root for the city office)
    rows: list[UnitRates]  # below the head: the city's first-level units worst first, or the
    # administrator's subtree in tree order
    total: int  # rows before truncation
    empty: int = 0  # city view: first-level units left out because no learner counts there


def view_for(uow: UnitOfWork, *, limit: int = ROWS) -> ResultsView:
    """/results: the city office sees the first-level units; anyone else their own subtree."""
    identity: Identity = uow.authorize()
    if identity.role == Role.CITY:
        return city_view(rates(uow), limit=limit)
    own = uow.session.get(Unit, identity.unit_id)
    if own is None:
        raise Refused("unit_unknown", code=identity.unit_code)
    report = rates(uow, within=own)
    head = report.units[identity.unit_id]
    rows = [u for u in report.subtree(head.path) if u.id != head.id]
    return ResultsView("unit", report, head, rows[:limit], len(rows))


def city_view(report: RatesReport, *, limit: int = ROWS) -> ResultsView:
    """The city office's view: first-level units with anyone in their base, worst first."""
    ranked = report.worst_first()
    rows = [u for u in ranked if u.after.base]
    return ResultsView(
        "city", report, report.city, rows[:limit], len(rows), len(ranked) - len(rows)
    )
