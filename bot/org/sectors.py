"""Which row of attachment 1 a city or county department belongs to, read from its name.

Attachment 1 lists provincial departments (省公安厅, 省教育厅, 团省委 …) whose category exam
covers their systems at the levels it marks. A unit's system is read from the words of its name
that config.toml gives for each row (``category_departments.sectors``): 耒阳市公安局 → 省公安厅.
The customs row names its member units instead. The longest word found wins, so a name holding
two systems' words goes to the more specific one. Units are mapped this way when they are seeded
or imported; the city office overrides a unit with ``/category``.
"""

from __future__ import annotations

from bot.core.config import CategoryDepartment, Config


def _compact(text: str) -> str:
    return "".join(text.split())


def department_named(config: Config, name: str) -> CategoryDepartment | None:
    """The attachment-1 row whose system a unit's or department's ``name`` places it in."""
    text = _compact(name)
    if not text:
        return None
    best: tuple[int, CategoryDepartment] | None = None
    for department in config.category_departments:
        words = [*department.members, *department.sectors]
        if text == department.name:
            return department
        for word in words:
            if word in text and (best is None or len(word) > best[0]):
                best = (len(word), department)
    return best[1] if best else None


def infer_department(config: Config, name: str, level: str) -> CategoryDepartment | None:
    """The row whose category exam a unit named ``name`` at ``level`` ("city" or "county")
    takes, or None: no row's words are in the name, or the row does not cover that level
    (省科技厅 covers 市州 but not 县市区). Units on the city's centralized list take the
    centralized exam whatever their name says."""
    if name in config.centralized.units:
        return None
    department = department_named(config, name)
    if department is None or not department.covers(level):
        return None
    return department
