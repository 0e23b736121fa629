"""Which exam a unit takes (notice 二): a unit in a provincial department's category exam at its
level takes that exam, not the city's zone exam, unless the department agreed."""

from __future__ import annotations

from sqlmodel import Session, col, select

from bot.config import CategoryDepartment, Config
from bot.models import Unit, UnitKind


def _ancestors(session: Session, unit: Unit) -> list[Unit]:
    """The unit and its ancestors, nearest first."""
    ids = [int(i) for i in unit.path.strip("/").split("/") if i]
    rows = {u.id: u for u in session.exec(select(Unit).where(col(Unit.id).in_(ids)))}
    return [rows[i] for i in reversed(ids) if i in rows]


def unit_level(session: Session, unit: Unit) -> str:
    """ "county" for units under a county or park, else "city"."""
    kinds = {u.kind for u in _ancestors(session, unit)}
    return "county" if kinds & {UnitKind.COUNTY, UnitKind.PARK} else "city"


def category_precedence(session: Session, config: Config, unit: Unit) -> CategoryDepartment | None:
    """The provincial department whose category exam this unit takes instead of the zone exam,
    or None. The department is the one recorded on the unit or its nearest ancestor; the
    department's consent recorded on that same unit lifts the precedence."""
    level = unit_level(session, unit)
    for node in _ancestors(session, unit):
        if node.category_department:
            department = config.category_department(node.category_department)
            if department is None or not department.covers(level) or node.category_consent:
                return None
            return department
    return None
