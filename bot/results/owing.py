"""Who still owes the makeup registration: the units named by the makeup-list reminder (the
evening of the first makeup registration day, ``reminders``).

A unit answers for a learner in the liaison group as the first-level unit above (or at) the
learner's current unit, else their county / park. It is done when every listed learner of its
subtree is named in an active makeup registration, or its count-only makeup registrations
cover the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core.config import Config
from bot.org.models import Unit, UnitKind
from bot.results import outcomes
from bot.results.makeup import MakeupRegistrations, list_counts
from bot.results.outcomes import COUNTY_KINDS, path_ids


@dataclass(frozen=True)
class MakeupOwing:
    units: list[Unit]  # units whose makeup list is not fully registered, in tree order
    expected: int  # units with anyone on a makeup list
    known: bool  # False: no result imported at all (nobody can tell who must take the makeup)


def _responsible(units: dict[int, Unit], unit_id: int) -> Unit | None:
    """The unit that answers for a learner of ``unit_id`` in the liaison group."""
    unit = units.get(unit_id)
    if unit is None:
        return None
    chain = [units[i] for i in path_ids(unit.path) if i in units]
    first = next((n for n in chain if n.kind == UnitKind.UNIT.value), None)
    if first is not None:
        return first
    return next((n for n in reversed(chain) if n.kind in COUNTY_KINDS), None)


def makeup_owing(
    session: Session, config: Config, registrations: MakeupRegistrations
) -> MakeupOwing:
    """The units whose makeup list is not fully registered (read only). Takes a session, not a
    unit of work: the reminder jobs ask it, as they ask every "who still owes" lookup, with no
    administrator, clock or audit involved (a unit of work passes ``uow.session, uow.config``)."""
    if not outcomes.has_results(session):
        return MakeupOwing([], 0, known=False)
    query = select(Unit).order_by(col(Unit.path), col(Unit.id))
    units = {u.id: u for u in session.exec(query) if u.id is not None}
    pending: dict[int, int] = {}
    expected: set[int] = set()
    for unit_id, counts in list_counts(session, config, None, registrations.named_ids()).items():
        on_list, not_named = counts.listed, counts.listed - counts.registered
        owner = _responsible(units, unit_id)
        if owner is None or owner.id is None or not on_list:
            continue
        expected.add(owner.id)
        if not_named:
            pending[owner.id] = pending.get(owner.id, 0) + int(not_named)
    counted: dict[int, int] = {}
    for unit_id, learner_count in registrations.counted(session):
        owner = _responsible(units, unit_id)
        if owner is not None and owner.id is not None:
            counted[owner.id] = counted.get(owner.id, 0) + learner_count
    owing = [
        units[uid]
        for uid in sorted(pending, key=lambda i: (units[i].path, i))
        if pending[uid] > counted.get(uid, 0)
    ]
    return MakeupOwing(owing, len(expected), known=True)
