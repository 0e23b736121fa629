"""The question bank's spreadsheets: the XLSX template departments fill in, and the merged bank
the city office hands to the exam's compiler.

Written with the one XLSX writer (``bot.core.xlsx``), so text stays text. The words come from
templates (the instruction sheet: ``bank_instructions.j2``), from ``words.toml`` (sheet names,
headers, labels) and from the question file's own layout (``bot.bank.questions``).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl is imported where a workbook is made (bot.core.xlsx)
    from openpyxl import Workbook

from bot.bank.questions import (
    HEADER,
    HELP_SHEET_NAME,
    LETTERS,
    MAX_FILE_BYTES,
    MULTIPLE,
    SHEET_NAME,
    SINGLE,
    TYPE_LABELS,
)
from bot.bank.service import (
    DepartmentStatus,
    MergedDepartment,
    current_questions,
    status,
)
from bot.bank.words import words
from bot.core import xlsx
from bot.core.config import Config
from bot.core.render import render, strip_html
from bot.core.uow import UnitOfWork
from bot.org.access import city_or_operator

# Column widths, in the order of HEADER: type, stem, the options, key, law.
QUESTION_WIDTHS = (8, 50, *(22 for _ in LETTERS), 10, 24)
INSTRUCTION_WIDTH = 110
SPARE_ROWS = 200  # rows below the owed questions where the type list still applies
MERGED_WIDTHS = (6, 20, *QUESTION_WIDTHS, 6)  # number, department, HEADER, late
REPORT_WIDTHS = (20, 40, 10, 18, 30, 10)


@dataclass(frozen=True)
class ExportSummary:
    """What the merged export wrote: the number of questions and every department's state."""

    path: Path
    questions: int
    departments: list[DepartmentStatus]

    @property
    def missing(self) -> list[str]:
        return [d.department for d in self.departments if d.state == "missing"]

    @property
    def late(self) -> list[str]:
        return [d.department for d in self.departments if d.state == "late"]

    @property
    def contributors(self) -> int:
        return len(self.departments) - len(self.missing)


# --- the template -----------------------------------------------------------------------------


def template_bytes(config: Config) -> bytes:
    """The XLSX template: a question sheet with the header row (and the type column pre-filled
    with the owed number of each type), and a sheet of instructions."""
    qs = config.question_submission
    book = xlsx.new_workbook()
    sheet = xlsx.add_sheet(book, SHEET_NAME, HEADER, QUESTION_WIDTHS)
    owed = [TYPE_LABELS[SINGLE]] * qs.single_choice + [TYPE_LABELS[MULTIPLE]] * qs.multiple_choice
    for row, label in enumerate(owed, start=2):
        xlsx.put(sheet, row, 1, label)
    choices = ",".join(TYPE_LABELS[kind] for kind in (SINGLE, MULTIPLE))
    from openpyxl.worksheet.datavalidation import DataValidation

    types = DataValidation(type="list", formula1=f'"{choices}"', allow_blank=True)
    types.add(f"A2:A{qs.total + SPARE_ROWS}")
    sheet.add_data_validation(types)

    title, *lines = instructions(config)
    help_sheet = xlsx.add_sheet(book, HELP_SHEET_NAME, [title], [INSTRUCTION_WIDTH])
    for row, line in enumerate(lines, start=2):
        xlsx.put(help_sheet, row, 1, line)
    buffer = io.BytesIO()
    xlsx.save(book, buffer)
    return buffer.getvalue()


def instructions(config: Config) -> list[str]:
    """The instruction sheet's lines (``bank_instructions.j2``, as plain text)."""
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


def template_file(uow: UnitOfWork) -> bytes:
    """The template for a bound administrator (/template): any binding will do, since the
    instructions name the departments and anyone may pass it on."""
    uow.authorize()
    return template_bytes(uow.config)


# --- the merged bank --------------------------------------------------------------------------


def export(uow: UnitOfWork, path: str | Path) -> ExportSummary:
    """Write the merged bank (current submissions, in the config's order) and a sheet with
    every department's state (the city office, or the operator on the command line)."""
    city_or_operator(uow)
    merged = current_questions(uow)
    departments = status(uow)
    book = xlsx.new_workbook()
    count = _merged_sheet(book, merged)
    _report_sheet(book, departments, uow.config)
    xlsx.save(book, Path(path))
    return ExportSummary(Path(path), count, departments)


def _merged_sheet(book: Workbook, merged: list[MergedDepartment]) -> int:
    """The question sheet: every current question, numbered; returns how many."""
    names = words().merged
    headers = [names.number, names.department, *HEADER, names.late]
    rows: list[list[object]] = []
    for dept in merged:
        for question in dept.questions:
            options = question["options"]
            rows.append(
                [
                    len(rows) + 1,
                    dept.department,
                    TYPE_LABELS[question["kind"]],
                    question["stem"],
                    *(options.get(letter, "") for letter in LETTERS),
                    question["key"],
                    question["law"],
                    names.late_mark if dept.late else "",
                ]
            )
    xlsx.put_rows(xlsx.add_sheet(book, names.sheet, headers, MERGED_WIDTHS), rows)
    return len(rows)


def _report_sheet(book: Workbook, departments: list[DepartmentStatus], config: Config) -> None:
    """Every department's state, with its current file and how many versions it sent."""
    vocabulary = words()
    rows = [
        [
            item.department,
            item.topic,
            vocabulary.states[item.state],
            item.submitted_at.astimezone(config.tz) if item.submitted_at else "",
            item.file_name,
            item.versions,
        ]
        for item in departments
    ]
    report = vocabulary.report
    xlsx.put_rows(xlsx.add_sheet(book, report.sheet, report.headers, REPORT_WIDTHS), rows)
