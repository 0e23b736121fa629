"""The question bank (notice 四（三）): each department in ``config.question_bank`` owes a fixed
number of single- and multiple-choice questions on its laws by the deadline.

``write_template`` makes the XLSX template; ``validate`` checks an uploaded XLSX/CSV completely
and says what is wrong row by row; ``submit`` stores a fully valid file for the administrator's
department (superseding the earlier one, which stays as history; late files are accepted and
marked late); ``status`` tells the city office who has submitted; ``export`` writes the merged
bank. File-safety checks (size, type, macros, zip bombs) are the importer's, reused.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import re
import unicodedata
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.config import Config, QuestionDepartment
from bot.models import Unit
from bot.models_bank import QuestionSubmission
from bot.services import audit
from bot.services.errors import Refused
from bot.services.identity import Identity
from bot.services.imports import (
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


# --- results --------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class SubmitResult:
    department: str
    validation: Validation
    stored: bool
    late: bool = False
    replaced: bool = False
    submission_id: int | None = None


class BankFileError(ImportFileError):
    """The upload as a whole is refused (type, size, macros, zip bomb, wrong or empty sheet)."""


# --- the template ---------------------------------------------------------------------------


def template_bytes(config: Config) -> bytes:
    """The XLSX template: a question sheet with the header row (and the type column pre-filled
    with the owed number of each type), and a sheet of instructions in Chinese."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    qs = config.question_submission
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for _ in range(qs.single_choice):
        ws.append([TYPE_LABELS[SINGLE]])
    for _ in range(qs.multiple_choice):
        ws.append([TYPE_LABELS[MULTIPLE]])
    widths = {"A": 8, "B": 50, "I": 10, "J": 24}
    for column in "CDEFGH":
        widths[column] = 22
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    types = DataValidation(type="list", formula1='"单选,多选"', allow_blank=True)
    types.add(f"A2:A{qs.total + 200}")
    ws.add_data_validation(types)

    help_sheet = wb.create_sheet(HELP_SHEET_NAME)
    help_sheet.column_dimensions["A"].width = 110
    for line in _instructions(config):
        help_sheet.append([line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _instructions(config: Config) -> list[str]:
    """The instruction sheet's lines, from bot/templates/bank_instructions.j2 (plain text)."""
    from bot.render import render, strip_html

    text = render(
        "bank_instructions",
        c=config,
        sheet=SHEET_NAME,
        header=HEADER,
        max_mb=MAX_FILE_BYTES // 1024 // 1024,
    )
    return strip_html(text).splitlines()


def write_template(path: str | Path, config: Config) -> Path:
    path = Path(path)
    path.write_bytes(template_bytes(config))
    return path


# --- reading an upload ----------------------------------------------------------------------


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


# --- validation -----------------------------------------------------------------------------


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


# --- submitting -----------------------------------------------------------------------------


def department_of(identity: Identity, config: Config) -> QuestionDepartment:
    """The question-bank department the administrator speaks for, or a refusal.

    Departments are seeded as units whose code is the department's name; a unit renamed by an
    import is still matched by its name.
    """
    for dept in config.question_bank:
        if dept.department in (identity.unit_code, identity.unit_name):
            return dept
    raise Refused("bank_not_department", unit=identity.unit_name)


def is_late(now: dt.datetime, config: Config) -> bool:
    """ "6月15日前" is read as "by the end of June 15" in the campaign's timezone."""
    return now.astimezone(config.tz).date() > config.question_submission.deadline


def submit(
    session: Session,
    config: Config,
    identity: Identity,
    *,
    file_bytes: bytes,
    filename: str,
    now: dt.datetime,
    chat_id: int | None = None,
) -> SubmitResult:
    """Validate and, when fully valid, store the department's file (replacing the current one,
    which is kept as history), with one audit row in the same transaction.

    Refusals: not a department's administrator (``Refused``); the file as a whole
    (``BankFileError``). A file with row errors is returned unstored with its errors.
    """
    dept = department_of(identity, config)
    validation = validate(file_bytes, filename, dept.department, config)
    if not validation.ok:
        return SubmitResult(dept.department, validation, stored=False)
    late = is_late(now, config)
    current = session.exec(
        select(QuestionSubmission).where(
            QuestionSubmission.unit_id == identity.unit_id,
            col(QuestionSubmission.superseded_at).is_(None),
        )
    ).first()
    if current is not None:
        # Conditional: two uploads at once supersede the same row once; the partial unique
        # index then refuses the second new row.
        session.execute(
            update(QuestionSubmission)
            .where(
                col(QuestionSubmission.id) == current.id,
                col(QuestionSubmission.superseded_at).is_(None),
            )
            .values(superseded_at=now)
        )
    content = json.dumps(
        [asdict(q) for q in validation.questions], ensure_ascii=False, separators=(",", ":")
    )
    row = QuestionSubmission(
        unit_id=identity.unit_id,
        department=dept.department,
        file_name=Path(filename).name[:256],
        sha256=hashlib.sha256(file_bytes).hexdigest(),
        single_count=validation.single,
        multiple_count=validation.multiple,
        content=content,
        late=late,
        admin_id=identity.admin_id,
        telegram_user_id=identity.telegram_user_id,
        submitted_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=now,
        action="questions.submit",
        actor=identity.unit_name,
        target=dept.department,
        detail={
            "submission_id": row.id,
            "file": row.file_name,
            "sha256": row.sha256,
            "single": row.single_count,
            "multiple": row.multiple_count,
            "late": late,
            "replaced": current.id if current is not None else None,
        },
        actor_admin_id=identity.admin_id,
        actor_telegram_id=identity.telegram_user_id,
        chat_id=chat_id,
    )
    return SubmitResult(
        dept.department,
        validation,
        stored=True,
        late=late,
        replaced=current is not None,
        submission_id=row.id,
    )


# --- status and export ----------------------------------------------------------------------


@dataclass(frozen=True)
class DepartmentStatus:
    department: str
    topic: str
    state: str  # "submitted" | "late" | "missing"
    submitted_at: dt.datetime | None = None
    file_name: str = ""
    versions: int = 0


def _department_units(session: Session, config: Config) -> dict[str, int]:
    names = [d.department for d in config.question_bank]
    units = session.exec(
        select(Unit).where(col(Unit.code).in_(names) | col(Unit.name).in_(names))
    ).all()
    found: dict[str, int] = {u.code: u.id for u in units if u.code in names}  # type: ignore[misc]
    for unit in units:  # a unit matched by name only where no code matches
        if unit.name in names and unit.name not in found:
            found[unit.name] = unit.id  # type: ignore[assignment]
    return found


def status(session: Session, config: Config) -> list[DepartmentStatus]:
    """Every department of the config, in the config's order, with its current submission."""
    units = _department_units(session, config)
    rows = session.exec(
        select(QuestionSubmission).where(col(QuestionSubmission.unit_id).in_(units.values()))
    ).all()
    by_unit: dict[int, list[QuestionSubmission]] = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
    result: list[DepartmentStatus] = []
    for dept in config.question_bank:
        history = by_unit.get(units.get(dept.department, -1), [])
        current = next((r for r in history if r.superseded_at is None), None)
        if current is None:
            result.append(DepartmentStatus(dept.department, dept.topic, "missing"))
            continue
        result.append(
            DepartmentStatus(
                dept.department,
                dept.topic,
                "late" if current.late else "submitted",
                current.submitted_at,
                current.file_name,
                len(history),
            )
        )
    return result


def current_questions(session: Session, config: Config) -> list[tuple[str, bool, list[dict]]]:
    """(department, late, questions) for every department with a current submission."""
    units = _department_units(session, config)
    current = {
        row.unit_id: row
        for row in session.exec(
            select(QuestionSubmission).where(
                col(QuestionSubmission.unit_id).in_(units.values()),
                col(QuestionSubmission.superseded_at).is_(None),
            )
        )
    }
    merged: list[tuple[str, bool, list[dict[str, Any]]]] = []
    for dept in config.question_bank:
        row = current.get(units.get(dept.department, -1))
        if row is not None:
            merged.append((dept.department, row.late, json.loads(row.content)))
    return merged


def export(path: str | Path, session: Session, config: Config) -> int:
    """Write the merged bank (current submissions, in the config's order) and a sheet with
    every department's status; return the number of questions written."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "题库"
    ws.append(["序号", "报送单位", *HEADER, "逾期"])
    count = 0
    for department, late, questions in current_questions(session, config):
        for question in questions:
            count += 1
            options = question["options"]
            ws.append(
                [
                    count,
                    department,
                    TYPE_LABELS[question["kind"]],
                    question["stem"],
                    *(options.get(letter, "") for letter in LETTERS),
                    question["key"],
                    question["law"],
                    "是" if late else "",
                ]
            )
    sheet = wb.create_sheet("报送情况")
    sheet.append(["报送单位", "报送内容", "状态", "报送时间", "文件", "报送次数"])
    labels = {"submitted": "已报送", "late": "逾期报送", "missing": "未报送"}
    for item in status(session, config):
        when = (
            item.submitted_at.astimezone(config.tz).strftime("%Y-%m-%d %H:%M")
            if (item.submitted_at)
            else ""
        )
        sheet.append(
            [item.department, item.topic, labels[item.state], when, item.file_name, item.versions]
        )
    for worksheet in (ws, sheet):
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
    Path(path).write_bytes(_save(wb))
    return count


def _save(workbook: Any) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
