"""A small demo unit tree and roster for the offline sandbox (never loaded into real data), and
the demo's files: a question bank to send with ``/upload``, a roster with a title row and a
two-row header and the first zone round's results to read with ``/import``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl.worksheet.worksheet import Worksheet
from sqlmodel import select

from bot.bank.questions import HEADER, LETTERS, MULTIPLE, SHEET_NAME, SINGLE, TYPE_LABELS
from bot.context import AppContext
from bot.core import words, xlsx
from bot.core.config import Config
from bot.core.tabular import ImportRequest
from bot.core.uow import Origin
from bot.org.models import Unit
from bot.org.units_import import import_units
from bot.roster.roster_import import import_roster

DEMO = Path(__file__).with_name("demo.toml")
FIRST_UNIT = "LY"  # the demo is loaded when this unit is there


@dataclass(frozen=True)
class DemoLoaded:
    units: int
    learners: int


def _demo() -> dict[str, Any]:
    return words.load(DEMO)


def load_demo(ctx: AppContext) -> DemoLoaded | None:
    """Load the demo data once; None when it is already there."""
    with ctx.unit_of_work(Origin.cli("sandbox")) as uow:
        if uow.session.exec(select(Unit).where(Unit.code == FIRST_UNIT)).first() is not None:
            return None
        data = _demo()
        units = import_units(uow, ImportRequest(data["units"]))
        roster = import_roster(uow, ImportRequest(data["roster"]))
    return DemoLoaded(units=units.created, learners=roster.created)


# --- the demo's files -----------------------------------------------------------------------


def write_demo_files(config: Config, out_dir: Path) -> list[Path]:
    """Write the demo's files into ``out_dir`` (again each time: they are examples, not data);
    the paths, in the order the walk-through uses them."""
    files = _demo()["files"]
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, write in (("questions", _questions), ("roster", _roster), ("results", _results)):
        spec = files[name]
        book = xlsx.new_workbook()
        write(book, spec, config)
        path = out_dir / spec["name"]
        xlsx.save(book, path)
        written.append(path)
    return written


def _questions(book: Any, spec: dict[str, Any], config: Config) -> None:
    """The template's sheet filled in: the owed number of each type, valid and distinct."""
    owed = config.question_submission
    sheet = book.create_sheet(SHEET_NAME)
    rows: list[list[Any]] = [list(HEADER)]
    for kind, count, stem, key in (
        (SINGLE, owed.single_choice, spec["single_stem"], spec["single_key"]),
        (MULTIPLE, owed.multiple_choice, spec["multiple_stem"], spec["multiple_key"]),
    ):
        options = [*spec["options"], *([""] * (len(LETTERS) - len(spec["options"])))]
        for n in range(1, count + 1):
            rows.append([TYPE_LABELS[kind], stem.format(n=n), *options, key, spec["law"]])
    _put(sheet, rows)


def _roster(book: Any, spec: dict[str, Any], config: Config) -> None:
    """A title row merged across the columns, a heading merged over its blank neighbours (学分
    over 必修 / 总), then the learners."""
    sheet = book.create_sheet(spec["title"][:31])
    header = spec["header"]
    _put(sheet, [[spec["title"]], header, spec["subheader"], *spec["rows"]])
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    column = 0
    while column < len(header):
        last = column
        while last + 1 < len(header) and not header[last + 1]:
            last += 1
        if last > column:
            sheet.merge_cells(start_row=2, start_column=column + 1, end_row=2, end_column=last + 1)
        column = last + 1


def _results(book: Any, spec: dict[str, Any], config: Config) -> None:
    sheet = book.create_sheet(spec["name"].rsplit(".", 1)[0][:31])
    _put(sheet, [spec["header"], *spec["rows"]])


def _put(sheet: Worksheet, rows: list[list[Any]]) -> None:
    for r, values in enumerate(rows, start=1):
        for c, value in enumerate(values, start=1):
            if value != "":
                xlsx.put(sheet, r, c, value)
