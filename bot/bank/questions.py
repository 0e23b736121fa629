"""Reading and validating a question-bank upload (XLSX or CSV), row by row."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from bot.core.config import Config
from bot.core.tabular import (
    ImportFileError,
    check_file_name,
    check_file_size,
    check_xlsx_container,
    decode_csv,
)

MAX_FILE_BYTES = 2 * 1024 * 1024  # an upload larger than this is refused before it is read
MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024  # what a 2 MB XLSX may inflate to
MAX_SCANNED_ROWS = 2000  # rows read, blank ones included, before giving up
MAX_COLUMNS = 30
MAX_STEM = 1000
MAX_OPTION = 500
MAX_LAW = 100
QUOTE = 20  # characters of a cell quoted back in an error message
SHEET_NAME = "试题"
HELP_SHEET_NAME = "填写说明"
LETTERS = ("A", "B", "C", "D", "E", "F")
REQUIRED_LETTERS = 4  # A–D must be filled; E and F are optional
SINGLE, MULTIPLE = "single", "multiple"
TYPE_LABELS = {SINGLE: "单选", MULTIPLE: "多选"}
TYPE_WORDS = {
    "单选": SINGLE,
    "单选题": SINGLE,
    "单项选择": SINGLE,
    "单项选择题": SINGLE,
    "single": SINGLE,
    "多选": MULTIPLE,
    "多选题": MULTIPLE,
    "多项选择": MULTIPLE,
    "多项选择题": MULTIPLE,
    "multiple": MULTIPLE,
}
HEADER = ["题型", "题干", *LETTERS, "答案", "所属法律"]
HEADER_ALIASES: dict[str, str] = {
    "题型": "type",
    "题目类型": "type",
    "类型": "type",
    "题干": "stem",
    "题目": "stem",
    "试题": "stem",
    "答案": "key",
    "正确答案": "key",
    "参考答案": "key",
    "所属法律": "law",
    "法律": "law",
    "法律法规": "law",
    "所属法律法规": "law",
    **{letter.lower(): letter for letter in LETTERS},
    **{f"选项{letter.lower()}": letter for letter in LETTERS},
}
REQUIRED_COLUMNS = ("type", "stem", "A", "B", "C", "D", "key")
_KEY_NOISE = re.compile(r"[\s,，、;；/|.。]+")
_HEADER_NOISE = re.compile(r"[\s*:：_\-（）()]+")


@dataclass(frozen=True)
class Question:
    row: int
    kind: str  # SINGLE | MULTIPLE
    stem: str
    options: dict[str, str]  # letter -> text, filled options only, in order
    key: str  # letters in order, e.g. "B" or "ACD"
    law: str = ""


@dataclass(frozen=True)
class RowError:
    row: int  # the row in the file (header = 1); 0 for the file as a whole
    message: str

    def render(self) -> str:
        return f"第 {self.row} 行：{self.message}" if self.row else self.message


@dataclass
class Validation:
    questions: list[Question] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    sheet: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def single(self) -> int:
        return sum(1 for q in self.questions if q.kind == SINGLE)

    @property
    def multiple(self) -> int:
        return sum(1 for q in self.questions if q.kind == MULTIPLE)


class BankFileError(ImportFileError):
    """The upload as a whole is refused (type, size, macros, zip bomb, wrong or empty sheet)."""


def _text(value: object) -> str:
    """A cell as the author wrote it (trimmed); comparisons normalise separately."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _fold(text: str) -> str:
    """Width- and case-folded, for reading types, keys and headers."""
    return unicodedata.normalize("NFKC", text).strip().lower()


def _header_key(text: str) -> str | None:
    return HEADER_ALIASES.get(_HEADER_NOISE.sub("", _fold(text)))


def _columns(header: Sequence[str]) -> dict[str, int] | None:
    """Column index by key, or None when the row is not the template's header."""
    columns: dict[str, int] = {}
    for index, text in enumerate(header):
        key = _header_key(text)
        if key is not None and key not in columns:
            columns[key] = index
    if all(k in columns for k in REQUIRED_COLUMNS):
        return columns
    return None


def _records_from_rows(rows: Iterator[Sequence[object]]) -> Iterator[tuple[int, list[str]]]:
    for number, values in enumerate(rows, start=1):
        if number > MAX_SCANNED_ROWS:
            raise BankFileError(f"文件行数过多（超过 {MAX_SCANNED_ROWS} 行），请只保留试题行")
        yield number, [_text(v) for v in list(values)[:MAX_COLUMNS]]


def _first_nonblank(
    records: Iterator[tuple[int, list[str]]],
) -> tuple[int, list[str]] | None:
    for number, values in records:
        if any(values):
            return number, values
    return None


def _read_xlsx(data: bytes) -> tuple[str, int, dict[str, int], list[tuple[int, list[str]]]]:
    check_xlsx_container(io.BytesIO(data), MAX_UNCOMPRESSED_BYTES)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise BankFileError(f"不是有效的 XLSX 文件（{type(exc).__name__}）") from None
    try:
        sheets = list(workbook.worksheets)
        if not sheets:
            raise BankFileError("XLSX 文件中没有工作表")
        # The template's sheet by name first; otherwise the first sheet that has its header.
        named = [s for s in sheets if s.title.strip() == SHEET_NAME]
        candidates = named + [s for s in sheets if s not in named]
        empty: list[str] = []
        for sheet in candidates:
            if hasattr(sheet, "reset_dimensions"):
                sheet.reset_dimensions()  # don't trust the stored dimension
            try:
                records = _records_from_rows(sheet.iter_rows(values_only=True))
                first = _first_nonblank(records)
                if first is None:
                    empty.append(sheet.title)
                    continue
                columns = _columns(first[1])
                if columns is None:
                    continue
                return sheet.title, first[0], columns, list(records)
            except BankFileError:
                raise
            except Exception as exc:
                raise BankFileError(f"读取 XLSX 内容失败（{type(exc).__name__}）") from None
        titles = "、".join(f"“{s.title}”" for s in sheets)
        if named and named[0].title in empty:
            raise BankFileError(f"“{SHEET_NAME}”工作表是空的，没有表头和试题")
        if len(empty) == len(sheets):
            raise BankFileError("文件是空的：所有工作表都没有内容")
        raise BankFileError(
            f"找不到试题工作表：工作表 {titles} 中没有模板的表头（{'、'.join(HEADER)}）。"
            "请用 /template 下载模板填写"
        )
    finally:
        workbook.close()


def _read_csv(data: bytes) -> tuple[str, int, dict[str, int], list[tuple[int, list[str]]]]:
    text = decode_csv(data)
    try:
        records = _records_from_rows(csv.reader(io.StringIO(text, newline="")))
        first = _first_nonblank(records)
        if first is None:
            raise BankFileError("文件是空的，没有表头和试题")
        columns = _columns(first[1])
        if columns is None:
            raise BankFileError(f"CSV 第 {first[0]} 行不是模板的表头（应为 {'、'.join(HEADER)}）")
        return "CSV", first[0], columns, list(records)
    except csv.Error as exc:
        raise BankFileError(f"CSV 格式错误：{exc}") from None


def _quote(text: str) -> str:
    return text if len(text) <= QUOTE else text[:QUOTE] + "…"


def _norm(text: str) -> str:
    """For duplicate checks: width- and case-folded, without any white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def validate(
    file_bytes: bytes, filename: str, department: str | None, config: Config
) -> Validation:
    """Check an uploaded question file completely.

    Raises ``BankFileError`` (an ``ImportFileError``) when the file as a whole is refused:
    wrong type, too big, macros, a zip bomb, no question sheet, nothing in it. Otherwise returns
    every problem, row by row, and the parsed questions; ``ok`` only when there is no problem.
    ``department`` only labels the result (the rules are the same for every department).
    """
    try:
        suffix = check_file_name(filename or "")
        check_file_size(len(file_bytes), MAX_FILE_BYTES)
        reader = _read_csv if suffix == ".csv" else _read_xlsx
        sheet, header_row, columns, records = reader(file_bytes)
    except BankFileError:
        raise
    except ImportFileError as exc:
        raise BankFileError(str(exc)) from None
    result = Validation(sheet=sheet)
    qs = config.question_submission
    stems: dict[str, int] = {}
    rows_seen = 0
    for number, values in records:
        if not any(values):
            continue
        rows_seen += 1
        question = _check_row(result.errors, number, values, columns, stems)
        if question is not None:
            result.questions.append(question)
    if rows_seen == 0:
        raise BankFileError(f"只有表头（第 {header_row} 行），没有试题")
    # Counts by type, over every row whose type could be read.
    typed = _typed_counts(records, columns)
    for kind, wanted in ((SINGLE, qs.single_choice), (MULTIPLE, qs.multiple_choice)):
        got = typed[kind]
        if got != wanted:
            result.errors.append(RowError(0, f"{TYPE_LABELS[kind]}题共 {got} 道，应为 {wanted} 道"))
    result.errors.sort(key=lambda e: e.row)
    if result.errors:
        result.questions = []
    return result


def _typed_counts(
    records: Sequence[tuple[int, list[str]]], columns: dict[str, int]
) -> dict[str, int]:
    counts = {SINGLE: 0, MULTIPLE: 0}
    for _number, values in records:
        if any(values):
            kind = TYPE_WORDS.get(_fold(_cell(values, columns, "type")))
            if kind is not None:
                counts[kind] += 1
    return counts


def _cell(values: list[str], columns: dict[str, int], key: str) -> str:
    index = columns.get(key)
    if index is None or index >= len(values):
        return ""
    return values[index]


def _check_row(
    errors: list[RowError],
    number: int,
    values: list[str],
    columns: dict[str, int],
    stems: dict[str, int],
) -> Question | None:
    before = len(errors)

    def add(message: str) -> None:
        errors.append(RowError(number, message))

    type_text = _cell(values, columns, "type")
    if type_text and not any(
        _cell(values, columns, key) for key in ("stem", *LETTERS, "key", "law")
    ):
        add("只有题型，题干、选项和答案都没有填写")
        return None
    kind = TYPE_WORDS.get(_fold(type_text))
    if not type_text:
        add("题型为空，应填“单选”或“多选”")
    elif kind is None:
        add(f"题型“{_quote(type_text)}”无法识别，应填“单选”或“多选”")

    stem = _cell(values, columns, "stem")
    if not stem:
        add("题干为空")
    elif len(stem) > MAX_STEM:
        add(f"题干过长（{len(stem)} 字，最多 {MAX_STEM} 字）")
    else:
        normalized = _norm(stem)
        if normalized in stems:
            add(f"题干与第 {stems[normalized]} 行重复")
        else:
            stems[normalized] = number

    options: dict[str, str] = {}
    gap: str | None = None
    seen_options: dict[str, str] = {}
    for index, letter in enumerate(LETTERS):
        text = _cell(values, columns, letter)
        if not text:
            if index < REQUIRED_LETTERS:
                add(f"选项 {letter} 为空（A–D 必填）")
            else:
                gap = gap or letter
            continue
        if gap is not None and index >= REQUIRED_LETTERS:
            add(f"选项 {letter} 前的选项 {gap} 为空，选项须依次填写")
        if len(text) > MAX_OPTION:
            add(f"选项 {letter} 过长（{len(text)} 字，最多 {MAX_OPTION} 字）")
        normalized = _norm(text)
        if normalized in seen_options:
            add(f"选项 {letter} 与选项 {seen_options[normalized]} 相同（“{_quote(text)}”）")
        else:
            seen_options[normalized] = letter
        options[letter] = text

    key_text = _cell(values, columns, "key")
    key = ""
    if not key_text:
        add("答案为空")
    else:
        letters = _KEY_NOISE.sub("", _fold(key_text)).upper()
        bad = [ch for ch in letters if ch not in LETTERS]
        if bad or not letters:
            add(f"答案“{_quote(key_text)}”无效，只能填 A–F 的字母")
        elif len(set(letters)) != len(letters):
            add(f"答案“{_quote(key_text)}”中有重复的字母")
        else:
            missing = [ch for ch in letters if ch not in options]
            if missing:
                add(f"答案中的 {'、'.join(missing)} 没有对应的选项")
            if kind == SINGLE and len(letters) != 1:
                add(f"单选题答案只能是一个字母，现在是“{_quote(key_text)}”")
            if kind == MULTIPLE and len(letters) < 2:
                add(f"多选题答案至少要有两个字母，现在是“{_quote(key_text)}”")
            key = "".join(sorted(letters))

    law = _cell(values, columns, "law")
    if len(law) > MAX_LAW:
        add(f"所属法律过长（{len(law)} 字，最多 {MAX_LAW} 字）")

    if len(errors) > before or kind is None:
        return None
    return Question(row=number, kind=kind, stem=stem, options=options, key=key, law=law)
