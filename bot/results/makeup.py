"""The makeup list (补考名单, notice 五（三）"因故未参加分众分类组考或考试未及格的") and the checks the
makeup registration makes against it.

* **Makeup list**: learners in the base with no regular-round score ≥ pass mark — absent from
  (or without a result in) every regular round, or below the pass mark in every round they sat.
  Being due one regular round is enough for the list: passing any regular round takes a learner
  off it. The list follows the learner's *current* unit, because it is the current administrator
  who registers the makeup (人员异动由调入单位管理员操作) and registration only accepts learners of
  the registering unit.
* **Registered**: named in a makeup registration. Registrations are the registration
  capability's tables, and that capability sits above this one (it asks this module who may
  take the makeup), so it is asked through ``MakeupRegistrations``, which callers pass in:
  results never imports registration.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Select, func, select
from sqlmodel import Session, col

from bot.core.config import Config
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org import admins
from bot.org.models import Unit
from bot.results import aggregates, outcomes, pages
from bot.results.labels import section
from bot.roster.learners import mask_name
from bot.roster.models import Learner

LISTED_IN_REFUSAL = 10  # accounts a "not on the list" refusal names


class MakeupRegistrations(Protocol):
    """What the registration capability knows about makeup registrations."""

    def named(self, session: Session, learner_ids: Sequence[int]) -> set[int]:
        """Those of ``learner_ids`` named in a makeup registration."""
        ...

    def named_ids(self) -> Select[int]:
        """A query of the learner ids named in a makeup registration (for use inside SQL)."""
        ...

    def counted(self, session: Session) -> list[tuple[int, int]]:
        """(unit id, learner count) of every active makeup registration that names nobody."""
        ...


@dataclass(frozen=True)
class MakeupEntry:
    account: str
    masked_name: str
    unit_name: str
    reason: str  # "absent" | "failed"
    best: float | None
    registered: bool  # named in an active makeup registration


@dataclass(frozen=True)
class MakeupList:
    """One page of a unit's makeup list, with the whole list's counts."""

    unit_id: int
    unit_code: str
    unit_name: str
    has_results: bool  # False: nothing imported for this unit; registration works as before
    final: bool  # every regular round is over (before: the list can still shrink)
    entries: list[MakeupEntry]  # this page, ordered by unit name and account
    total: int = 0
    absent: int = 0  # never sat a regular round
    registered: int = 0  # named in a makeup registration
    offset: int = 0  # the page's first entry, counted from 0

    @property
    def failed(self) -> int:
        return self.total - self.absent

    @property
    def pending(self) -> list[MakeupEntry]:
        """The entries of this page not registered yet."""
        return [e for e in self.entries if not e.registered]

    @property
    def pending_count(self) -> int:
        return self.total - self.registered

    @property
    def next_offset(self) -> int | None:
        after = self.offset + len(self.entries)
        return after if after < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - PAGE) if self.offset else None


PAGE = 40  # learners a page of /makeup_list shows


@dataclass
class ListCounts:
    """One unit's makeup list, counted: its learners, those never sat, those registered."""

    listed: int = 0
    absent: int = 0
    registered: int = 0


def list_counts(
    session: Session, config: Config, path: str | None, named: Select[int] | None
) -> dict[int, ListCounts]:
    """The makeup list of the subtree at ``path`` (None: the city), counted per current roster
    unit (units with nobody listed left out)."""
    counts: dict[int, ListCounts] = {}
    for c in aggregates.cohorts(session, config, path, named, makeup=False):
        if c.grade == aggregates.PASSED:
            continue
        row = counts.setdefault(c.unit_id, ListCounts())
        row.listed += c.count
        row.absent += c.count if (c.grade or aggregates.ABSENT) < aggregates.SAT else 0
        row.registered += c.count if c.named else 0
    return counts


def makeup_list(
    uow: UnitOfWork,
    unit: Unit,
    registrations: MakeupRegistrations,
    *,
    offset: int = 0,
    limit: int = PAGE,
) -> MakeupList:
    """The learners of ``unit``'s subtree (current roster) who must take the makeup: the counts
    of the whole list (one aggregate) and the page from ``offset`` (read from the units it
    falls in only, ``bot.results.pages``)."""
    session, config = uow.session, uow.config
    path = aggregates.scope_path(unit)
    named = registrations.named_ids()
    counts = list_counts(session, config, path, named)
    sizes = {uid: c.listed for uid, c in counts.items()}
    window = pages.locate(pages.units_by_name(session, path), sizes, offset, limit)
    return MakeupList(
        unit.id or 0,
        unit.code,
        unit.name,
        outcomes.has_results(session, unit),
        outcomes.regular_over(config, uow.now),
        _entries(session, config, named, window, limit) if window.unit_ids else [],
        total=sum(sizes.values()),
        absent=sum(c.absent for c in counts.values()),
        registered=sum(c.registered for c in counts.values()),
        offset=max(0, offset),
    )


def _entries(
    session: Session, config: Config, named: Select[int], window: pages.Window, limit: int
) -> list[MakeupEntry]:
    """The page: the listed learners of the window's units, by unit name and account."""
    best = aggregates.best_regular(config)
    is_named = col(Learner.id).in_(named)
    query = (
        select(col(Learner.account), col(Learner.name), col(Unit.name), best, is_named)
        .join(Unit, col(Unit.id) == col(Learner.unit_id))
        .where(
            *aggregates.in_base(),
            col(Learner.unit_id).in_(window.unit_ids),
            ~aggregates.passing(config, aggregates.regular_keys(config)),
        )
        .order_by(col(Unit.name), col(Learner.account))
        .offset(window.skip)
        .limit(limit)
    )
    return [
        MakeupEntry(
            account=account,
            masked_name=mask_name(name),
            unit_name=unit_name,
            reason="absent" if best is None else "failed",
            best=best,
            registered=bool(is_registered),
        )
        for account, name, unit_name, best, is_registered in session.execute(query)
    ]


def makeup_list_for(
    uow: UnitOfWork,
    registrations: MakeupRegistrations,
    unit_code: str | None = None,
    *,
    offset: int = 0,
) -> MakeupList:
    """/makeup_list: the administrator's own unit, or a unit of their scope."""
    unit = admins.unit_in_scope(uow.session, uow.authorize(), unit_code)
    return makeup_list(uow, unit, registrations, offset=offset)


def makeup_page(
    uow: UnitOfWork, registrations: MakeupRegistrations, unit_id: int, offset: int
) -> MakeupList:
    """A page button of /makeup_list: the unit by id, if it lies in the presser's scope."""
    unit = admins.unit_by_id_in_scope(uow.session, uow.authorize(), unit_id)
    return makeup_list(uow, unit, registrations, offset=offset)


def _squash(text: str, ignored: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(ch for ch in text if not ch.isspace() and ch not in ignored)


def is_all(text: str) -> bool:
    """Whether a reply means "everyone on the makeup list not registered yet" ("全部", "all" …)."""
    words = section("makeup")
    ignored = words["ignored"]
    return _squash(text or "", ignored) in {_squash(w, ignored) for w in words["all_words"]}


def pending_accounts(uow: UnitOfWork, unit: Unit, registrations: MakeupRegistrations) -> list[str]:
    """ "全部"/"all": exactly the unit's makeup list not yet registered."""
    if not outcomes.has_results(uow.session, unit):
        raise Refused("makeup_no_results")
    listed = outcomes.listed(uow.config, unit.path)
    query = (
        select(listed.c.account)
        .where(listed.c.learner_id.not_in(registrations.named_ids()))
        .order_by(listed.c.account)
    )
    accounts = [a for (a,) in uow.session.execute(query)]
    if not accounts:
        total = uow.session.execute(select(func.count()).select_from(listed)).scalar_one()
        raise Refused("makeup_list_empty", total=total)
    return accounts


def check_learners(
    uow: UnitOfWork,
    unit: Unit,
    registrations: MakeupRegistrations,
    *,
    count: int | None,
    accounts: list[str],
) -> None:
    """With results imported for the unit, the makeup takes only learners on its makeup list
    (named), or at most as many as are on it (a count). Without results: no check."""
    if not outcomes.has_results(uow.session, unit):
        return
    listed = outcomes.listed(uow.config, unit.path)
    if accounts:
        found = select(listed.c.account).where(listed.c.account.in_(accounts))
        on_list = {a for (a,) in uow.session.execute(found)}
        strangers = [a for a in accounts if a not in on_list]
        if strangers:
            raise Refused(
                "makeup_not_listed",
                accounts=section("makeup")["separator"].join(strangers[:LISTED_IN_REFUSAL]),
                more=max(0, len(strangers) - LISTED_IN_REFUSAL),
            )
    elif count is not None:
        size = uow.session.execute(select(func.count()).select_from(listed)).scalar_one()
        if count > size:
            raise Refused("makeup_count_over", size=size, count=count)
