"""Which exam a unit takes (notice 二): the provincial department's category exam when it takes
precedence, the centralized exam for the units on the city's list, otherwise the city's online
zone exam. The registration services refuse what a unit's assignment excludes, and the city
office's overview (``bot.overview.status``) leaves those units out of "not yet registered".
"""

from __future__ import annotations

from sqlmodel import Session

from bot.core.config import CategoryDepartment, Config
from bot.org.models import Unit, UnitKind

COUNTY_KINDS = (UnitKind.COUNTY.value, UnitKind.PARK.value)


def path_ids(unit: Unit) -> list[int]:
    """The ids from the root down to ``unit`` (its materialised path, plus itself if missing)."""
    ids = [int(part) for part in (unit.path or "").strip("/").split("/") if part.isdigit()]
    if unit.id is not None and (not ids or ids[-1] != unit.id):
        ids.append(unit.id)
    return ids


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


def category_precedence(session: Session, config: Config, unit: Unit) -> CategoryDepartment | None:
    """The provincial department whose category exam this unit takes instead of the city's zone
    exam, or None.

    The unit's own ``category_department`` decides, else its nearest ancestor's that has one. It
    takes precedence only when that name is a department of attachment 1 (config
    ``category_departments``) whose exam covers the unit's level, and only while no consent of
    the department is recorded (``category_consent`` on the unit or on any node up to and
    including the one naming the department).
    """
    chain = ancestry(session, unit)
    level = level_of(chain)
    consent = False
    for node in chain:
        consent = consent or bool(node.category_consent)
        name = "".join((node.category_department or "").split())
        if not name:
            continue
        department = config.category_department(name)
        if department is None or not department.covers(level) or consent:
            return None
        return department
    return None


def is_centralized(config: Config, unit: Unit) -> bool:
    """Whether the unit is on the city's list for the centralized exam (notice 三)."""
    return unit.name in config.centralized.units
