"""Checking a table's rows and reporting on the import: each importer checks its rows with a
``RowCheck`` and collects every problem, as a code with parameters, in one ``RowErrors``; the
``ImportReport`` says what was written. The words are the templates'."""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.core.config import Config
from bot.core.render import render
from bot.core.tabular.progress import CHECK, Progress, counted
from bot.core.tabular.reading import ROW_KEY, TableRows
from bot.core.tabular.tables import Header, Table, YesNo, parse_number

MAX_RENDERED_ERRORS = 50

Row = Mapping[str, str]


# --- row errors -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    """One problem in one row: its row in the file (as the spreadsheet numbers it; 0 for the file
    as a whole),
    the column key ("" for the whole row), a message code and its parameters."""

    row: int
    field: str
    code: str
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    label: str = ""  # the column's name in the error line ("" names none)
    table: str = ""  # whose template writes the codes the pipeline does not know

    @property
    def message(self) -> str:
        return render("import_message", e=self, c=None)

    def render(self, c: Config | None = None) -> str:
        """The error line, "第 4 行 登录账号：不能为空" (``c``: the config, for round names)."""
        return render("row_error", e=self, c=c)


class RowErrors:
    """Every row error found in one file, for one table."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.items: list[RowError] = []

    def add(self, row: int, key: str, code: str, /, **params: Any) -> None:
        label = self.table.label(key) if self.table.label_errors else ""
        self.items.append(RowError(row, key, code, params, label, self.table.kind))

    def __len__(self) -> int:
        return len(self.items)

    def sorted(self) -> list[RowError]:
        return sorted(self.items, key=lambda e: e.row)

    def rows(self, rows: Sequence[Row], progress: Progress | None = None) -> Iterator[RowCheck]:
        """Each row, to be checked, with its number in the file (rows without ``ROW_KEY``,
        such as the sandbox's demo data, count from row 2); ``progress`` is told how many have
        been checked."""
        if isinstance(rows, TableRows):
            numbered: Iterable[tuple[int, Row]] = rows.numbered()
        else:
            numbered = ((_number(cells, index), cells) for index, cells in enumerate(rows))
        for number, cells in counted(numbered, progress, CHECK, len(rows)):
            yield RowCheck(self, number, cells)


def _number(cells: Row, index: int) -> int:
    """A row's number in the file (``ROW_KEY``), or the one it would have below a header."""
    try:
        return int(cells.get(ROW_KEY) or index + 2)
    except ValueError:
        return index + 2


CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})  # refused in text cells


class RowCheck:
    """One row being checked: its cells, its number in the file and the errors found in it."""

    def __init__(self, errors: RowErrors, number: int, cells: Row) -> None:
        self.errors = errors
        self.number = number
        self.cells = cells
        self._before = len(errors)

    @property
    def ok(self) -> bool:
        """No error found in this row (so far)."""
        return len(self.errors) == self._before

    def has(self, key: str) -> bool:
        """Whether the file has the column at all (an absent column keeps current values)."""
        return key in self.cells

    def get(self, key: str) -> str:
        value = self.cells.get(key)
        if type(value) is str:
            return value.strip()
        return "" if value is None else str(value).strip()

    def error(self, key: str, code: str, /, **params: Any) -> None:
        self.errors.add(self.number, key, code, **params)

    def text(self, key: str, *, required: bool = False) -> bool:
        """A text cell: not empty when required, no control characters, within the column's
        length limit. False (and an error) when it fails."""
        value = self.get(key)
        limit = self.errors.table.columns[key].max
        if not value:
            if required:
                self.error(key, "empty")
            return not required
        # isprintable() is False for every character of those categories (and for some
        # spaces): only such a cell needs the exact, slower look.
        if not value.isprintable() and any(
            unicodedata.category(ch) in CONTROL_CATEGORIES for ch in value
        ):
            self.error(key, "control")
            return False
        if limit is not None and len(value) > limit:
            self.error(key, "too_long", length=len(value), max=limit)
            return False
        return True

    def flag(self, key: str, words: YesNo) -> bool | None:
        """A filled yes-no cell; None (and an error) when its word is unknown."""
        text = self.get(key)
        value = words.read(text)
        if value is None:
            self.error(key, "bool_unknown", value=text)
        return value

    def amount(self, key: str) -> float | None:
        """A filled cell holding a number ≥ 0 ("1,5" is 15); None (and an error) otherwise."""
        text = self.get(key)
        number = parse_number(text, grouping=True)
        if number is None:
            self.error(key, "not_number", value=text)
        elif not math.isfinite(number):
            self.error(key, "not_finite", value=text)
        elif number < 0:
            self.error(key, "negative", value=text)
        else:
            return number
        return None


# --- the import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportRequest:
    """A units, roster or results import: the rows read from a file (``read_table``), whether
    bad rows are skipped (else any bad row refuses the whole file), the file's name, and who is
    told how far the import has come (the command line's progress line; None: nobody)."""

    rows: Sequence[Row]
    skip_bad: bool = False
    source: str = ""
    progress: Progress | None = dataclasses.field(default=None, compare=False, repr=False)

    @property
    def header(self) -> Header | None:
        """Where ``read_table`` found the rows' header (None for rows from elsewhere)."""
        header = getattr(self.rows, "header", None)
        return header if isinstance(header, Header) else None


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    errors: list[RowError] = dataclasses.field(default_factory=list)
    written: bool = False
    unchanged: int = 0  # of ``updated``: matched records whose values were already the same
    transferred: int = 0  # roster: learners whose unit changed
    moved: int = 0  # units: units given a new parent
    exempt_set: int = 0  # roster: learners the file shows exempt who were not (new ones too)
    exempt_cleared: int = 0  # roster: learners exempt before whom the file shows not exempt
    exempt_unfiled: int | None = None
    """Roster: learners exempt on the platform with no exemption on file in the bot, after the
    import (None: not counted)."""
    header: Header | None = dataclasses.field(default=None, repr=False, compare=False)
    """Where the file's header was found (the summary says which row it read)."""
    config: Config | None = dataclasses.field(default=None, repr=False, compare=False)
    """The campaign the rows were checked against (error messages name its rounds)."""

    @property
    def bad_rows(self) -> list[int]:
        return sorted({e.row for e in self.errors})

    @property
    def skipped(self) -> int:
        return len(self.bad_rows)

    def counts(self) -> dict[str, int]:
        """The figures every import's audit row records."""
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": self.skipped,
        }

    def render(self) -> str:
        """The report as plain text (``import_report.j2``)."""
        return render("import_report", r=self, c=self.config, limit=MAX_RENDERED_ERRORS)
