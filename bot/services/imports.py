"""Importing the unit tree and the learner roster from the city office's CSV/XLSX files.

``read_table`` turns a file into rows of canonical keys (English or Chinese headers accepted);
``import_units`` and ``import_roster`` validate every row, then write them in the caller's
session (one transaction) with one audit row per import. A bad row rejects the whole file
unless ``skip_bad`` is set, in which case only the good rows are written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

from sqlmodel import Session, col, select

from bot.models import Learner, Unit, UnitKind
from bot.seed import ROOT_CODE
from bot.services import audit

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_ROWS = 20_000
MAX_CODE = 64
MAX_NAME = 64
MAX_DEPTH = 30
MAX_RENDERED_ERRORS = 50

ROW_KEY = "_row"
"""Each row from ``read_table`` carries its row number in the file (header = 1) under this key."""

TableKind = Literal["units", "roster", "results"]

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


class ImportFileError(Exception):
    """The file as a whole can't be read (missing, wrong type, too big, bad headers)."""


# --- headers -------------------------------------------------------------------------------

ROSTER_HEADERS: dict[str, tuple[str, ...]] = {
    "account": ("account", "login", "登录账号", "账号", "登录帐号", "帐号", "用户名"),
    "name": ("name", "姓名", "学员姓名"),
    "unit": ("unit", "unit_code", "单位编码", "单位", "单位代码", "所属单位编码", "所在单位编码"),
    "in_service": ("in_service", "在职", "在职状态", "是否在职"),
    "exempt": ("exempt", "免考", "是否免考"),
    "required_credits": ("required_credits", "必修学分"),
    "total_credits": ("total_credits", "总学分"),
}
UNIT_HEADERS: dict[str, tuple[str, ...]] = {
    "code": ("code", "unit_code", "单位编码", "单位代码", "编码"),
    "name": ("name", "unit_name", "单位名称", "名称"),
    "kind": ("kind", "type", "类型", "单位类型", "单位级别"),
    "parent": ("parent", "parent_code", "上级单位编码", "上级编码", "上级单位代码", "上级单位"),
    "category_department": ("category_department", "分类组考部门"),
}
# Exam results exported from the platform (bot/services/results.py validates the rows).
RESULT_HEADERS: dict[str, tuple[str, ...]] = {
    "account": (*ROSTER_HEADERS["account"], "考生账号", "学员账号"),
    "round": ("round", "round_key", "轮次", "考试轮次", "考试批次", "考试类型", "考试名称"),
    "score": ("score", "成绩", "分数", "考试成绩", "得分", "考试分数"),
    "unit": ROSTER_HEADERS["unit"],
}
HEADERS: dict[str, dict[str, tuple[str, ...]]] = {
    "units": UNIT_HEADERS,
    "roster": ROSTER_HEADERS,
    "results": RESULT_HEADERS,
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "units": ("code", "name", "kind"),
    "roster": ("account", "name", "unit"),
    "results": ("account", "round", "score"),
}
LABELS: dict[str, dict[str, str]] = {
    "units": {
        "code": "单位编码",
        "name": "单位名称",
        "kind": "单位类型",
        "parent": "上级单位编码",
        "category_department": "分类组考部门",
    },
    "roster": {
        "account": "登录账号",
        "name": "姓名",
        "unit": "单位编码",
        "in_service": "在职状态",
        "exempt": "免考",
        "required_credits": "必修学分",
        "total_credits": "总学分",
    },
    "results": {"account": "登录账号", "round": "考试轮次", "score": "成绩", "unit": "单位编码"},
}

_HEADER_NOISE = re.compile(r"[\s*:_-]+")


def _normalize_header(text: str) -> str:
    """ "* 登录账号：", "Unit Code" and "unit_code" compare equal to their plain forms."""
    return _HEADER_NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


def _header_lookup(kind: str) -> dict[str, str]:
    return {
        _normalize_header(alias): key for key, aliases in HEADERS[kind].items() for alias in aliases
    }


# --- values --------------------------------------------------------------------------------

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

_TRUE = {"是", "true", "t", "yes", "y", "1", "√", "✓", "对"}
_FALSE = {"否", "false", "f", "no", "n", "0", "×", "✗", "不"}
BOOL_WORDS: dict[str, tuple[set[str], set[str]]] = {
    "in_service": (_TRUE | {"在职", "在岗"}, _FALSE | {"离职", "不在职", "退休", "调离", "离岗"}),
    "exempt": (_TRUE | {"免考", "是免考"}, _FALSE | {"不免考", "非免考", "参考", "需考"}),
}

_BAD_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def _has_control(text: str) -> bool:
    return any(unicodedata.category(ch) in _BAD_CATEGORIES for ch in text)


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # an account typed as a number comes back as 12345.0
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


# --- reading files -------------------------------------------------------------------------


def read_table(path: str | Path, kind: TableKind | None = None) -> list[dict[str, str]]:
    """Read a CSV or XLSX file into rows keyed by canonical column names.

    ``kind`` selects the header table ("units" or "roster"); left out, a file with an account
    column is a roster and anything else a unit list. Each row also carries its row number in
    the file under ``ROW_KEY``. Raises ``ImportFileError`` for files that can't be imported.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError(f"文件不存在：{path}")
    suffix = check_file_name(path.name)
    check_file_size(path.stat().st_size)
    records = _csv_records(path) if suffix == ".csv" else _xlsx_records(path)
    try:
        return _map_rows(records, kind)
    finally:
        records.close()  # closes the workbook even when reading stopped early


# --- file-safety checks (shared with other uploads, e.g. the question bank) -------------------

MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")


def check_file_name(name: str) -> str:
    """The lower-case suffix of an acceptable table file (.csv or .xlsx); macro workbooks and
    anything else raise ``ImportFileError``."""
    suffix = Path(name).suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise ImportFileError("不接受含宏的 Excel 文件（.xlsm），请另存为 .xlsx 后再导入")
    if suffix not in (".csv", ".xlsx"):
        raise ImportFileError(
            f"不支持的文件类型“{Path(name).suffix or '无扩展名'}”，请使用 .xlsx 或 .csv"
        )
    return suffix


def check_file_size(size: int, limit: int = MAX_FILE_BYTES) -> None:
    if size > limit:
        raise ImportFileError(
            f"文件过大（{size / 1024 / 1024:.1f} MB），上限为 {limit / 1024 / 1024:g} MB"
        )


def decode_csv(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM) or GB18030, never binary."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileError(
                "无法识别文件编码，请保存为 UTF-8 或 GB18030 编码的 CSV"
            ) from None
    if "\x00" in text:
        raise ImportFileError("CSV 文件包含二进制内容，可能不是文本文件")
    return text


def _csv_records(path: Path) -> Generator[list[str], None, None]:
    text = decode_csv(path.read_bytes())
    try:
        yield from csv.reader(io.StringIO(text, newline=""))
    except csv.Error as exc:
        raise ImportFileError(f"CSV 格式错误：{exc}") from None


def check_xlsx_container(
    source: str | Path | IO[bytes], max_uncompressed: int = MAX_UNCOMPRESSED_BYTES
) -> None:
    """Refuse macros, zip bombs and XML entity tricks before openpyxl parses anything.

    ``source`` is a path or a binary file object (an upload held in memory).
    ``zipfile`` never inflates a member past the size its directory entry declares (it stops
    and reports a CRC error), so the declared sizes checked here bound what openpyxl reads.
    """
    try:
        with zipfile.ZipFile(source) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                raise ImportFileError("XLSX 文件结构异常（内部文件过多），拒绝导入")
            names = {m.filename.replace("\\", "/").lower() for m in members}
            if any(name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
                raise ImportFileError(
                    "文件包含宏（vbaProject.bin），拒绝导入，请另存为不含宏的 .xlsx"
                )
            total = sum(m.file_size for m in members)
            if total > max_uncompressed:
                raise ImportFileError(
                    f"XLSX 文件解压后过大（{total / 1024 / 1024:.0f} MB），"
                    f"上限为 {max_uncompressed // 1024 // 1024} MB，拒绝导入"
                )
            if "[content_types].xml" not in names:
                raise ImportFileError("不是有效的 XLSX 文件（缺少 [Content_Types].xml）")
            for member in members:
                if member.filename.lower().endswith((".xml", ".rels")) and _declares_entities(
                    archive, member
                ):
                    raise ImportFileError("XLSX 文件包含 XML 实体声明，拒绝导入")
    # RuntimeError covers zipfile's refusal of an unsupported compression method.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, EOFError) as exc:
        raise ImportFileError(f"不是有效的 XLSX 文件（{exc}）") from None


def _declares_entities(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 16):
            window = (tail + chunk).upper()
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return True
            tail = chunk[-16:]
    return False


def _xlsx_records(path: Path) -> Generator[list[str], None, None]:
    check_xlsx_container(path)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFileError(f"不是有效的 XLSX 文件（{type(exc).__name__}）") from None
    try:
        if not workbook.worksheets:
            raise ImportFileError("XLSX 文件中没有工作表")
        sheet = workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # don't trust the stored dimension; read every cell
        try:
            for values in sheet.iter_rows(values_only=True):
                yield [_cell_text(v) for v in values]
        except ImportFileError:
            raise
        except Exception as exc:
            raise ImportFileError(f"读取 XLSX 内容失败（{type(exc).__name__}）") from None
    finally:
        workbook.close()


def _map_rows(records: Iterable[Sequence[str]], kind: TableKind | None) -> list[dict[str, str]]:
    header: list[str] | None = None
    header_row = 0
    columns: list[tuple[int, str]] = []
    rows: list[dict[str, str]] = []
    for number, record in enumerate(records, start=1):
        values = [_cell_text(v) for v in record]
        if not any(values):
            continue
        if header is None:
            header, header_row = values, number
            kind = kind or _guess_kind(header)
            columns = _map_header(header, kind)
            continue
        row = {key: (values[i] if i < len(values) else "") for i, key in columns}
        if not any(row.values()):
            continue
        if len(rows) >= MAX_ROWS:
            raise ImportFileError(f"数据行超过 {MAX_ROWS} 行上限，请拆分文件后分批导入")
        row[ROW_KEY] = str(number)
        rows.append(row)
    if header is None:
        raise ImportFileError("文件是空的，没有表头")
    if not rows:
        raise ImportFileError(f"文件只有表头（第 {header_row} 行），没有数据行")
    return rows


def _guess_kind(header: list[str]) -> TableKind:
    lookup = _header_lookup("roster")
    if any(lookup.get(_normalize_header(h)) == "account" for h in header):
        return "roster"
    return "units"


def _map_header(header: list[str], kind: str) -> list[tuple[int, str]]:
    lookup = _header_lookup(kind)
    columns: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    for index, text in enumerate(header):
        key = lookup.get(_normalize_header(text))
        if key is None:
            continue  # extra columns (序号, 备注, ...) are ignored
        if key in seen:
            raise ImportFileError(
                f"表头重复：“{seen[key]}”和“{text}”都表示{LABELS[kind][key]}，请删除其中一列"
            )
        seen[key] = text
        columns.append((index, key))
    missing = [k for k in REQUIRED[kind] if k not in seen]
    if missing:
        wanted = "、".join(f"{LABELS[kind][k]}（{k}）" for k in missing)
        raise ImportFileError(f"缺少必需的列：{wanted}")
    return columns


# --- reports -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    row: int
    field: str  # canonical column key ("account", "code", ...) or "" for the whole row
    message: str
    label: str = ""  # the column's Chinese name, for render()

    def render(self) -> str:
        where = f" {self.label or self.field}" if (self.label or self.field) else ""
        return f"第 {self.row} 行{where}：{self.message}"


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = field(default_factory=list)
    written: bool = False
    unchanged: int = 0  # of ``updated``: matched records whose values were already the same
    transferred: int = 0  # roster: learners whose unit changed
    moved: int = 0  # units: units given a new parent

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    def counts(self) -> dict[str, int]:
        """The figures every import's audit row records."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }

    @property
    def skipped(self) -> int:
        return len(self.bad_rows)

    def render(self) -> str:
        lines: list[str] = []
        if self.written:
            lines.append(f"导入完成：新增 {self.created}，更新 {self.updated}")
            extras = []
            if self.unchanged:
                extras.append(f"其中 {self.unchanged} 条内容无变化")
            if self.moved:
                extras.append(f"{self.moved} 个单位调整了上级")
            if self.transferred:
                extras.append(f"{self.transferred} 人调动了单位")
            if extras:
                lines.append("；".join(extras))
            if self.errors:
                lines.append(f"跳过有错误的 {self.skipped} 行：")
        else:
            lines.append(f"导入被拒绝：共 {self.skipped} 行有错误，未写入任何数据")
        shown = self.errors[:MAX_RENDERED_ERRORS]
        lines.extend(e.render() for e in shown)
        if len(self.errors) > len(shown):
            lines.append(f"……另有 {len(self.errors) - len(shown)} 行错误")
        return "\n".join(lines)


class _Errors:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: list[RowError] = []
        self.rows: set[int] = set()

    def add(self, row: int, key: str, message: str) -> None:
        self.items.append(RowError(row, key, message, LABELS[self.kind].get(key, "")))
        self.rows.add(row)

    def sorted(self) -> list[RowError]:
        return sorted(self.items, key=lambda e: e.row)


def _row_number(row: dict[str, str], index: int) -> int:
    try:
        return int(row.get(ROW_KEY) or index + 2)
    except ValueError:
        return index + 2


def _value(row: dict[str, str], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _check_text(
    errors: _Errors, number: int, key: str, value: str, *, limit: int, required: bool
) -> bool:
    if not value:
        if required:
            errors.add(number, key, "不能为空")
            return False
        return True
    if _has_control(value):
        errors.add(number, key, "包含控制字符或不可见字符")
        return False
    if len(value) > limit:
        errors.add(number, key, f"过长（{len(value)} 个字符，最多 {limit} 个）")
        return False
    return True


def _parse_kind(text: str) -> UnitKind | None:
    normalized = unicodedata.normalize("NFKC", text).lower().replace(" ", "")
    return KIND_VALUES.get(normalized)


def _parse_bool(key: str, text: str) -> bool | None:
    normalized = unicodedata.normalize("NFKC", text).strip().lower()
    truthy, falsy = BOOL_WORDS[key]
    if normalized in truthy:
        return True
    if normalized in falsy:
        return False
    return None


def _parse_credits(text: str) -> float | None:
    """A number ≥ 0; raises ValueError with a Chinese reason."""
    normalized = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    try:
        number = float(normalized)
    except ValueError:
        raise ValueError(f"“{text}”不是数字") from None
    if not math.isfinite(number):
        raise ValueError(f"“{text}”不是有效数字")
    if number < 0:
        raise ValueError(f"不能为负数（{text}）")
    return number


# --- units ---------------------------------------------------------------------------------


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
    errors = _Errors("units")
    existing: dict[str, Unit] = {u.code: u for u in session.exec(select(Unit))}
    by_id: dict[int, Unit] = {u.id: u for u in existing.values() if u.id is not None}
    good: dict[str, _UnitRow] = {}
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        parsed = _parse_unit_row(errors, row, _row_number(row, index), seen)
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
    errors: _Errors, row: dict[str, str], number: int, seen: dict[str, int]
) -> _UnitRow | None:
    code, name = _value(row, "code"), _value(row, "name")
    kind_text, parent = _value(row, "kind"), _value(row, "parent")
    category = _value(row, "category_department")
    before = len(errors.items)
    _check_text(errors, number, "code", code, limit=MAX_CODE, required=True)
    _check_text(errors, number, "name", name, limit=MAX_NAME, required=True)
    _check_text(errors, number, "parent", parent, limit=MAX_CODE, required=False)
    _check_text(errors, number, "category_department", category, limit=MAX_NAME, required=False)
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
    errors: _Errors, good: dict[str, _UnitRow], existing: dict[str, Unit], by_id: dict[int, Unit]
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


# --- roster --------------------------------------------------------------------------------


@dataclass
class _LearnerRow:
    number: int
    account: str
    name: str
    unit_code: str
    values: dict[str, object]  # only the optional columns present in the row


def import_roster(
    session: Session,
    rows: Sequence[dict[str, str]],
    *,
    now: dt.datetime,
    actor: str = "cli",
    skip_bad: bool = False,
    source: str = "",
) -> ImportReport:
    """Create or update learners by account. A changed unit is a transfer (the city office's
    roster is the truth); passwords are never touched; learners missing from the file stay."""
    errors = _Errors("roster")
    unit_ids: dict[str, int] = {
        code: unit_id for code, unit_id in session.exec(select(Unit.code, Unit.id))
    }
    good: dict[str, _LearnerRow] = {}
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        number = _row_number(row, index)
        parsed = _parse_learner_row(errors, row, number, unit_ids, seen)
        if parsed is not None:
            good[parsed.account] = parsed

    report = ImportReport(errors=errors.sorted())
    if errors.items and not skip_bad:
        return report

    found: dict[str, Learner] = {}
    accounts = list(good)
    for start in range(0, len(accounts), 500):
        chunk = accounts[start : start + 500]
        for learner in session.exec(select(Learner).where(col(Learner.account).in_(chunk))):
            found[learner.account] = learner
    for item in sorted(good.values(), key=lambda r: r.number):
        unit_id = unit_ids[item.unit_code]
        learner = found.get(item.account)
        if learner is None:
            learner = Learner(
                account=item.account,
                name=item.name,
                unit_id=unit_id,
                in_service=bool(item.values.get("in_service", True)),
                exempt=bool(item.values.get("exempt", False)),
                required_credits=item.values.get("required_credits"),  # type: ignore[arg-type]
                total_credits=item.values.get("total_credits"),  # type: ignore[arg-type]
                updated_at=now,
            )
            session.add(learner)
            found[item.account] = learner
            report.created += 1
            continue
        report.updated += 1
        changes = {"name": item.name, "unit_id": unit_id, **item.values}
        changed = False
        for key, value in changes.items():
            if getattr(learner, key) != value:
                if key == "unit_id":
                    report.transferred += 1
                setattr(learner, key, value)
                changed = True
        if changed:
            learner.updated_at = now
        else:
            report.unchanged += 1
    session.flush()
    report.written = True
    audit.record(
        session,
        at=now,
        action="roster.import",
        actor=actor,
        target=source,
        detail={
            **report.counts(),
            "transferred": report.transferred,
            "source": source,
        },
    )
    session.flush()
    return report


def _parse_learner_row(
    errors: _Errors,
    row: dict[str, str],
    number: int,
    unit_ids: dict[str, int],
    seen: dict[str, int],
) -> _LearnerRow | None:
    account, name, unit = _value(row, "account"), _value(row, "name"), _value(row, "unit")
    before = len(errors.items)
    if not account:
        errors.add(number, "account", "不能为空")
    elif not ACCOUNT_RE.fullmatch(account):
        errors.add(
            number,
            "account",
            f"“{account[:80]}”格式不正确（3–64 位字母、数字或 _ . - @）",
        )
    elif account in seen:
        errors.add(number, "account", f"账号 {account} 与第 {seen[account]} 行重复")
    else:
        seen[account] = number
    _check_text(errors, number, "name", name, limit=MAX_NAME, required=True)
    if _check_text(errors, number, "unit", unit, limit=MAX_CODE, required=True) and (
        unit and unit not in unit_ids
    ):
        errors.add(number, "unit", f"单位编码 {unit} 不存在，请先导入单位")
    values: dict[str, object] = {}
    for key in ("in_service", "exempt"):
        if key not in row:
            continue
        text = _value(row, key)
        if not text:
            continue  # empty keeps the current value (new learners: in service, not exempt)
        flag = _parse_bool(key, text)
        if flag is None:
            errors.add(number, key, f"“{text[:20]}”无法识别，请填 是/否")
        else:
            values[key] = flag
    for key in ("required_credits", "total_credits"):
        if key not in row:
            continue
        text = _value(row, key)
        if not text:
            values[key] = None
            continue
        try:
            values[key] = _parse_credits(text)
        except ValueError as exc:
            errors.add(number, key, str(exc))
    if len(errors.items) > before:
        return None
    return _LearnerRow(number=number, account=account, name=name, unit_code=unit, values=values)
