"""Who sits a booked session: a number of learners ("35") or named learners from the roster
(login accounts), checked against the notice's rules for the unit and the round.

Where the unit's subtree has a roster, no registration may take more learners than it has
eligible ones left for the round: in service, not exempt, less those its subtree's registrations
for that round already take (``headroom``). Without a roster the count cannot be checked; the
registration goes through and its summary says so.

Every refusal here is about the list the administrator typed, so it lets them correct it and
send it again (``Refused.ends`` is False): the /register conversation stays at that step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from sqlalchemy import case
from sqlmodel import Session, col, func, select

from bot.core.config import Config
from bot.core.errors import Refused
from bot.core.rounds import ExamRound
from bot.core.uow import UnitOfWork
from bot.org.models import Unit
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.registration.models import Registration, RegistrationLearner
from bot.registration.words import section
from bot.results import makeup
from bot.roster.accounts import typed_form
from bot.roster.learners import ACCOUNT_RE, mask_name
from bot.roster.models import Learner

MAX_COUNT = 5000  # learners in one session booking: far above any unit, below nonsense
MAX_ACCOUNTS = 300  # named learners in one message
SHOWN = 10  # accounts named in one refusal


@dataclass(frozen=True)
class Ineligible:
    account: str
    reason: str  # "elsewhere" (not in the unit's subtree) | "not_in_service" | "exempt"
    unit_name: str = ""


@dataclass(frozen=True)
class Headroom:
    """The roster's figures for a unit's subtree and a round: ``eligible`` learners (in
    service, not exempt) and those its registrations for the round already take."""

    eligible: int
    registered: int

    @property
    def left(self) -> int:
        return max(0, self.eligible - self.registered)


@dataclass(frozen=True)
class Attendees:
    count: int
    learner_ids: list[int] = field(default_factory=list)  # empty for a plain count
    at_risk: list[str] = field(default_factory=list)  # masked names short of credits
    roster_checked: bool = True  # False: no roster imported for the unit, count not checked


@contextmanager
def correctable() -> Iterator[None]:
    """Refusals raised inside are about the typed list: the user may send it again."""
    try:
        yield
    except Refused as refusal:
        refusal.ends = False
        raise


@cache
def _account_separators() -> re.Pattern[str]:
    marks = "".join(re.escape(s) for s in section("learners")["account_separators"])
    return re.compile(f"[{marks}\\s]+")


def parse_learners(text: str) -> tuple[int | None, list[str]]:
    """A count ("35") or login accounts separated by spaces, commas or new lines."""
    text = typed_form(text or "").strip()
    if not text:
        raise Refused("learners_missing")
    if text.isascii() and text.isdigit():
        count = int(text)
        if not 1 <= count <= MAX_COUNT:
            raise Refused("count_range", max=MAX_COUNT)
        return count, []
    parts = [p for p in _account_separators().split(text) if p]
    if len(parts) > MAX_ACCOUNTS:
        raise Refused("too_many_accounts", max=MAX_ACCOUNTS)
    if any(not ACCOUNT_RE.fullmatch(p) for p in parts):
        raise Refused("account_malformed")
    if len(set(parts)) != len(parts):
        raise Refused("accounts_repeat")
    return None, parts


def attendees(uow: UnitOfWork, unit: Unit, item: ExamRound, text: str) -> Attendees:
    """Read and check the learner step of a registration for ``unit`` in round ``item``.

    The makeup takes "all" (exactly the unit's makeup list not yet registered) and, once results
    are imported, only learners on that list (``bot.results.makeup``). Every round takes at most
    the learners the unit's roster has left for it (``headroom``)."""
    with correctable():
        if item.is_makeup and makeup.is_all(text):
            count = None
            accounts = makeup.pending_accounts(uow, unit, MAKEUP_REGISTRATIONS)
        else:
            count, accounts = parse_learners(text)
            if item.is_makeup:
                makeup.check_learners(
                    uow, unit, MAKEUP_REGISTRATIONS, count=count, accounts=accounts
                )
        who = _named(uow.session, uow.config, unit, item, accounts) if accounts else None
        wanted = who.count if who is not None else count or 0
        room = headroom(uow.session, unit, item)
        if room is not None and wanted > room.left:
            raise Refused(
                "count_over_roster",
                round=item,
                unit=unit.name,
                count=wanted,
                eligible=room.eligible,
                registered=room.registered,
                left=room.left,
            )
        if who is None:
            return Attendees(wanted, roster_checked=room is not None)
        return who


def headroom(session: Session, unit: Unit, item: ExamRound) -> Headroom | None:
    """The roster's figures for ``unit``'s subtree in round ``item``, or None when no learner
    of the subtree is on the roster (nothing was imported for it). Two counting queries."""
    in_subtree = col(Unit.path).startswith(unit.path)
    eligible_flag = case(
        (col(Learner.in_service).is_(True) & col(Learner.exempt).is_(False), 1), else_=0
    )
    listed, eligible = session.exec(
        select(func.count(), func.coalesce(func.sum(eligible_flag), 0))
        .select_from(Learner)
        .join(Unit, col(Unit.id) == Learner.unit_id)
        .where(in_subtree)
    ).one()
    if not listed:
        return None
    registered = session.exec(
        select(func.coalesce(func.sum(Registration.learner_count), 0))
        .join(Unit, col(Unit.id) == Registration.unit_id)
        .where(in_subtree, Registration.round_key == item.key, Registration.status == "active")
    ).one()
    return Headroom(int(eligible or 0), int(registered or 0))


def _named(
    session: Session, config: Config, unit: Unit, item: ExamRound, accounts: list[str]
) -> Attendees:
    rows = session.exec(
        select(Learner, Unit)
        .join(Unit, col(Unit.id) == Learner.unit_id)
        .where(col(Learner.account).in_(accounts))
    ).all()
    found = {learner.account: (learner, home) for learner, home in rows}
    missing = [a for a in accounts if a not in found]
    if missing:
        raise Refused("learners_unknown", accounts=missing[:SHOWN], more=len(missing) - SHOWN)
    problems = [p for a in accounts if (p := _ineligible(unit, a, *found[a])) is not None]
    if problems:
        raise Refused("learners_ineligible", learners=problems[:SHOWN])
    taken = session.exec(
        select(Learner.account)
        .join(RegistrationLearner, col(RegistrationLearner.learner_id) == Learner.id)
        .where(col(Learner.account).in_(accounts), RegistrationLearner.round_key == item.key)
    ).all()
    if taken:
        raise Refused("learners_taken", accounts=list(taken[:SHOWN]), round=item)
    learners = [found[a][0] for a in accounts]
    return Attendees(
        count=len(learners),
        learner_ids=[learner.id for learner in learners if learner.id is not None],
        at_risk=[mask_name(x.name) for x in learners if short_of_credits(config, x)],
    )


def _ineligible(unit: Unit, account: str, learner: Learner, home: Unit) -> Ineligible | None:
    """Only in-service, not exempt learners of the unit's own subtree may be registered."""
    if not home.path.startswith(unit.path):
        return Ineligible(account, "elsewhere", unit.name)
    if not learner.in_service:
        return Ineligible(account, "not_in_service")
    if learner.exempt:
        return Ineligible(account, "exempt")
    return None


def short_of_credits(config: Config, learner: Learner) -> bool:
    """Known credits below what the notice requires (unknown credits are not held against)."""
    if learner.required_credits is None and learner.total_credits is None:
        return False
    return (learner.required_credits or 0) < config.study.required_credits or (
        learner.total_credits or 0
    ) < config.study.total_credits
