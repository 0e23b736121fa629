"""Reading untrusted spreadsheet files safely: the name, the size and the XLSX container are
checked (no macros, zip bombs or XML entities) before anything parses them; then a file's sheets
give numbered rows of text cells, the same for CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from bot.core.render import render

MAX_FILE_BYTES = 50 * 1024 * 1024  # config [imports] max_file_mb gives the command line's
MAX_UNCOMPRESSED_BYTES = 50 * 1024 * 1024
MAX_ZIP_MEMBERS = 10_000
MACRO_SUFFIXES = (".xlsm", ".xltm", ".xlam")

Record = tuple[int, list[str]]
"""A row as read from a sheet: its number in the file (from 1) and its cells as text."""

Span = tuple[int, int, int, int]
"""A merged range of cells: its first column, first row, last column and last row (from 1)."""

MERGE_CELL_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}mergeCell"


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
                raise ImportFileError("xlsx_members")
            names = {m.filename.replace("\\", "/").lower() for m in members}
            if any(name.rsplit("/", 1)[-1] == "vbaproject.bin" for name in names):
                raise ImportFileError("xlsx_macro")
            total = sum(m.file_size for m in members)
            if total > max_uncompressed:
                raise ImportFileError("xlsx_inflated", size=total, limit=max_uncompressed)
            if "[content_types].xml" not in names:
                raise ImportFileError("xlsx_no_content_types")
            for member in members:
                if member.filename.lower().endswith((".xml", ".rels")) and _declares_entities(
                    archive, member
                ):
                    raise ImportFileError("xlsx_entities")
    # RuntimeError covers zipfile's refusal of an unsupported compression method.
    except (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, EOFError) as exc:
        raise ImportFileError("xlsx_invalid", reason=str(exc)) from None


def _declares_entities(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> bool:
    tail = b""
    with archive.open(member) as stream:
        while chunk := stream.read(1 << 16):
            window = (tail + chunk).upper()
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return True
            tail = chunk[-16:]
    return False


# --- sheets and records -----------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell as text, the same for CSV and XLSX: an account typed as a number (12345.0) is
    "12345", dates are ISO, booleans "true"/"false"."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value).strip()


def _no_spans() -> list[Span] | None:
    return None


@dataclass(frozen=True)
class Sheet:
    """One sheet of a file (a CSV file is one sheet, titled "CSV").

    ``merged`` gives the sheet's merged ranges (an XLSX title across the columns, a heading over
    two columns of a two-row header), or None where the file cannot say (CSV)."""

    title: str
    rows: Callable[[], Iterable[Sequence[object]]]
    merged: Callable[[], list[Span] | None] = _no_spans

    def records(self) -> Iterator[Record]:
        """The sheet's rows, numbered from 1, as text; a broken file raises
        ``ImportFileError`` whenever it shows."""
        try:
            for number, values in enumerate(self.rows(), start=1):
                yield number, [cell_text(v) for v in values]
        except ImportFileError:
            raise
        except csv.Error as exc:
            raise ImportFileError("csv_format", reason=str(exc)) from None
        except Exception as exc:  # openpyxl raises many kinds for a broken sheet
            raise ImportFileError("xlsx_read", reason=type(exc).__name__) from None


@contextmanager
def open_sheets(
    data: bytes, suffix: str, *, max_uncompressed: int = MAX_UNCOMPRESSED_BYTES
) -> Iterator[list[Sheet]]:
    """The sheets of a CSV or XLSX file held in memory; an XLSX container is checked before
    openpyxl reads it, and the workbook is closed when the block ends."""
    if suffix == ".csv":
        text = decode_csv(data)
        yield [Sheet("CSV", lambda: csv.reader(io.StringIO(text, newline="")))]
        return
    check_xlsx_container(io.BytesIO(data), max_uncompressed)
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFileError("xlsx_invalid", reason=type(exc).__name__) from None
    try:
        if not workbook.worksheets:
            raise ImportFileError("xlsx_no_sheet")
        yield [
            Sheet(ws.title, _worksheet_rows(ws), _worksheet_spans(ws)) for ws in workbook.worksheets
        ]
    finally:
        workbook.close()


def _worksheet_rows(worksheet: Any) -> Callable[[], Iterable[Sequence[object]]]:
    def rows() -> Iterable[Sequence[object]]:
        if hasattr(worksheet, "reset_dimensions"):
            worksheet.reset_dimensions()  # don't trust the stored dimension; read every cell
        return worksheet.iter_rows(values_only=True)

    return rows


def _worksheet_spans(worksheet: Any) -> Callable[[], list[Span] | None]:
    """The merged ranges of a read-only worksheet. openpyxl reads them only after the last row
    (they follow the cells in the file), so they are read in a pass of their own over the
    sheet's XML, which ``check_xlsx_container`` has already checked; None if that fails."""

    def spans() -> list[Span] | None:
        source = getattr(worksheet, "_get_source", None)
        if source is None:
            return None
        from openpyxl.utils.cell import range_boundaries
        from openpyxl.xml.functions import iterparse

        found: list[Span] = []
        try:
            with source() as stream:
                for _event, element in iterparse(stream):
                    if element.tag == MERGE_CELL_TAG:
                        bounds = range_boundaries(element.get("ref", ""))
                        if None not in bounds:
                            found.append(bounds)
                    element.clear()
        except Exception:  # a broken range or sheet: the header is read without merges
            return None
        return found

    return spans


def first_filled(records: Iterator[Record]) -> Record | None:
    """The first row with any text in it (the header, where a sheet has one)."""
    for number, values in records:
        if any(values):
            return number, values
    return None
