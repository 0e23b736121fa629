"""Importing the unit tree from the city office's CSV/XLSX file (validated row by row)."""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, select

from bot.core import audit
from bot.core.tabular import (
    MAX_CODE,
    MAX_NAME,
    Errors,
    ImportReport,
    cell_value,
    check_text,
    row_number,
)
from bot.org.models import ROOT_CODE, Unit, UnitKind

MAX_DEPTH = 30

KIND_VALUES: dict[str, UnitKind] = {
    "county": UnitKind.COUNTY,
    "县市区": UnitKind.COUNTY,
    "县(市、区)": UnitKind.COUNTY,
    "县(市区)": UnitKind.COUNTY,
    "县区": UnitKind.COUNTY,
    "park": UnitKind.PARK,
    "园区": UnitKind.PARK,
    "unit": UnitKind.UNIT,
    "一级单位": UnitKind.UNIT,
    "市直单位": UnitKind.UNIT,
    "sub": UnitKind.SUB,
    "二级单位": UnitKind.SUB,
    "下级单位": UnitKind.SUB,
    "city": UnitKind.CITY,
    "市级": UnitKind.CITY,
}

KIND_NAMES = {
    UnitKind.CITY: "市级",
    UnitKind.COUNTY: "县市区",
    UnitKind.PARK: "园区",
    UnitKind.UNIT: "一级单位",
    UnitKind.SUB: "二级单位",
}

# Which kinds a unit of each kind may hang under (see the Unit model's docstring).
ALLOWED_PARENTS: dict[UnitKind, frozenset[UnitKind]] = {
    UnitKind.COUNTY: frozenset({UnitKind.CITY}),
    UnitKind.PARK: frozenset({UnitKind.CITY}),
    UnitKind.UNIT: frozenset({UnitKind.CITY, UnitKind.COUNTY, UnitKind.PARK}),
    UnitKind.SUB: frozenset({UnitKind.UNIT, UnitKind.SUB}),
}


def _parse_kind(text: str) -> UnitKind | None:
    normalized = unicodedata.normalize("NFKC", text).lower().replace(" ", "")
    return KIND_VALUES.get(normalized)


@dataclass
class _UnitRow:
    number: int
    code: str
    name: str
    kind: UnitKind
    parent: str  # parent code; "" means the city root
    category_department: str | None
    has_category: bool


def import_units(
    session: Session,
    rows: Sequence[dict[str, str]],
    *,
    now: dt.datetime,
    actor: str = "cli",
    skip_bad: bool = False,
    source: str = "",
) -> ImportReport:
    """Create or update units by code; parents are resolved within the file and the database,
    and every unit whose ancestry changed gets a fresh materialised path."""
    errors = Errors("units")
    existing: dict[str, Unit] = {u.code: u for u in session.exec(select(Unit))}
    by_id: dict[int, Unit] = {u.id: u for u in existing.values() if u.id is not None}
    good: dict[str, _UnitRow] = {}
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        parsed = _parse_unit_row(errors, row, row_number(row, index), seen)
        if parsed is not None:
            good[parsed.code] = parsed

    _check_unit_tree(errors, good, existing, by_id)

    report = ImportReport(errors=errors.sorted())
    if errors.items and not skip_bad:
        return report

    # Parents before children: by depth in the tree as it will be after the import.
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
            continue
        report.updated += 1
        changed = False
        if unit.name != item.name:
            unit.name, changed = item.name, True
        if unit.kind != item.kind.value:
            unit.kind, changed = item.kind.value, True
        if item.has_category and unit.category_department != item.category_department:
            unit.category_department, changed = item.category_department, True
        if unit.code != ROOT_CODE and unit.parent_id != parent_id:
            unit.parent_id, changed = parent_id, True
            report.moved += 1
        if not changed:
            report.unchanged += 1
    session.flush()
    _repath(by_id)
    report.written = True
    audit.record(
        session,
        at=now,
        action="units.import",
        actor=actor,
        target=source,
        detail={
            **report.counts(),
            "moved": report.moved,
            "source": source,
        },
    )
    session.flush()
    return report


def _parse_unit_row(
    errors: Errors, row: dict[str, str], number: int, seen: dict[str, int]
) -> _UnitRow | None:
    code, name = cell_value(row, "code"), cell_value(row, "name")
    kind_text, parent = cell_value(row, "kind"), cell_value(row, "parent")
    category = cell_value(row, "category_department")
    before = len(errors.items)
    check_text(errors, number, "code", code, limit=MAX_CODE, required=True)
    check_text(errors, number, "name", name, limit=MAX_NAME, required=True)
    check_text(errors, number, "parent", parent, limit=MAX_CODE, required=False)
    check_text(errors, number, "category_department", category, limit=MAX_NAME, required=False)
    kind: UnitKind | None = None
    if not kind_text:
        errors.add(number, "kind", "不能为空")
    else:
        kind = _parse_kind(kind_text)
        if kind is None:
            errors.add(
                number, "kind", f"“{kind_text}”无效，应为 县市区、园区、一级单位 或 二级单位"
            )
    if code and code == parent:
        errors.add(number, "parent", "不能把单位自己设为上级单位")
    if code == ROOT_CODE:
        if parent:
            errors.add(number, "parent", f"根单位 {ROOT_CODE} 不能设置上级单位")
        if kind is not None and kind != UnitKind.CITY:
            errors.add(number, "kind", f"根单位 {ROOT_CODE} 的类型不能更改")
    elif kind == UnitKind.CITY:
        errors.add(number, "kind", f"只有根单位 {ROOT_CODE} 可以是市级")
    if code in seen:
        errors.add(number, "code", f"单位编码 {code} 与第 {seen[code]} 行重复")
    elif code:
        seen[code] = number
    if len(errors.items) > before or kind is None:
        return None
    return _UnitRow(
        number=number,
        code=code,
        name=name,
        kind=kind,
        parent=parent,
        category_department=category or None,
        has_category="category_department" in row,
    )


def _effective_parent(
    code: str, good: dict[str, _UnitRow], existing: dict[str, Unit], by_id: dict[int, Unit]
) -> str | None:
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


def _effective_kind(code: str, good: dict[str, _UnitRow], existing: dict[str, Unit]) -> str | None:
    if code in good:
        return good[code].kind.value
    unit = existing.get(code)
    return unit.kind if unit is not None else None


def _check_unit_tree(
    errors: Errors, good: dict[str, _UnitRow], existing: dict[str, Unit], by_id: dict[int, Unit]
) -> None:
    """Parents exist, kinds fit, no cycles. Rows whose parent row was refused are refused too,
    until nothing changes (so skip_bad never writes a unit without its parent)."""
    while True:
        refused: dict[str, tuple[str, str]] = {}
        for code, item in good.items():
            problem = _tree_problem(code, item, good, existing, by_id)
            if problem is not None:
                refused[code] = problem
        if not refused:
            return
        for code, (key, message) in refused.items():
            errors.add(good[code].number, key, message)
            del good[code]


def _tree_problem(
    code: str,
    item: _UnitRow,
    good: dict[str, _UnitRow],
    existing: dict[str, Unit],
    by_id: dict[int, Unit],
) -> tuple[str, str] | None:
    if code == ROOT_CODE:
        return None
    parent = item.parent or ROOT_CODE
    if parent not in good and parent not in existing:
        return "parent", f"上级单位 {parent} 不存在（数据库和本文件中都没有，或其所在行有错误）"
    parent_kind = _effective_kind(parent, good, existing)
    allowed = ALLOWED_PARENTS.get(item.kind, frozenset())
    if parent_kind is not None and parent_kind not in {k.value for k in allowed}:
        parent_name = {k.value: n for k, n in KIND_NAMES.items()}.get(parent_kind, parent_kind)
        return "parent", (f"{KIND_NAMES[item.kind]}不能隶属于{parent_name}（上级单位 {parent}）")
    # Walk up to the root; coming back to ``code`` is a cycle.
    chain = [code]
    current: str | None = parent
    while current is not None:
        if current == code:
            return "parent", "上级单位形成循环：" + " → ".join([*chain, code])
        if current in chain or len(chain) > MAX_DEPTH:
            if current in chain:
                return "parent", "上级单位链中存在循环：" + " → ".join([*chain, current])
            return "parent", f"单位层级过深（超过 {MAX_DEPTH} 级）"
        chain.append(current)
        current = _effective_parent(current, good, existing, by_id)
    return None


def _depth(
    code: str, good: dict[str, _UnitRow], existing: dict[str, Unit], by_id: dict[int, Unit]
) -> int:
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
