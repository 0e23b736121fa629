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

from sqlmodel import Session

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org import admins
from bot.org.models import Unit
from bot.results import outcomes
from bot.results.labels import section
from bot.roster.learners import mask_name

LISTED_IN_REFUSAL = 10  # accounts a "not on the list" refusal names


class MakeupRegistrations(Protocol):
    """What the registration capability knows about makeup registrations."""

    def named(self, session: Session, learner_ids: Sequence[int]) -> set[int]:
        """Those of ``learner_ids`` named in a makeup registration."""
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
    unit_code: str
    unit_name: str
    has_results: bool  # False: nothing imported for this unit; registration works as before
    final: bool  # every regular round is over (before: the list can still shrink)
    entries: list[MakeupEntry]

    @property
    def pending(self) -> list[MakeupEntry]:
        return [e for e in self.entries if not e.registered]

    @property
    def absent(self) -> int:
        return len([e for e in self.entries if e.reason == "absent"])

    @property
    def failed(self) -> int:
        return len([e for e in self.entries if e.reason == "failed"])


def makeup_list(uow: UnitOfWork, unit: Unit, registrations: MakeupRegistrations) -> MakeupList:
    """The learners of ``unit``'s subtree (current roster) who must take the makeup."""
    session, config = uow.session, uow.config
    listed = [o for o in outcomes.load(session, config, unit.path) if o.on_makeup_list]
    names = outcomes.unit_names(session, unit)
    registered = registrations.named(session, [o.learner_id for o in listed])
    entries = [
        MakeupEntry(
            account=o.account,
            masked_name=mask_name(o.name),
            unit_name=names.get(o.unit_id, ""),
            reason=o.reason,
            best=o.best_before,
            registered=o.learner_id in registered,
        )
        for o in sorted(listed, key=lambda o: (names.get(o.unit_id, ""), o.account))
    ]
    return MakeupList(
        unit.code,
        unit.name,
        outcomes.has_results(session, unit),
        outcomes.regular_over(config, uow.now),
        entries,
    )


def makeup_list_for(
    uow: UnitOfWork, registrations: MakeupRegistrations, unit_code: str | None = None
) -> MakeupList:
    """/makeup_list: the administrator's own unit, or a unit of their scope."""
    unit = admins.unit_in_scope(uow.session, uow.authorize(), unit_code)
    return makeup_list(uow, unit, registrations)


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
    listing = makeup_list(uow, unit, registrations)
    if not listing.has_results:
        raise Refused("makeup_no_results")
    accounts = [e.account for e in listing.pending]
    if not accounts:
        raise Refused("makeup_list_empty", total=len(listing.entries))
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
    listing = makeup_list(uow, unit, registrations)
    if accounts:
        on_list = {e.account for e in listing.entries}
        strangers = [a for a in accounts if a not in on_list]
        if strangers:
            raise Refused(
                "makeup_not_listed",
                accounts=section("makeup")["separator"].join(strangers[:LISTED_IN_REFUSAL]),
                more=max(0, len(strangers) - LISTED_IN_REFUSAL),
            )
    elif count is not None and count > len(listing.entries):
        raise Refused("makeup_count_over", size=len(listing.entries), count=count)
