"""Which row of attachment 1 a city or county department belongs to, read from its name.

Attachment 1 lists provincial departments (省公安厅, 省教育厅, 团省委 …) whose category exam
covers their systems at the levels it marks. A unit's system is read from the words of its name
that config.toml gives for each row (``category_departments.sectors``): 耒阳市公安局 → 省公安厅.
The customs row names its member units instead. The longest word found wins, so a name holding
two systems' words goes to the more specific one.

``Unit.category_department`` holds the outcome, in one of three states:

- NULL: not mapped (yet). Seeding maps every NULL unit from its name on each start
  (``map_from_names``), and a unit import maps the new units it brings; a unit whose name names
  no row that covers its level (市委统战部, 耒阳市科技局: 省科技厅 has no 县市区), a unit on the
  city's centralized list, and a unit whose ancestor carries a mapping stay NULL. A NULL unit
  follows its nearest ancestor that has a value, and with none takes the city's zone exam.
- a department's name (a row of attachment 1, ``config.category_departments``): the unit and
  the sub-units that follow it take that department's category exam at the levels it covers,
  unless the department's consent to the zone exam is recorded (notice 二.3, ``/consent``).
- "" (empty string): explicitly none. The unit and the sub-units that follow it take the zone
  exam. Set by the city office (``/category UNIT 无``) or by an import cell holding one of the
  none words of ``assignment.toml``.

Names are mapped at the level of the unit's place in the tree (``bot.org.tree.level_of``). The
city office overrides any unit with ``/category`` (``bot.org.assignment_admin``).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlmodel import Session, col, select

from bot.core import words as data
from bot.core.config import CategoryDepartment, Config
from bot.org.models import Unit, UnitKind
from bot.org.tree import level_of, path_ids

MAPPED_KINDS = (UnitKind.UNIT.value, UnitKind.SUB.value)  # departments, not counties or parks


def _compact(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


@cache
def _words() -> dict[str, Any]:
    return data.beside(__file__, "assignment.toml")


def _folded_set(values: list[str]) -> frozenset[str]:
    return frozenset(_compact(v).casefold() for v in values)


def is_none_word(text: str) -> bool:
    """Whether ``text`` says "no category exam" (``assignment.toml`` [category] none)."""
    return _compact(text).casefold() in _folded_set(_words()["category"]["none"])


def is_withdraw_word(text: str) -> bool:
    """Whether ``text`` withdraws a recorded consent or approval (``/consent UNIT 撤销``)."""
    return _compact(text).casefold() in _folded_set(_words()["toggle"]["withdraw"])


def read_department(config: Config, text: str) -> str | None:
    """What a 分类组考部门 cell or ``/category`` argument sets: a row's name, "" for a none
    word, or None when it is neither (an unknown department, refused by the caller)."""
    if is_none_word(text):
        return ""
    department = config.category_department(_compact(text))
    return department.name if department is not None else None


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


@dataclass
class Mapped:
    """What one mapping pass did: units mapped per department, and units left NULL because
    their name names no row at their level (the centralized units among them)."""

    departments: dict[str, int] = field(default_factory=dict)
    left: int = 0

    @property
    def count(self) -> int:
        return sum(self.departments.values())

    def detail(self) -> dict[str, Any]:
        """The figures an audit row records."""
        return {
            "mapped": self.count,
            "departments": dict(sorted(self.departments.items())),
            "left": self.left,
        }


def map_from_names(session: Session, config: Config) -> Mapped:
    """Map every NULL unit from its name (one query, NULL rows only; idempotent).

    Parents come before their children (a path sorts before the paths it prefixes), so a
    sub-unit whose ancestor is mapped, in this pass or before (that ancestor is then not among
    the NULL rows), is left to follow it."""
    rows = list(
        session.exec(
            select(Unit).where(col(Unit.category_department).is_(None)).order_by(col(Unit.path))
        )
    )
    unmapped = {u.id: u for u in rows}
    done = Mapped()
    for unit in rows:
        if unit.kind not in MAPPED_KINDS:
            continue
        above = [unmapped.get(i) for i in path_ids(unit)[:-1]]
        if any(node is None or node.category_department is not None for node in above):
            continue  # an ancestor carries a mapping: the unit follows it
        chain = [unit, *(node for node in above if node is not None)]
        department = infer_department(config, unit.name, level_of(chain))
        if department is None:
            done.left += 1
            continue
        unit.category_department = department.name
        session.add(unit)
        done.departments[department.name] = done.departments.get(department.name, 0) + 1
    return done
