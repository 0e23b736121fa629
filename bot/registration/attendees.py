"""Who sits a booked session: a number of learners ("35") or named learners from the roster
(login accounts), checked against the notice's rules for the unit and the round.

Every refusal here is about the list the administrator typed, so it lets them correct it and
send it again (``Refused.ends`` is False): the /register conversation stays at that step.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache

from sqlmodel import Session, col, select

from bot.core.config import Config
from bot.core.errors import Refused
from bot.core.rounds import ExamRound
from bot.core.uow import UnitOfWork
from bot.org.models import Unit
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.registration.models import RegistrationLearner
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
class Attendees:
    count: int
    learner_ids: list[int] = field(default_factory=list)  # empty for a plain count
    at_risk: list[str] = field(default_factory=list)  # masked names short of credits


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
    are imported, only learners on that list (``bot.results.makeup``)."""
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
        if not accounts:
            return Attendees(count or 0)
        return _named(uow.session, uow.config, unit, item, accounts)


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
