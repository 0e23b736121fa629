"""Where a unit sits in the unit tree: its ancestry, and attachment 1's level of it.

Attachment 1 marks, for each provincial department, the levels its category exam covers
(省本级 / 市州 / 县市区). In this city's tree a unit is at the county level (县市区) when it is,
or lies under, a county or a park; every other unit is at the city level (市州).
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlmodel import Session, col

from bot.org.models import Unit, UnitKind

COUNTY_KINDS = (UnitKind.COUNTY.value, UnitKind.PARK.value)


def path_ids(unit: Unit) -> list[int]:
    """The ids from the root down to ``unit`` (its materialised path, plus itself if missing)."""
    ids = [int(part) for part in (unit.path or "").strip("/").split("/") if part.isdigit()]
    if unit.id is not None and (not ids or ids[-1] != unit.id):
        ids.append(unit.id)
    return ids


def is_root(unit: Unit) -> bool:
    """Whether ``unit`` is the root of the tree: every unit lies in its subtree, so a report of
    its subtree needs no subtree filter at all."""
    return unit.parent_id is None


def subtree_ids(path: str) -> Select[int | None]:
    """The ids of the units at and below the materialised ``path``, as a subquery. The units
    table is small (a city has a few thousand), so this prefix test is cheap wherever the
    database evaluates it; the large tables are then reached through their own ``unit_id``
    indexes (``learners.unit_id IN (…)``), not by joining every learner to its unit."""
    return select(col(Unit.id)).where(col(Unit.path).startswith(path))


def ancestry(session: Session, unit: Unit) -> list[Unit]:
    """``unit`` and its ancestors, nearest first."""
    chain = [unit]
    for unit_id in reversed(path_ids(unit)[:-1]):
        node = session.get(Unit, unit_id)
        if node is not None:
            chain.append(node)
    return chain


def level_of(chain: list[Unit]) -> str:
    """Attachment 1's level: "county" under (or being) a county or park, else "city"."""
    return "county" if any(n.kind in COUNTY_KINDS for n in chain) else "city"


def unit_level(session: Session, unit: Unit) -> str:
    return level_of(ancestry(session, unit))
