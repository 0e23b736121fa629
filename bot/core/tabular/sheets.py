"""A file's sheets: a CSV file is one sheet; an XLSX workbook's container is checked (no macros,
zip bombs or XML entities) before a reader parses it, then its worksheets are read.

XLSX is read by python-calamine (Rust's calamine: a city's 150,000-row roster in about two
seconds, where openpyxl's read-only mode takes most of a minute parsing the XML in Python);
openpyxl, which writes the bot's own workbooks, reads them where python-calamine is not
installed. Both give the same rows: numbered from the sheet's first row, each from column A,
with the merged ranges a two-row header needs.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import IO, Any

from bot.core.tabular.files import (
    MAX_UNCOMPRESSED_BYTES,
    ImportFileError,
    Sheet,
    Span,
    csv_lines,
    decode_csv,
    stripped,
)

MAX_ZIP_MEMBERS = 10_000
MERGE_CELL_TAG = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}mergeCell"


@contextmanager
def open_sheets(
    data: bytes, suffix: str, *, max_uncompressed: int = MAX_UNCOMPRESSED_BYTES
) -> Iterator[list[Sheet]]:
    """The sheets of a CSV or XLSX file held in memory; an XLSX container is checked before
    anything parses it, and the workbook is closed when the block ends."""
    if suffix == ".csv":
        text = decode_csv(data)
        yield [
            Sheet(
                "CSV",
                lambda: csv.reader(csv_lines(text)),
                text=stripped,
                size=lambda: text.count("\n") + 1,
            )
        ]
        return
    check_xlsx_container(io.BytesIO(data), max_uncompressed)
    opener = _calamine_sheets if _has_calamine() else _openpyxl_sheets
    with opener(data) as sheets:
        if not sheets:
            raise ImportFileError("xlsx_no_sheet")
        yield sheets


def check_xlsx_container(
    source: str | Path | IO[bytes], max_uncompressed: int = MAX_UNCOMPRESSED_BYTES
) -> None:
    """Refuse macros, zip bombs and XML entity tricks before a reader parses anything.

    ``source`` is a path or a binary file object (an upload held in memory).
    ``zipfile`` never inflates a member past the size its directory entry declares (it stops
    and reports a CRC error), so the declared sizes checked here bound what a reader inflates
    (calamine inflates through the same directory).
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
        while chunk := stream.read(1 << 20):
            window = (tail + chunk).upper()
            if b"<!DOCTYPE" in window or b"<!ENTITY" in window:
                return True
            tail = chunk[-16:]
    return False


# --- python-calamine --------------------------------------------------------------------------


@cache
def _has_calamine() -> bool:
    try:
        import python_calamine  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def _calamine_sheets(data: bytes) -> Iterator[list[Sheet]]:
    from python_calamine import CalamineWorkbook, SheetTypeEnum

    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        names = [m.name for m in workbook.sheets_metadata if m.typ == SheetTypeEnum.WorkSheet]
    except Exception as exc:  # calamine raises its own kinds (and ValueError) for a broken file
        raise ImportFileError("xlsx_invalid", reason=type(exc).__name__) from None
    try:
        yield [_calamine_sheet(workbook, name) for name in names]
    finally:
        workbook.close()


def _calamine_sheet(workbook: Any, name: str) -> Sheet:
    """A worksheet, parsed when its rows or merged ranges are first asked for."""

    @cache
    def parsed() -> Any:
        return workbook.get_sheet_by_name(name)

    def rows() -> Iterable[Sequence[object]]:
        # calamine's rows start at the sheet's first row but at its first filled column:
        # put back the empty columns to the left, so that column indexes are the file's.
        sheet = parsed()
        start = sheet.start
        pad = [""] * start[1] if start else []
        if not pad:
            return sheet.iter_rows()
        return (pad + row for row in sheet.iter_rows())

    def merged() -> list[Span] | None:
        ranges = parsed().merged_cell_ranges
        if ranges is None:
            return None
        return [(c0 + 1, r0 + 1, c1 + 1, r1 + 1) for (r0, c0), (r1, c1) in ranges]

    def size() -> int | None:
        end = parsed().end
        return end[0] + 1 if end else 0

    return Sheet(name, rows, merged, size=size)


# --- openpyxl (where python-calamine is missing) ----------------------------------------------


@contextmanager
def _openpyxl_sheets(data: bytes) -> Iterator[list[Sheet]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a broken file
        raise ImportFileError("xlsx_invalid", reason=type(exc).__name__) from None
    try:
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
