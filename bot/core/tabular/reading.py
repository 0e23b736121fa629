"""Reading a units, roster or results file into rows keyed by column, wherever its header is.

Files come as people export them from WPS or Excel: a title row above the header ("2022年衡阳市
XX单位学员名单", merged across the columns), blank rows, or a two-row header whose top row
heads groups of columns ("学分" over "必修" and "总"). The header is the first of the sheet's
first ``HEADER_SCAN_ROWS`` rows that names every required column, alone or read together with
the row below it:

* a two-row header is taken only when the two rows read together name more columns than either
  row alone (so a title row over a header, or a header over its first data row, stay apart);
* read together, a column is named by its lower cell; by the upper cell where the lower one is
  blank (the name merged down over both rows); or by the upper and lower cells joined, either
  way round ("必修" under "学分" is 必修学分). A heading merged across columns counts for every
  column it spans: an XLSX file says which cells are merged; in a CSV file (which cannot) a
  blank upper cell continues the heading on its left.

A file with no such row is refused with the rows looked at, the columns found in the closest
row and the required ones missing from it. Each row keeps its number in the file, so every
later error names the row the spreadsheet shows.
"""

from __future__ import annotations

import itertools
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from pathlib import Path
from typing import Any, overload

from bot.core.tabular.files import (
    MAX_FILE_BYTES,
    ImportFileError,
    Record,
    Sheet,
    Span,
    check_file_name,
    check_file_size,
)
from bot.core.tabular.progress import READ, Progress, counted
from bot.core.tabular.sheets import open_sheets
from bot.core.tabular.tables import Header, Table, fold, read_header, table

MAX_ROWS = 200_000  # config [imports] max_rows gives the command line's; this is the default
MAX_INFLATED_BYTES = 200 * 1024 * 1024  # [imports] max_inflated_mb: an XLSX's unzipped size
HEADER_SCAN_ROWS = 10
"""A header must start within the sheet's first rows (title rows and blank rows above it)."""
ROW_KEY = "_row"
"""Each row from ``read_table`` carries its row number in the file under this key."""
SHARED_VALUES = 4096
"""A column's cells share one string per distinct value while it has no more distinct values
than this (是/否, credits, unit codes): a city's file keeps one "是", not 150,000."""


class TableRow(Mapping[str, str]):
    """One row ``read_table`` read: its cells by column key, and its row number in the file
    under ``ROW_KEY``. A view over the compact tuple ``TableRows`` keeps."""

    __slots__ = ("_index", "_values", "number")

    def __init__(self, index: Mapping[str, int], values: Sequence[str], number: int) -> None:
        self._index = index
        self._values = values
        self.number = number

    def get(self, key: str, default: Any = None) -> Any:
        i = self._index.get(key)
        if i is None:
            return str(self.number) if key == ROW_KEY else default
        return self._values[i]

    def __getitem__(self, key: str) -> str:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value

    def __contains__(self, key: object) -> bool:
        return key in self._index or key == ROW_KEY

    def __iter__(self) -> Iterator[str]:
        yield from self._index
        yield ROW_KEY

    def __len__(self) -> int:
        return len(self._index) + 1

    def __repr__(self) -> str:
        return repr(dict(self))


class TableRows(Sequence[TableRow]):
    """The rows ``read_table`` read, and where it found them: the header (its row or rows, and
    the columns it names) and the sheet's title. Each row is kept as one tuple of its cells, in
    the header's column order, with its row number beside it in an array: a city's roster in
    about a third of the memory of a dict per row."""

    def __init__(self, header: Header, sheet: str) -> None:
        self.header = header
        self.sheet = sheet
        self.keys = tuple(header.columns)
        self._index = {key: i for i, key in enumerate(self.keys)}
        self._values: list[tuple[str, ...]] = []
        self._numbers = array("q")

    def append(self, number: int, values: tuple[str, ...]) -> None:
        self._numbers.append(number)
        self._values.append(values)

    def __len__(self) -> int:
        return len(self._values)

    @overload
    def __getitem__(self, i: int) -> TableRow: ...
    @overload
    def __getitem__(self, i: slice) -> list[TableRow]: ...
    def __getitem__(self, i: int | slice) -> TableRow | list[TableRow]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        return TableRow(self._index, self._values[i], self._numbers[i])

    def __iter__(self) -> Iterator[TableRow]:
        index = self._index
        return map(lambda values, number: TableRow(index, values, number), self._values,
                   self._numbers)  # fmt: skip

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]

    def numbered(self) -> Iterator[tuple[int, dict[str, str]]]:
        """Each row's number and its cells as a plain dict, made as it is asked for: a row
        checked cell by cell reads a dict fastest, and only one is alive at a time."""
        keys = self.keys
        return zip(
            self._numbers, (dict(zip(keys, v, strict=True)) for v in self._values), strict=True
        )

    def column(self, key: str) -> Iterator[str]:
        """Every row's cell in one column ("" where the file has no such column)."""
        i = self._index.get(key)
        return (v[i] for v in self._values) if i is not None else iter(())


def read_table(
    path: str | Path,
    kind: str | None = None,
    *,
    max_rows: int = MAX_ROWS,
    max_bytes: int = MAX_FILE_BYTES,
    max_inflated: int = MAX_INFLATED_BYTES,
    progress: Progress | None = None,
) -> TableRows:
    """Read a CSV or XLSX file (its first sheet) into rows keyed by column key.

    ``kind`` names the table ("units", "roster" or "results"); left out, a file with an
    account column is a roster and anything else a unit list. Each row also carries its row
    number in the file under ``ROW_KEY``. Raises ``ImportFileError`` for files that can't be
    imported, among them a file over ``max_bytes`` or with more than ``max_rows`` rows.
    ``progress`` is told how many of the sheet's rows have been read.
    """
    path = Path(path)
    if not path.is_file():
        raise ImportFileError("file_missing", path=str(path))
    suffix = check_file_name(path.name)
    check_file_size(path.stat().st_size, max_bytes)
    with open_sheets(path.read_bytes(), suffix, max_uncompressed=max_inflated) as sheets:
        return _table_rows(sheets[0], kind, max_rows, progress)


def _table_rows(
    sheet: Sheet, kind: str | None, max_rows: int, progress: Progress | None = None
) -> TableRows:
    records = sheet.records()
    top = list(itertools.islice(records, HEADER_SCAN_ROWS + 1))
    # Blank at the top: an empty file, or one whose header is too far down (find_header
    # refuses that below, so reading on here loses nothing).
    blank_top = not any(any(values) for _number, values in top)
    if blank_top and not any(any(values) for _number, values in records):
        raise ImportFileError("no_header")
    kind = kind or guess_kind(values for _number, values in top)
    header = find_header(table(kind), top, sheet.merged)
    header.require()
    rows = TableRows(header, sheet.title)
    below = itertools.chain(top, records)
    total = sheet.size() if progress is not None else None
    _fill(rows, header, counted(below, progress, READ, total), max_rows)
    if not rows:
        raise ImportFileError("header_only", row=header.last)
    return rows


def _fill(rows: TableRows, header: Header, records: Iterable[Record], max_rows: int) -> None:
    """The data rows below the header, as compact tuples (blank rows left out); a column's
    repeated values share one string (``SHARED_VALUES``)."""
    positions = list(header.columns.values())
    width = max(positions) + 1
    pick: Callable[[list[str]], tuple[str, ...]] = (
        itemgetter(*positions) if len(positions) > 1 else lambda v: (v[positions[0]],)
    )
    shared = _Shared(len(positions))
    last = header.last
    for number, values in records:
        if number <= last:
            continue
        if len(values) < width:
            values = values + [""] * (width - len(values))
        cells = pick(values)
        if not any(cells):  # blank in every column read (a 序号 alone is no row)
            continue
        if len(rows) >= max_rows:
            raise ImportFileError("too_many_rows", max=max_rows)
        rows.append(number, shared(cells))


class _Shared:
    """Repeated values of a column as one string: each column keeps a table of its values
    until it has more than ``SHARED_VALUES`` of them (accounts, names), when it stops."""

    CHECK_EVERY = 1024  # rows between two looks at the tables' sizes

    def __init__(self, width: int) -> None:
        self.columns: list[tuple[int, dict[str, str]]] = [(i, {}) for i in range(width)]
        self.seen = 0

    def __call__(self, cells: tuple[str, ...]) -> tuple[str, ...]:
        self.seen += 1
        if self.seen % self.CHECK_EVERY == 0:
            self.columns = [(i, v) for i, v in self.columns if len(v) <= SHARED_VALUES]
        if not self.columns:
            return cells
        out = list(cells)
        for i, values in self.columns:
            value = out[i]
            out[i] = values.setdefault(value, value)
        return tuple(out)


def guess_kind(rows: Iterable[Sequence[str]]) -> str:
    """Rows with an account column among them are a roster's header; anything else a unit
    list's."""
    lookup = table("roster").lookup
    return "roster" if any(lookup.get(fold(h)) == "account" for r in rows for h in r) else "units"


# --- finding the header -----------------------------------------------------------------------


def find_header(
    table: Table, top: Sequence[Record], merged: Callable[[], list[Span] | None] | None = None
) -> Header:
    """The header among a sheet's first rows (``top``: the first ``HEADER_SCAN_ROWS`` rows, and
    the one below them for a two-row header starting on the last); ``merged`` gives the sheet's
    merged ranges, read only if a heading must be spread. Refuses the file, naming the rows
    looked at, when none qualifies."""
    spans: list[list[Span] | None] = []  # read once, when first needed

    def sheet_spans() -> list[Span] | None:
        if not spans:
            spans.append(merged() if merged is not None else None)
        return spans[0]

    singles = [read_header(table, number, values) for number, values in top]
    candidates: list[Header] = []
    for index, single in enumerate(singles[:HEADER_SCAN_ROWS]):
        below = singles[index + 1] if index + 1 < len(singles) else None
        if below is not None and any(top[index][1]) and any(top[index + 1][1]):
            combined = _combine(table, top[index], top[index + 1][1], sheet_spans)
            pair = read_header(table, single.row, combined, depth=2)
            candidates.append(pair)
            wider = len(pair.columns) > max(len(single.columns), len(below.columns))
            if wider and not pair.missing:
                return pair
        candidates.append(single)
        if not single.missing:
            return single
    raise _not_found(table, top, candidates)


def _maps(table: Table, text: str) -> bool:
    return bool(text) and fold(text) in table.lookup


def _combine(
    table: Table,
    upper: Record,
    lower: Sequence[str],
    spans: Callable[[], list[Span] | None],
) -> list[str]:
    """Two header rows as one: per column, the lower cell where it names a column, the upper
    one where the lower is blank, else the two joined where that names a column (a blank
    upper cell under a heading merged across it counts as the heading)."""
    raw = upper[1]
    spread: list[str] | None = None
    combined: list[str] = []
    for i in range(max(len(raw), len(lower))):
        low = lower[i] if i < len(lower) else ""
        head = raw[i] if i < len(raw) else ""
        if not low or _maps(table, low):
            combined.append(low or head)
            continue
        if not head:
            spread = spread if spread is not None else _spread(upper, spans())
            head = spread[i] if i < len(spread) else ""
        joined = [text for text in (head + low, low + head) if head and _maps(table, text)]
        combined.append(joined[0] if joined else low)
    return combined


def _spread(record: Record, spans: list[Span] | None) -> list[str]:
    """A heading row with each heading over every column it spans: by the merged ranges that
    start on its row when the file has them (None: it cannot say), else over the blank cells on
    its right."""
    number, values = record
    cells = list(values)
    if spans is None:
        text = ""
        for i, value in enumerate(cells):
            text = value or text
            cells[i] = text
        return cells
    for first_col, first_row, last_col, _last_row in spans:
        if first_row == number and first_col <= len(cells):
            heading = cells[first_col - 1]
            for column in range(first_col, last_col + 1):
                if column > len(cells):
                    cells.append(heading)
                elif not cells[column - 1]:
                    cells[column - 1] = heading
    return cells


def _not_found(
    table: Table, top: Sequence[Record], candidates: Sequence[Header]
) -> ImportFileError:
    """The refusal: the rows looked at, and the closest candidate's columns found and missing."""
    looked = [number for number, _values in top[:HEADER_SCAN_ROWS]]
    best = max(
        candidates,
        key=lambda h: (len(table.required) - len(h.missing), len(h.columns), -h.depth, -h.row),
        default=None,
    )
    required = [(table.label(k), k) for k in table.required]
    if best is None or not best.columns:
        return ImportFileError(
            "header_not_found", first=looked[0], last=looked[-1], best=None, required=required
        )
    return ImportFileError(
        "header_not_found",
        first=looked[0],
        last=looked[-1],
        best=best.row,
        best_last=best.last,
        found=[(table.label(k), k) for k in sorted(best.columns, key=best.columns.__getitem__)],
        missing=[(table.label(k), k) for k in best.missing],
        required=required,
    )
