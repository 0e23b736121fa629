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

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy import Select, and_
from sqlmodel import Session, col

from bot.core import rounds
from bot.core.config import Config
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org import admins
from bot.org.models import Unit
from bot.results import aggregates, outcomes, pages
from bot.results.aggregates import ABSENT, PASSED, SAT
from bot.results.makeup import MakeupRegistrations
from bot.roster.learners import mask_name
from bot.roster.models import Learner

# Affected.detail: what the learner did (the template words it)
NEVER_SAT = "never_sat"  # no score in any round, makeup included
FAILED_MAKEUP = "failed_makeup"  # sat the makeup, below the pass mark
SKIPPED_MAKEUP = "skipped_makeup"  # failed the regular rounds, absent from the makeup
REGISTERED_MAKEUP = "registered_makeup"  # named in a makeup registration, no makeup result yet

# The report's three lists (AffectedReport's fields)
ABSENT_LIST, FAILED_LIST, REGISTERED_LIST = "absent", "failed", "registered"
LISTS = (ABSENT_LIST, FAILED_LIST, REGISTERED_LIST)
# Learners a page shows of each list: three full lists, unit names cut at UNIT_CHARS, stay
# within Telegram's 4,096 characters a message (tests/test_results_tally.py).
PAGE = 12
UNIT_CHARS = 24


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
    """One page of each list (the same learners' positions, from ``offset``), with the whole
    lists' sizes."""

    unit_name: str
    absent: list[Affected]  # grade deferred (consequences.absent)
    failed: list[Affected]  # not rated excellent (consequences.failed_makeup)
    registered: list[Affected] = field(default_factory=list)  # REGISTERED_MAKEUP: not yet known
    provisional: bool = False  # makeup results not imported while the makeup has registrations
    counted: int = 0  # learners registered for the makeup by a head count (naming nobody)
    absent_total: int = 0
    failed_total: int = 0
    registered_total: int = 0
    offset: int = 0  # the pages' first position, counted from 0
    unit_id: int = 0
    limit: int = PAGE
    unit_chars: int = UNIT_CHARS  # a longer unit name is cut (…) in the lists

    @property
    def next_offset(self) -> int | None:
        after = self.offset + self.limit
        longest = max(self.absent_total, self.failed_total, self.registered_total)
        return after if after < longest else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset else None


def classify(grade: int | None, makeup: int | None, named: bool) -> str | None:
    """The list a base learner goes on (None: passed, before or at the makeup): ``grade`` the
    best regular-round grade, ``makeup`` the makeup result's grade (None: no makeup result),
    ``named`` in a makeup registration."""
    if grade == PASSED or makeup == PASSED:
        return None
    if named and makeup is None:
        return REGISTERED_LIST
    sat = (grade or ABSENT) >= SAT or (makeup or ABSENT) >= SAT
    return FAILED_LIST if sat else ABSENT_LIST


def _detail(kind: str, makeup: int | None) -> str:
    if kind == REGISTERED_LIST:
        return REGISTERED_MAKEUP
    if kind == ABSENT_LIST:
        return NEVER_SAT
    return FAILED_MAKEUP if (makeup or ABSENT) >= SAT else SKIPPED_MAKEUP


def affected(
    uow: UnitOfWork,
    unit_code: str | None = None,
    registrations: MakeupRegistrations | None = None,
    *,
    offset: int = 0,
    limit: int = PAGE,
) -> AffectedReport:
    """Learners of the administrator's scope (their unit, or ``unit_code`` within it) whose
    annual assessment is affected; only once the makeup exam window has ended. Without
    ``registrations`` nobody can be told registered for the makeup, so the report is
    provisional as long as no makeup result is imported."""
    identity = uow.authorize()
    _require_closed(uow)
    unit = admins.unit_in_scope(uow.session, identity, unit_code)
    return report(uow, unit, registrations, offset=offset, limit=limit)


def affected_page(
    uow: UnitOfWork, registrations: MakeupRegistrations, unit_id: int, offset: int
) -> AffectedReport:
    """A page button of /affected: the unit by id, if it lies in the presser's scope."""
    identity = uow.authorize()
    _require_closed(uow)
    unit = admins.unit_by_id_in_scope(uow.session, identity, unit_id)
    return report(uow, unit, registrations, offset=offset)


def _require_closed(uow: UnitOfWork) -> None:
    if not outcomes.makeup_closed(uow.config, uow.now):
        raise Refused("affected_not_yet", end=uow.config.makeup.exam.end)


def report(
    uow: UnitOfWork,
    unit: Unit,
    registrations: MakeupRegistrations | None,
    *,
    offset: int = 0,
    limit: int = PAGE,
) -> AffectedReport:
    """The lists of ``unit``'s subtree (current roster units): the sizes counted by one
    aggregate, the pages read from the units they fall in (``bot.results.pages``)."""
    session, config = uow.session, uow.config
    path = aggregates.scope_path(unit)
    named = registrations.named_ids() if registrations is not None else None
    sizes: dict[str, dict[int, int]] = {kind: {} for kind in LISTS}
    for c in aggregates.cohorts(session, config, path, named):
        kind = classify(c.grade, c.makeup, c.named)
        if kind is not None:
            sizes[kind][c.unit_id] = sizes[kind].get(c.unit_id, 0) + c.count
    order = pages.units_by_name(session, path)
    windows = {kind: pages.locate(order, sizes[kind], offset, limit) for kind in LISTS}
    found = _pages(session, config, named, windows, limit)
    counted = 0
    if registrations is not None:
        subtree = {uid for uid, _ in order}
        counted = sum(n for unit_id, n in registrations.counted(session) if unit_id in subtree)
    totals = {kind: sum(sizes[kind].values()) for kind in LISTS}
    imported = outcomes.has_makeup_results(session)
    # Without makeup results, every named learner still due is one without a makeup result.
    named_due = totals[REGISTERED_LIST] > 0
    provisional = not imported and (registrations is None or named_due or counted > 0)
    return AffectedReport(
        unit.name,
        found[ABSENT_LIST],
        found[FAILED_LIST],
        found[REGISTERED_LIST],
        provisional,
        counted,
        absent_total=totals[ABSENT_LIST],
        failed_total=totals[FAILED_LIST],
        registered_total=totals[REGISTERED_LIST],
        offset=max(0, offset),
        unit_id=unit.id or 0,
        limit=limit,
    )


def _pages(
    session: Session,
    config: Config,
    named: Select[int] | None,
    windows: dict[str, pages.Window],
    limit: int,
) -> dict[str, list[Affected]]:
    """Each list's page: the learners still due of the units its window covers, read once
    (ordered by the database), sorted into their lists, cut at each window's place."""
    found: dict[str, list[Affected]] = {kind: [] for kind in LISTS}
    units = sorted({uid for w in windows.values() for uid in w.unit_ids})
    if not units:
        return found
    seen = dict.fromkeys(LISTS, 0)
    for unit_id, kind, item in _due(session, config, named, units):
        window = windows[kind]
        if unit_id not in window.unit_ids or len(found[kind]) >= limit:
            continue
        seen[kind] += 1
        if seen[kind] > window.skip:
            found[kind].append(item)
    return found


def _due(
    session: Session, config: Config, named: Select[int] | None, units: Iterable[int]
) -> Iterable[tuple[int, str, Affected]]:
    """The base learners of ``units`` who passed neither before nor at the makeup, by unit name
    and account: (roster unit, list, entry)."""
    makeup_rows = aggregates.results_alias("makeup")
    makeup = makeup_rows.c
    is_named = col(Learner.id).in_(named) if named is not None else sa.false()
    keys = [*aggregates.regular_keys(config), rounds.MAKEUP]
    query = (
        sa.select(
            col(Learner.unit_id),
            col(Learner.account),
            col(Learner.name),
            col(Unit.name),
            aggregates.best_regular(config),
            makeup.id,
            makeup.score,
            is_named,
        )
        .join(Unit, col(Unit.id) == col(Learner.unit_id))
        .outerjoin(
            makeup_rows,
            and_(makeup.learner_id == col(Learner.id), makeup.round_key == rounds.MAKEUP),
        )
        .where(*aggregates.in_base(), col(Learner.unit_id).in_(list(units)))
        .where(~aggregates.passing(config, keys))
        .order_by(col(Unit.name), col(Learner.account))
    )
    for (
        unit_id,
        account,
        name,
        unit_name,
        best,
        makeup_id,
        score,
        was_named,
    ) in session.connection().execute(query):
        grade = _grade(config, best)
        mg = None if makeup_id is None else _grade(config, score)
        kind = classify(grade, mg, bool(was_named))
        if kind is None:
            continue
        entry = Affected(account, mask_name(name), unit_name, _detail(kind, mg), best, score)
        yield unit_id, kind, entry


def _grade(config: Config, score: float | None) -> int:
    """A score's grade, as ``aggregates.grade_of`` computes it in the database."""
    if score is None:
        return ABSENT
    return PASSED if score >= config.exam.pass_mark else SAT
