"""Reading untrusted spreadsheet files safely: the name and the size are checked before anything
parses them (the XLSX container's own checks are ``sheets``'s); a file's sheets give numbered
rows of text cells, the same for CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.core.render import render

MAX_FILE_BYTES = 50 * 1024 * 1024  # config [imports] max_file_mb gives the command line's
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")

Record = tuple[int, list[str]]
"""A row as read from a sheet: its number in the file (from 1) and its cells as text."""

Span = tuple[int, int, int, int]
"""A merged range of cells: its first column, first row, last column and last row (from 1)."""


class ImportFileError(Exception):
    """The file as a whole can't be imported (missing, wrong type, too big, unsafe, bad
    headers). A message code and its parameters; ``str()`` is the message."""

    table = ""  # whose template writes the codes the pipeline does not know

    def __init__(self, code: str, /, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        return render("import_message", e=self, c=None)

    def __str__(self) -> str:
        return self.message


def check_file_name(name: str) -> str:
    """The lower-case suffix of an acceptable table file (.csv or .xlsx); macro workbooks and
    anything else raise ``ImportFileError``."""
    suffix = Path(name).suffix.lower()
    if suffix in MACRO_SUFFIXES:
        raise ImportFileError("macro_suffix")
    if suffix not in (".csv", ".xlsx"):
        raise ImportFileError("unsupported_type", suffix=Path(name).suffix)
    return suffix


def check_file_size(size: int, limit: int = MAX_FILE_BYTES) -> None:
    if size > limit:
        raise ImportFileError("too_big", size=size, limit=limit)


def decode_csv(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM) or GB18030, never binary."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError:
            raise ImportFileError("encoding") from None
    if "\x00" in text:
        raise ImportFileError("binary_csv")
    return text


# --- sheets and records -----------------------------------------------------------------------

LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")
"""A line of CSV text with its ending: LF, CRLF or a lone CR, as ``newline=""`` splits them."""


def csv_lines(text: str) -> Iterator[str]:
    """The lines of CSV text, for ``csv.reader``: sliced one at a time, where ``io.StringIO``
    would first copy a city's file at four bytes a character."""
    return (match.group() for match in LINE.finditer(text))


def cell_text(value: object) -> str:
    """A cell as text, the same for CSV and XLSX: an account typed as a number (12345.0) is
    "12345", dates are ISO ("2022-09-01", with the time where it has one), booleans
    "true"/"false"."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime) and value.time() == dt.time() and value.tzinfo is None:
        return value.date().isoformat()  # a date typed in a cell (openpyxl adds midnight)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def cells_text(values: Sequence[object]) -> list[str]:
    """A row of cells as text (``cell_text``)."""
    return [cell_text(v) for v in values]


def stripped(values: Sequence[object]) -> list[str]:
    """A CSV row: its cells are text already, only the spaces around them go."""
    return [v.strip() for v in values]  # type: ignore[attr-defined]


def _no_spans() -> list[Span] | None:
    return None


def _unknown_size() -> int | None:
    return None


@dataclass(frozen=True)
class Sheet:
    """One sheet of a file (a CSV file is one sheet, titled "CSV").

    ``merged`` gives the sheet's merged ranges (an XLSX title across the columns, a heading over
    two columns of a two-row header), or None where the file cannot say (CSV); ``text`` turns a
    row's values into text; ``size`` is about how many rows the sheet has, where the file says
    (for progress only)."""

    title: str
    rows: Callable[[], Iterable[Sequence[object]]]
    merged: Callable[[], list[Span] | None] = _no_spans
    text: Callable[[Sequence[object]], list[str]] = cells_text
    size: Callable[[], int | None] = _unknown_size

    def records(self) -> Iterator[Record]:
        """The sheet's rows, numbered from 1, as text; a broken file raises
        ``ImportFileError`` whenever it shows."""
        text = self.text
        try:
            for number, values in enumerate(self.rows(), start=1):
                yield number, text(values)
        except ImportFileError:
            raise
        except csv.Error as exc:
            raise ImportFileError("csv_format", reason=str(exc)) from None
        except Exception as exc:  # the XLSX readers raise many kinds for a broken sheet
            raise ImportFileError("xlsx_read", reason=type(exc).__name__) from None


def first_filled(records: Iterator[Record]) -> Record | None:
    """The first row with any text in it (the header, where a sheet has one)."""
    for number, values in records:
        if any(values):
            return number, values
    return None
