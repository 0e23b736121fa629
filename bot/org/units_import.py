"""Importing the unit tree from the city office's CSV/XLSX file (validated row by row).

The file's rows come from ``bot.core.tabular.read_table(path, "units")``; the words its "kind"
column may hold are ``units_import.toml``'s. Run by the server's operator (the command line,
the sandbox's demo data): there is no administrator to authorize.

The 分类组考部门 column (``category_department``, its meaning in ``bot.org.sectors``): a cell
naming a row of attachment 1 sets that row, a none word (无, 否 …) sets "" (the zone exam), any
other text refuses the row. An empty cell, or no such column, leaves an existing unit's mapping
as it is; new units it leaves empty are mapped from their names after the write, and the
import's audit row records how many were.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import select

from bot.core.config import Config
from bot.core.tabular import (
    ImportReport,
    ImportRequest,
    RowCheck,
    RowErrors,
    fold,
    load_data,
    table,
    vocabulary,
)
from bot.core.uow import UnitOfWork
from bot.org.models import ROOT_CODE, Unit, UnitKind
from bot.org.sectors import MAPPED_KINDS, map_from_names, read_department

WORDS_FILE = Path(__file__).with_name("units_import.toml")
MAX_DEPTH = 30

# Which kinds a unit of each kind may hang under (see the Unit model's docstring).
ALLOWED_PARENTS: dict[UnitKind, frozenset[UnitKind]] = {
    UnitKind.COUNTY: frozenset({UnitKind.CITY}),
    UnitKind.PARK: frozenset({UnitKind.CITY}),
    UnitKind.UNIT: frozenset({UnitKind.CITY, UnitKind.COUNTY, UnitKind.PARK}),
    UnitKind.SUB: frozenset({UnitKind.UNIT, UnitKind.SUB}),
}


@cache
def kind_words() -> dict[str, UnitKind]:
    """Folded word -> unit kind, from ``units_import.toml``."""
    kinds = vocabulary(load_data(WORDS_FILE)["kinds"])
    return {word: UnitKind(kind) for word, kind in kinds.items()}


def parse_kind(text: str) -> UnitKind | None:
    return kind_words().get(fold(text))


@dataclass
class _UnitRow:
    number: int
    code: str
    name: str
    kind: UnitKind
    parent: str  # parent code; "" means the city root
    category_department: str | None  # a row's name, "" (none), None (no value: keep / map)


Units = dict[str, Unit]
UnitsById = dict[int, Unit]
Good = dict[str, _UnitRow]


def import_units(uow: UnitOfWork, request: ImportRequest) -> ImportReport:
    """Create or update units by code; parents are resolved within the file and the database,
    and every unit whose ancestry changed gets a fresh materialised path."""
    session = uow.session
    errors = RowErrors(table("units"))
    existing: Units = {u.code: u for u in session.exec(select(Unit))}
    by_id: UnitsById = {u.id: u for u in existing.values() if u.id is not None}
    good: Good = {}
    seen: dict[str, int] = {}
    for check in errors.rows(request.rows):
        parsed = _parse_unit_row(check, seen, uow.config)
        if parsed is not None:
            good[parsed.code] = parsed
    _check_unit_tree(errors, good, existing, by_id)

    report = ImportReport(errors=errors.sorted(), header=request.header, config=uow.config)
    if errors and not request.skip_bad:
        return report
    set_from_cells = _write(uow, report, good, existing, by_id)
    mapped = map_from_names(session, uow.config)
    report.written = True
    uow.audit(
        "units.import",
        target=request.source,
        detail={
            **report.counts(),
            "moved": report.moved,
            "source": request.source,
            "category_departments": {"from_cells": set_from_cells, **mapped.detail()},
        },
    )
    session.flush()
    return report


def _write(
    uow: UnitOfWork, report: ImportReport, good: Good, existing: Units, by_id: UnitsById
) -> int:
    """Parents before children: by depth in the tree as it will be after the import. Returns
    how many units a 分类组考部门 cell gave a new value."""
    session = uow.session
    from_cells = 0
    ordered = sorted(good.values(), key=lambda r: (_depth(r.code, good, existing, by_id), r.number))
    for item in ordered:
        unit = existing.get(item.code)
        parent_id = None if item.code == ROOT_CODE else existing[item.parent or ROOT_CODE].id
        if unit is None:
            unit = Unit(
                code=item.code,
                name=item.name,
                kind=item.kind.value,
                parent_id=parent_id,
                category_department=item.category_department,
            )
            session.add(unit)
            session.flush()  # the id goes into the path; children below need it too
            existing[unit.code] = unit
            by_id[unit.id] = unit  # type: ignore[index]
            report.created += 1
            from_cells += item.category_department is not None
            continue
        report.updated += 1
        changed = False
        if unit.name != item.name:
            unit.name, changed = item.name, True
        if unit.kind != item.kind.value:
            unit.kind, changed = item.kind.value, True
        wanted = item.category_department
        if wanted is not None and unit.category_department != wanted:
            unit.category_department, changed = wanted, True
            from_cells += 1
        if unit.code != ROOT_CODE and unit.parent_id != parent_id:
            unit.parent_id, changed = parent_id, True
            report.moved += 1
        if not changed:
            report.unchanged += 1
    session.flush()
    _repath(by_id)
    return from_cells


def _category_cell(check: RowCheck, config: Config, kind: UnitKind | None) -> str | None:
    """The mapping a 分类组考部门 cell sets (``read_department``), or None for an empty cell
    or one refused (the row then carries the error): a department must be a row of
    attachment 1, and is given to departments only (not to a county, a park or the root, nor
    to a unit on the centralized list, which takes the centralized exam)."""
    text = check.get("category_department")
    if not text or not check.text("category_department"):
        return None
    value = read_department(config, text)
    if value is None:
        check.error("category_department", "category_unknown", value=text)
    elif value and check.get("name") in config.centralized.units:
        check.error("category_department", "category_centralized", value=text)
    elif value and kind is not None and kind.value not in MAPPED_KINDS:
        check.error("category_department", "category_not_department", value=text)
    return value


def _parse_unit_row(check: RowCheck, seen: dict[str, int], config: Config) -> _UnitRow | None:
    code, name = check.get("code"), check.get("name")
    kind_text, parent = check.get("kind"), check.get("parent")
    check.text("code", required=True)
    check.text("name", required=True)
    check.text("parent")
    kind: UnitKind | None = None
    if not kind_text:
        check.error("kind", "empty")
    else:
        kind = parse_kind(kind_text)
        if kind is None:
            check.error("kind", "kind_invalid", value=kind_text)
    category = _category_cell(check, config, kind)
    if code and code == parent:
        check.error("parent", "self_parent")
    if code == ROOT_CODE:
        if parent:
            check.error("parent", "root_parent", root=ROOT_CODE)
        if kind is not None and kind != UnitKind.CITY:
            check.error("kind", "root_kind", root=ROOT_CODE)
    elif kind == UnitKind.CITY:
        check.error("kind", "city_not_root", root=ROOT_CODE)
    if code in seen:
        check.error("code", "code_duplicate", code=code, first=seen[code])
    elif code:
        seen[code] = check.number
    if not check.ok or kind is None:
        return None
    return _UnitRow(
        number=check.number,
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        category_department=category,
    )


def _effective_parent(code: str, good: Good, existing: Units, by_id: UnitsById) -> str | None:
    """The parent code ``code`` will have after the import; None for the root or unknown."""
    if code == ROOT_CODE:
        return None
    if code in good:
        return good[code].parent or ROOT_CODE
    unit = existing.get(code)
    if unit is None or unit.parent_id is None:
        return None
    parent = by_id.get(unit.parent_id)
    return parent.code if parent is not None else None


def _effective_kind(code: str, good: Good, existing: Units) -> str | None:
    if code in good:
        return good[code].kind.value
    unit = existing.get(code)
    return unit.kind if unit is not None else None


def _check_unit_tree(errors: RowErrors, good: Good, existing: Units, by_id: UnitsById) -> None:
    """Parents exist, kinds fit, no cycles. Rows whose parent row was refused are refused too,
    until nothing changes (so skip_bad never writes a unit without its parent)."""
    while True:
        refused: dict[str, Problem] = {}
        for code, item in good.items():
            problem = _tree_problem(code, item, good, existing, by_id)
            if problem is not None:
                refused[code] = problem
        if not refused:
            return
        for code, (message, params) in refused.items():
            errors.add(good[code].number, "parent", message, **params)
            del good[code]


Problem = tuple[str, dict[str, Any]]  # a message code of the parent column, and its parameters


def _tree_problem(
    code: str, item: _UnitRow, good: Good, existing: Units, by_id: UnitsById
) -> Problem | None:
    if code == ROOT_CODE:
        return None
    parent = item.parent or ROOT_CODE
    if parent not in good and parent not in existing:
        return "parent_missing", {"parent": parent}
    parent_kind = _effective_kind(parent, good, existing)
    allowed = ALLOWED_PARENTS.get(item.kind, frozenset())
    if parent_kind is not None and parent_kind not in {k.value for k in allowed}:
        return "parent_kind", {
            "kind": item.kind.value,
            "parent_kind": parent_kind,
            "parent": parent,
        }
    # Walk up to the root; coming back to ``code`` is a cycle.
    chain = [code]
    current: str | None = parent
    while current is not None:
        if current == code:
            return "cycle", {"chain": [*chain, code]}
        if current in chain:
            return "chain_cycle", {"chain": [*chain, current]}
        if len(chain) > MAX_DEPTH:
            return "too_deep", {"max": MAX_DEPTH}
        chain.append(current)
        current = _effective_parent(current, good, existing, by_id)
    return None


def _depth(code: str, good: Good, existing: Units, by_id: UnitsById) -> int:
    depth, current = 0, _effective_parent(code, good, existing, by_id)
    while current is not None and depth <= MAX_DEPTH:
        depth += 1
        current = _effective_parent(current, good, existing, by_id)
    return depth


def _repath(by_id: dict[int, Unit]) -> None:
    """Recompute every materialised path from parent ids (new units, moved subtrees)."""
    children: dict[int | None, list[Unit]] = {}
    for unit in by_id.values():
        children.setdefault(unit.parent_id, []).append(unit)
    stack: list[tuple[Unit, str]] = [(u, "/") for u in children.get(None, [])]
    while stack:
        unit, prefix = stack.pop()
        path = f"{prefix}{unit.id}/"
        if unit.path != path:
            unit.path = path
        stack.extend((child, path) for child in children.get(unit.id, []))
