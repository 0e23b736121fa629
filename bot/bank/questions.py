"""Reading and validating a question-bank upload (XLSX or CSV), row by row.

The file is read through the import pipeline (``bot.core.tabular``: its safety checks, sheets,
header aliases of the ``questions`` table, row errors); this module keeps the question bank's
own rules: which sheet holds the questions, types, options, answers, duplicates and the number
of questions of each type. Its words are ``questions.toml``'s; its messages
``templates/_questions_import_messages.j2``.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.config import Config
from bot.core.tabular import (
    ROW_KEY,
    Header,
    ImportFileError,
    Record,
    RowCheck,
    RowError,
    RowErrors,
    Sheet,
    check_file_name,
    check_file_size,
    first_filled,
    fold,
    load_data,
    open_sheets,
    read_header,
    table,
    vocabulary,
)

WORDS = load_data(Path(__file__).with_name("questions.toml"))
TABLE = table("questions")
MAX_FILE_BYTES = 2 * 1024 * 1024  # an upload larger than this is refused before it is read
MAX_UNCOMPRESSED_BYTES = 20 * 1024 * 1024  # what a 2 MB XLSX may inflate to
MAX_SCANNED_ROWS = 2000  # rows read, blank ones included, before giving up
MAX_COLUMNS = 30
SHEET_NAME: str = WORDS["sheet"]
HELP_SHEET_NAME: str = WORDS["help_sheet"]
LETTERS = ("A", "B", "C", "D", "E", "F")
REQUIRED_LETTERS = 4  # A–D must be filled; E and F are optional
MAX_STEM: int = TABLE.columns["stem"].max or 0
MAX_OPTION: int = TABLE.columns["A"].max or 0
MAX_LAW: int = TABLE.columns["law"].max or 0
SINGLE, MULTIPLE = "single", "multiple"
TYPE_LABELS: dict[str, str] = {kind: spec["label"] for kind, spec in WORDS["types"].items()}
TYPE_WORDS = vocabulary({kind: spec["words"] for kind, spec in WORDS["types"].items()})
HEADER = [column.label for column in TABLE.columns.values()]
"""The template's header row."""
KEY_NOISE = re.compile("[\\s" + re.escape("".join(WORDS["key"]["separators"])) + "]+")


@dataclass(frozen=True)
class Question:
    row: int
    kind: str  # SINGLE | MULTIPLE
    stem: str
    options: dict[str, str]  # letter -> text, filled options only, in order
    key: str  # letters in order, e.g. "B" or "ACD"
    law: str = ""


@dataclass
class Validation:
    questions: list[Question] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)  # row 0: the file as a whole
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

    table = "questions"


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
        sheet, header, records = _read(file_bytes, filename)
    except BankFileError:
        raise
    except ImportFileError as exc:
        raise BankFileError(exc.code, **exc.params) from None
    rows = _question_rows(header, records)
    if not rows:
        raise BankFileError("no_questions", row=header.row)
    errors = RowErrors(TABLE)
    result = Validation(sheet=sheet)
    stems: dict[str, int] = {}
    for check in errors.rows(rows):
        question = _check_row(check, stems)
        if question is not None:
            result.questions.append(question)
    _check_counts(errors, rows, config)
    result.errors = errors.sorted()
    if result.errors:
        result.questions = []
    return result


def _question_rows(header: Header, records: Sequence[Record]) -> list[dict[str, str]]:
    """The rows after the header by column key, numbered; rows with no column filled are
    left out, as in every imported table."""
    rows: list[dict[str, str]] = []
    for number, values in records:
        cells = header.cells(values)
        if any(cells.values()):
            rows.append({**cells, ROW_KEY: str(number)})
    return rows


# --- reading ------------------------------------------------------------------------------------


def _read(data: bytes, filename: str) -> tuple[str, Header, list[Record]]:
    """The question sheet's title, its header and its rows after the header."""
    suffix = check_file_name(filename or "")
    check_file_size(len(data), MAX_FILE_BYTES)
    with open_sheets(data, suffix, max_uncompressed=MAX_UNCOMPRESSED_BYTES) as sheets:
        if suffix == ".csv":
            return _csv_sheet(sheets[0])
        return _question_sheet(sheets)


def _scanned(sheet: Sheet) -> Iterator[Record]:
    """A sheet's rows, at most ``MAX_COLUMNS`` cells each, refusing a sheet that goes on for
    more than ``MAX_SCANNED_ROWS`` rows (blank ones included)."""
    for number, values in sheet.records():
        if number > MAX_SCANNED_ROWS:
            raise BankFileError("rows_scanned", max=MAX_SCANNED_ROWS)
        yield number, values[:MAX_COLUMNS]


def _csv_sheet(sheet: Sheet) -> tuple[str, Header, list[Record]]:
    records = _scanned(sheet)
    first = first_filled(records)
    if first is None:
        raise BankFileError("csv_empty")
    header = read_header(TABLE, *first)
    if header.missing:
        raise BankFileError("csv_not_header", row=header.row, header=HEADER)
    return sheet.title, header, list(records)


def _question_sheet(sheets: Sequence[Sheet]) -> tuple[str, Header, list[Record]]:
    """The template's sheet by name first; otherwise the first sheet that has its header."""
    named = [s for s in sheets if s.title.strip() == SHEET_NAME]
    empty: list[str] = []
    for sheet in named + [s for s in sheets if s not in named]:
        records = _scanned(sheet)
        first = first_filled(records)
        if first is None:
            empty.append(sheet.title)
            continue
        header = read_header(TABLE, *first)
        if not header.missing:
            return sheet.title, header, list(records)
    if named and named[0].title in empty:
        raise BankFileError("sheet_empty", sheet=SHEET_NAME)
    if len(empty) == len(sheets):
        raise BankFileError("all_sheets_empty")
    raise BankFileError("no_question_sheet", titles=[s.title for s in sheets], header=HEADER)


# --- the rules ----------------------------------------------------------------------------------


def _norm(text: str) -> str:
    """For duplicate checks: width- and case-folded, without any white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).casefold()


def _check_counts(errors: RowErrors, rows: Sequence[dict[str, str]], config: Config) -> None:
    """The number of questions of each type, over every row whose type could be read."""
    qs = config.question_submission
    typed = {SINGLE: 0, MULTIPLE: 0}
    for row in rows:
        kind = TYPE_WORDS.get(fold(row.get("type", "")))
        if kind is not None:
            typed[kind] += 1
    for kind, wanted in ((SINGLE, qs.single_choice), (MULTIPLE, qs.multiple_choice)):
        if typed[kind] != wanted:
            label = TYPE_LABELS[kind]
            errors.add(0, "type", "count", type_label=label, got=typed[kind], wanted=wanted)


def _check_row(check: RowCheck, stems: dict[str, int]) -> Question | None:
    type_text = check.get("type")
    if type_text and not any(check.get(key) for key in ("stem", *LETTERS, "key", "law")):
        check.error("type", "type_only")
        return None
    kind = TYPE_WORDS.get(fold(type_text))
    if not type_text:
        check.error("type", "type_empty")
    elif kind is None:
        check.error("type", "type_unknown", value=type_text)
    stem = _check_stem(check, stems)
    options = _check_options(check)
    key = _check_key(check, kind, options)
    law = check.get("law")
    if len(law) > MAX_LAW:
        check.error("law", "law_long", length=len(law), max=MAX_LAW)
    if not check.ok or kind is None:
        return None
    return Question(row=check.number, kind=kind, stem=stem, options=options, key=key, law=law)


def _check_stem(check: RowCheck, stems: dict[str, int]) -> str:
    stem = check.get("stem")
    if not stem:
        check.error("stem", "stem_empty")
    elif len(stem) > MAX_STEM:
        check.error("stem", "stem_long", length=len(stem), max=MAX_STEM)
    elif (normalized := _norm(stem)) in stems:
        check.error("stem", "stem_duplicate", first=stems[normalized])
    else:
        stems[normalized] = check.number
    return stem


def _check_options(check: RowCheck) -> dict[str, str]:
    """A–D filled, E and F in order, none too long, no two the same; the filled ones."""
    options: dict[str, str] = {}
    gap: str | None = None
    seen: dict[str, str] = {}
    for index, letter in enumerate(LETTERS):
        text = check.get(letter)
        if not text:
            if index < REQUIRED_LETTERS:
                check.error(letter, "option_empty", letter=letter)
            else:
                gap = gap or letter
            continue
        if gap is not None and index >= REQUIRED_LETTERS:
            check.error(letter, "option_gap", letter=letter, gap=gap)
        if len(text) > MAX_OPTION:
            check.error(letter, "option_long", letter=letter, length=len(text), max=MAX_OPTION)
        normalized = _norm(text)
        if normalized in seen:
            check.error(letter, "option_same", letter=letter, other=seen[normalized], value=text)
        else:
            seen[normalized] = letter
        options[letter] = text
    return options


def _check_key(check: RowCheck, kind: str | None, options: dict[str, str]) -> str:
    """The answer's letters, in order; one for a single-choice question, two or more for a
    multiple-choice one, each an option that is filled."""
    text = check.get("key")
    if not text:
        check.error("key", "key_empty")
        return ""
    letters = KEY_NOISE.sub("", unicodedata.normalize("NFKC", text).strip().lower()).upper()
    if not letters or any(ch not in LETTERS for ch in letters):
        check.error("key", "key_invalid", value=text)
        return ""
    if len(set(letters)) != len(letters):
        check.error("key", "key_repeated", value=text)
        return ""
    missing = [ch for ch in letters if ch not in options]
    if missing:
        check.error("key", "key_no_option", letters=missing)
    if kind == SINGLE and len(letters) != 1:
        check.error("key", "single_key", value=text)
    if kind == MULTIPLE and len(letters) < 2:
        check.error("key", "multiple_key", value=text)
    return "".join(sorted(letters))
