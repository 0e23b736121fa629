"""Learners' accounts as administrators name them: the account's shape, finding the learner and
their unit (for an administrator: only in their scope), and the masked name that messages show
instead of the full one."""

from __future__ import annotations

import re
import unicodedata

from sqlmodel import Session, col, select

from bot.core.errors import Refused
from bot.org.identity import Identity
from bot.org.models import Role, Unit
from bot.roster.models import Learner

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_.@\-]{3,64}$")


def typed_form(text: str) -> str:
    """Text as people type it, in the form the parsers read: full-width letters, digits,
    punctuation and the ideographic space (a Chinese input method's width) become their ASCII
    forms (NFKC, applied to full-width characters only). Other compatibility forms (①, ²) stay
    as they are: nobody means a circled one as a head count. The one normaliser every command
    argument and typed reply passes (handlers.common.private_only, and the parsers)."""
    return "".join(
        unicodedata.normalize("NFKC", ch) if unicodedata.east_asian_width(ch) == "F" else ch
        for ch in text
    )


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧**娜: enough to recognise, not enough to leak."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def parse_account(text: str | None) -> str:
    account = typed_form(text or "").strip()
    if not account:
        raise Refused("account_missing")
    if not ACCOUNT_RE.fullmatch(account):
        raise Refused("account_malformed")
    return account


def learner_with_unit(session: Session, account: str) -> tuple[Learner, Unit]:
    """The learner with this account and the unit the roster has them in."""
    row = session.exec(
        select(Learner, Unit)
        .join(Unit, col(Unit.id) == Learner.unit_id)
        .where(Learner.account == account)
    ).first()
    if row is None:
        raise Refused("learner_unknown", account=account)
    return row


def learner_in_scope(session: Session, identity: Identity, account: str) -> tuple[Learner, Unit]:
    """The learner with this account, if they lie in the administrator's scope.

    Outside the scope, an existing account and one that exists nowhere get one refusal, so no
    administrator can probe which accounts exist city-wide. The city office, whose scope is
    everything, is told precisely that the roster has no such account."""
    try:
        learner, unit = learner_with_unit(session, account)
    except Refused:
        if identity.role == Role.CITY:
            raise
        learner, unit = None, None
    if learner is None or unit is None or not identity.covers(unit):
        raise Refused("learner_not_in_scope", account=account)
    return learner, unit


def pk(value: int | None) -> int:
    """The primary key of a flushed row (always set once the row is in the database)."""
    assert value is not None
    return value
