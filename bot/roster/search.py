"""Finding learners (``/find ACCOUNT|NAME``): within the asker's part of the unit tree only.

Privacy, decided once here: a learner is found by their login account (exactly, or by its
beginning) or by their full name (exactly: a surname alone finds nobody, so the command cannot
list people by family name); names are shown masked (张*明), as every other reply of the bot
shows them; learners outside the asker's scope are never found, and "not found" does not say
whether they exist elsewhere. Each search is recorded in the audit log.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlmodel import col, or_, select

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.models import Role, Unit
from bot.roster.accounts import mask_name
from bot.roster.models import Learner

FIND_LIMIT = 20  # hits shown at once
MAX_QUERY = 64  # an account or a name is never longer (the columns' width)
FIND_AUDIT = "learner.find"


@dataclass(frozen=True)
class LearnerHit:
    account: str
    masked_name: str
    unit_code: str
    unit_name: str
    in_service: bool
    exempt: bool


@dataclass(frozen=True)
class LearnerSearch:
    text: str
    hits: list[LearnerHit]
    more: int  # hits beyond FIND_LIMIT


def find_learners(uow: UnitOfWork, text: str) -> LearnerSearch:
    """Learners in scope whose account is or starts with ``text``, or whose name is ``text``."""
    identity = uow.authorize()
    if identity.role == Role.OPERATOR:
        raise Refused("operator_queue_only")
    wanted = unicodedata.normalize("NFKC", text).strip()[:MAX_QUERY]
    if not wanted:
        return LearnerSearch(text="", hits=[], more=0)
    account = wanted.lower()
    query = (
        select(Learner, Unit)
        .join(Unit, col(Unit.id) == Learner.unit_id)
        .where(
            or_(
                col(Learner.account).startswith(account, autoescape=True),
                col(Learner.name) == wanted,
            )
        )
        .order_by(col(Unit.path), col(Learner.account))
    )
    if identity.role != Role.CITY:
        query = query.where(col(Unit.path).startswith(identity.unit_path))
    rows = list(uow.session.exec(query.limit(FIND_LIMIT + 1)))
    hits = [
        LearnerHit(
            account=learner.account,
            masked_name=mask_name(learner.name),
            unit_code=unit.code,
            unit_name=unit.name,
            in_service=learner.in_service,
            exempt=learner.exempt,
        )
        for learner, unit in rows[:FIND_LIMIT]
    ]
    uow.audit(FIND_AUDIT, target=wanted, detail={"hits": len(hits)})
    return LearnerSearch(text=wanted, hits=hits, more=max(0, len(rows) - FIND_LIMIT))
