"""What a kind of table file holds (``tabular.toml``): its columns, their labels and header
aliases; how headers and vocabulary words compare; and a header row mapped onto a table's
columns (finding that row in a file is ``reading``'s)."""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property, lru_cache
from pathlib import Path
from typing import Any

from bot.core.tabular.files import ImportFileError

TABLES_FILE = Path(__file__).parents[1] / "tabular.toml"


# --- words ------------------------------------------------------------------------------------

FOLD_NOISE = re.compile(r"[\s*:_\-()·]+")


@lru_cache(maxsize=8192)  # a city's file repeats its few yes-no and round words 150,000 times
def fold(text: str) -> str:
    """How headers and vocabulary words compare: width- and case-folded, without spaces and
    the marks people add around them, so "* 登录账号：", "Unit Code" and "unit_code" are their
    plain forms."""
    return FOLD_NOISE.sub("", unicodedata.normalize("NFKC", text).lower())


def vocabulary(groups: Mapping[str, Iterable[str]]) -> dict[str, str]:
    """A word list from a data file ({value: [words]}) as a lookup of folded word -> value;
    each value's own key is one of its words."""
    return {fold(word): value for value, words in groups.items() for word in (value, *words)}


def load_data(path: Path) -> dict[str, Any]:
    """A data file (TOML) next to the code."""
    with path.open("rb") as handle:
        return tomllib.load(handle)


@dataclass(frozen=True)
class YesNo:
    """The words read as yes and as no in a yes-no column (folded)."""

    true: frozenset[str]
    false: frozenset[str]

    @classmethod
    def with_words(cls, true: Iterable[str] = (), false: Iterable[str] = ()) -> YesNo:
        """The pipeline's yes/no words (``[bool]`` in ``tabular.toml``) and a column's own."""
        common = load_data(TABLES_FILE)["bool"]
        return cls(
            frozenset(fold(w) for w in (*common["true"], *true)),
            frozenset(fold(w) for w in (*common["false"], *false)),
        )

    def read(self, text: str) -> bool | None:
        word = fold(text)
        if word in self.true:
            return True
        if word in self.false:
            return False
        return None


def parse_number(text: str, *, grouping: bool = False) -> float | None:
    """A cell as a number (full-width digits read; with ``grouping``, "1,234" too); None when
    it is not one. Infinity and NaN come back as such for the caller to refuse."""
    # NFKC leaves ASCII as it is: only other text (full-width digits) needs the look.
    normalized = (text if text.isascii() else unicodedata.normalize("NFKC", text)).strip()
    if grouping:
        normalized = normalized.replace(",", "")
    try:
        return float(normalized)
    except ValueError:
        return None


# --- tables -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """One column of a table: its key, its name in messages and the headers read as it."""

    key: str
    label: str
    aliases: tuple[str, ...]
    max: int | None = None  # the longest text accepted, in characters


@dataclass(frozen=True)
class Table:
    """What a kind of file holds (a section of ``tabular.toml``): its columns in order, the ones
    a file must have, and whether error lines name their column."""

    kind: str
    columns: Mapping[str, Column]
    required: tuple[str, ...]
    label_errors: bool = True

    def label(self, key: str) -> str:
        column = self.columns.get(key)
        return column.label if column is not None else ""

    @cached_property
    def lookup(self) -> dict[str, str]:
        """Folded header text -> column key."""
        return {fold(alias): c.key for c in self.columns.values() for alias in c.aliases}


@cache
def table(kind: str) -> Table:
    """The table ``kind`` ("units", "roster", "results", "questions") from ``tabular.toml``."""
    spec = load_data(TABLES_FILE)[kind]
    columns = {
        key: Column(key, c["label"], tuple(c["aliases"]), c.get("max"))
        for key, c in spec["columns"].items()
    }
    return Table(kind, columns, tuple(spec["required"]), spec.get("label_errors", True))


# --- the header -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """A header row mapped onto a table's columns; or two rows, a heading row over the column
    names (a two-row header as WPS and Excel users merge them), read as one."""

    table: Table
    row: int  # its (first) row in the file
    columns: dict[str, int]  # column key -> index of its first column in the file
    duplicates: list[tuple[str, str, str]]  # (key, first header text, repeated header text)
    depth: int = 1  # rows the header takes; the data start below its last row

    @property
    def last(self) -> int:
        """Its last row in the file."""
        return self.row + self.depth - 1

    @property
    def labels(self) -> list[str]:
        """The names of the columns read, in the file's order."""
        return [self.table.label(k) for k in sorted(self.columns, key=self.columns.__getitem__)]

    @property
    def missing(self) -> list[str]:
        return [key for key in self.table.required if key not in self.columns]

    def require(self) -> None:
        """Refuse a header that names a column twice or lacks a required one."""
        if self.duplicates:
            key, first, second = self.duplicates[0]
            label = self.table.label(key)
            raise ImportFileError("header_duplicate", first=first, second=second, label=label)
        if self.missing:
            wanted = [(self.table.label(key), key) for key in self.missing]
            raise ImportFileError("columns_missing", columns=wanted)

    def cells(self, values: Sequence[str]) -> dict[str, str]:
        """A row's cells by column key (extra columns such as 序号 or 备注 are left out)."""
        return {key: (values[i] if i < len(values) else "") for key, i in self.columns.items()}


def read_header(table: Table, row: int, values: Sequence[str], depth: int = 1) -> Header:
    """A header row (its number and texts) mapped onto ``table``. A column named twice is kept
    as a duplicate: ``read_table`` refuses it, the question bank reads the first."""
    columns: dict[str, int] = {}
    duplicates: list[tuple[str, str, str]] = []
    for index, text in enumerate(values):
        key = table.lookup.get(fold(text))
        if key is None:
            continue
        if key in columns:
            duplicates.append((key, values[columns[key]], text))
        else:
            columns[key] = index
    return Header(table, row, columns, duplicates, depth)
