"""The one XLSX writer for every export (registrations, results, the question bank).

Text is always stored as text: a unit name, a question stem or a file name starting with "=" must
never become a formula in the city office's spreadsheet. ``put`` writes every cell of every
workbook the bot makes (no other module writes cells): a string is a string cell, and one that
starts like a formula (``FORMULA_TRIGGERS``, OWASP's list for CSV injection) also carries Excel's
quote prefix, so that it stays text when someone opens the cell and presses Enter. The text itself
is kept unchanged. The bot writes no CSV files. Datetimes are written in the campaign's local time without the
offset (Excel has no timezones); the caller passes aware local times.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

# openpyxl (with numpy behind it) is imported where a workbook is made, not at start-up: the
# bot polls without it, a fifth of a second sooner.
if TYPE_CHECKING:
    from openpyxl import Workbook
    from openpyxl.cell.cell import Cell
    from openpyxl.worksheet.worksheet import Worksheet

HEADER_COLOR = "FFFFFF"
HEADER_BACKGROUND = "1F4E78"
HEADER_RULE = "FF000000"
# The control characters XML 1.0 cannot hold (openpyxl refuses them: its ILLEGAL_CHARACTERS_RE).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
# What makes a spreadsheet read a cell as a formula (OWASP, "CSV Injection").
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def new_workbook() -> Workbook:
    """An empty workbook (no default sheet)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    return book


def put(sheet: Worksheet, row: int, column: int, value: Any) -> Cell:
    """Write one cell; text stays text, whatever it starts with."""
    cell = sheet.cell(row=row, column=column)
    if isinstance(value, dt.datetime):
        cell.value = value.replace(tzinfo=None)
        cell.number_format = DATETIME_FORMAT
    elif isinstance(value, dt.date):
        cell.value = value
        cell.number_format = DATE_FORMAT
    elif isinstance(value, str):
        text = ILLEGAL_CHARACTERS_RE.sub("", value)
        cell.value = text
        cell.data_type = "s"  # openpyxl took a leading "=" for a formula
        if text.startswith(FORMULA_TRIGGERS):
            cell.quotePrefix = True
    else:
        cell.value = value
    return cell


def add_sheet(
    book: Workbook, title: str, headers: Sequence[str], widths: Sequence[int]
) -> Worksheet:
    """A sheet with a styled, frozen header row and the given column widths."""
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    font = Font(bold=True, color=HEADER_COLOR)
    fill = PatternFill("solid", fgColor=HEADER_BACKGROUND)
    border = Border(bottom=Side(style="thin", color=HEADER_RULE))
    sheet = book.create_sheet(title)
    for column, (header, width) in enumerate(zip(headers, widths, strict=True), start=1):
        cell = put(sheet, 1, column, header)
        cell.font = font
        cell.fill = fill
        cell.border = border
        cell.alignment = Alignment(horizontal="center", vertical="center")
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    return sheet


def wrap(cell: Cell) -> None:
    """Let the cell's text wrap, from the top of the cell."""
    from openpyxl.styles import Alignment

    cell.alignment = Alignment(wrap_text=True, vertical="top")


def put_rows(sheet: Worksheet, rows: Sequence[Sequence[Any]]) -> None:
    """Write data rows under the header and switch on the filter."""
    for r, values in enumerate(rows, start=2):
        for c, value in enumerate(values, start=1):
            put(sheet, r, c, value)
    if rows:
        sheet.auto_filter.ref = sheet.dimensions


def save(book: Workbook, path_or_buffer: str | os.PathLike[str] | IO[bytes]) -> int:
    """Write the workbook to a file path or a binary buffer; return its size in bytes."""
    buffer = io.BytesIO()
    book.save(buffer)
    data = buffer.getvalue()
    if isinstance(path_or_buffer, str | os.PathLike):
        with open(path_or_buffer, "wb") as handle:
            handle.write(data)
    else:
        path_or_buffer.write(data)
    return len(data)
