"""Learners exempt on the platform with no exemption on file in the bot (notice 三).

The roster import takes the platform's 免考 column as the platform's state
(``bot.roster.roster_import``); an exemption is filed only through the notice's chain
(``bot.exemptions``), and it is on file once the city office has recorded the filing
(state ``city_filed``). A learner in service whom the platform shows exempt with no such filing
was exempted some other way: the notice counts that as not having taken part in the year's
study and exam, and has the city office spot-check it. This module counts them (the roster
import's summary) and lists them for the city office, or the server's operator.

It lives with the results, above both the roster and the exemption filings it compares.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import Exists, exists, func
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from bot.core.audit import AuditLog
from bot.core.uow import UnitOfWork
from bot.exemptions.models import ExemptionFiling, ExemptionState
from bot.org.access import city_or_operator
from bot.org.models import Unit
from bot.roster.learners import mask_name
from bot.roster.models import Learner
from bot.roster.roster_import import EXEMPT_ACTION

LIST_LIMIT = 500
CHUNK = 500  # ids per IN (…) query


@dataclass(frozen=True)
class Unfiled:
    """One learner the platform shows exempt with no exemption on file in the bot."""

    account: str
    masked_name: str
    unit_code: str
    unit_name: str
    filing_state: str | None  # the learner's latest filing, if any (not on file: open, rejected…)
    since: dt.datetime | None  # when a roster import last marked the learner exempt
    source: str  # that import's file


@dataclass(frozen=True)
class UnfiledList:
    total: int
    learners: list[Unfiled]  # the first ``limit``, by unit code then account


def _on_file() -> Exists:
    return exists().where(
        col(ExemptionFiling.learner_id) == col(Learner.id),
        col(ExemptionFiling.state) == ExemptionState.CITY_FILED.value,
    )


def _unfiled_ids() -> SelectOfScalar[int | None]:
    return (
        select(col(Learner.id))
        .where(col(Learner.exempt).is_(True), col(Learner.in_service).is_(True))
        .where(~_on_file())
    )


def count_unfiled(session: Session) -> int:
    """How many learners in service are exempt on the platform with no filing on file."""
    return session.exec(select(func.count()).select_from(_unfiled_ids().subquery())).one()


def list_unfiled(uow: UnitOfWork, *, limit: int = LIST_LIMIT) -> UnfiledList:
    """The learners to spot-check, for the city office (or the operator on the command line)."""
    city_or_operator(uow)
    session = uow.session
    total = count_unfiled(session)
    query = (
        select(Learner, Unit)
        .join(Unit, col(Unit.id) == col(Learner.unit_id))
        .where(col(Learner.id).in_(_unfiled_ids()))
        .order_by(col(Unit.code), col(Learner.account))
        .limit(limit)
    )
    found = list(session.exec(query))
    ids = [learner.id for learner, _unit in found if learner.id is not None]
    states = _filing_states(session, ids)
    marked = _marked(session, [learner.account for learner, _unit in found])
    learners = [
        Unfiled(
            learner.account,
            mask_name(learner.name),
            unit.code,
            unit.name,
            states.get(learner.id or 0),
            *marked.get(learner.account, (None, "")),
        )
        for learner, unit in found
    ]
    return UnfiledList(total, learners)


def _filing_states(session: Session, ids: list[int]) -> dict[int, str]:
    """Each learner's latest filing's state."""
    states: dict[int, str] = {}
    for start in range(0, len(ids), CHUNK):
        query = (
            select(ExemptionFiling.learner_id, ExemptionFiling.state)
            .where(col(ExemptionFiling.learner_id).in_(ids[start : start + CHUNK]))
            .order_by(col(ExemptionFiling.created_at), col(ExemptionFiling.id))
        )
        for learner_id, state in session.exec(query):
            states[learner_id] = state
    return states


def _marked(session: Session, accounts: list[str]) -> dict[str, tuple[dt.datetime, str]]:
    """When, and from which file, a roster import last marked each learner exempt."""
    marked: dict[str, tuple[dt.datetime, str]] = {}
    for start in range(0, len(accounts), CHUNK):
        query = (
            select(AuditLog)
            .where(AuditLog.action == EXEMPT_ACTION)
            .where(col(AuditLog.target).in_(accounts[start : start + CHUNK]))
            .order_by(col(AuditLog.at), col(AuditLog.id))
        )
        for row in session.exec(query):
            detail = json.loads(row.detail or "{}")
            if detail.get("exempt") is True:
                marked[row.target] = (row.at, str(detail.get("source") or ""))
    return marked
