"""The tabular-import pipeline: reading CSV/XLSX files safely, mapping headers to keys, and
collecting row errors into one report (units, roster, results and question files alike).

A bad row rejects the whole file unless ``skip_bad`` is set, in which case only the good rows are
written.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal

MAX_FILE_BYTES = 5 * 1024 * 1024
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MAX_ROWS = 20_000
MAX_CODE = 64
MAX_NAME = 64
MAX_RENDERED_ERRORS = 50
ROW_KEY = "_row"
"""Each row from ``read_table`` carries its row number in the file (header = 1) under this key."""


TableKind = Literal["units", "roster", "results"]
ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_.@-]{3,64}$")


class ImportFileError(Exception):
    """The file as a whole can't be read (missing, wrong type, too big, bad headers)."""


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

# Exam results exported from the platform (bot/results/importer.py validates the rows).
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

HEADER_NOISE = re.compile(r"[\s*:_-]+")


def _normalize_header(text: str) -> str:
    """ "* 登录账号：", "Unit Code" and "unit_code" compare equal to their plain forms."""
    return HEADER_NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


def _header_lookup(kind: str) -> dict[str, str]:
    return {
        _normalize_header(alias): key for key, aliases in HEADERS[kind].items() for alias in aliases
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


class Errors:
    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.items: list[RowError] = []
        self.rows: set[int] = set()

    def add(self, row: int, key: str, message: str) -> None:
        self.items.append(RowError(row, key, message, LABELS[self.kind].get(key, "")))
        self.rows.add(row)

    def sorted(self) -> list[RowError]:
        return sorted(self.items, key=lambda e: e.row)


def row_number(row: dict[str, str], index: int) -> int:
    try:
        return int(row.get(ROW_KEY) or index + 2)
    except ValueError:
        return index + 2


def cell_value(row: dict[str, str], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def check_text(
    errors: Errors, number: int, key: str, value: str, *, limit: int, required: bool
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


def parse_bool(key: str, text: str) -> bool | None:
    normalized = unicodedata.normalize("NFKC", text).strip().lower()
    truthy, falsy = BOOL_WORDS[key]
    if normalized in truthy:
        return True
    if normalized in falsy:
        return False
    return None
