"""Whole-file writes (bot.core.bulk): rows staged (COPY on PostgreSQL, executemany on SQLite)
and merged by set-based statements, all or nothing; re-imports update only what changed; the
compact rows and the XLSX readers; the progress the pipeline reports and the command line
prints."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import Workbook
from sqlmodel import func, select

from bot.cli.common import ProgressLine
from bot.core import bulk
from bot.core.audit import AuditLog
from bot.core.tabular import ImportRequest, read_table, sheets
from bot.core.tabular.files import csv_lines
from bot.core.uow import Origin
from bot.org.models import Unit
from bot.results import importer
from bot.results.models import ExamResult
from bot.roster.models import Learner
from bot.roster.roster_import import EXEMPT_ACTION, import_roster
from tests import factories

HEADER = ["登录账号", "姓名", "单位编码", "在职状态", "免考", "必修学分", "总学分"]


def write_csv(path: Path, rows: list[list], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def people(n: int, unit: str = "LY-JY") -> list[list]:
    return [[f"acct{i:05d}", f"学员{i}", unit, "是", "否", "10", "20"] for i in range(n)]


def roster(ctx, path: Path, **kwargs):
    request = ImportRequest(read_table(path, "roster"), source=path.name, **kwargs)
    return ctx.run_sync(lambda uow: import_roster(uow, request), Origin.cli())


def learners(ctx) -> dict[str, Learner]:
    with ctx.db.session() as s:
        return {x.account: x for x in s.exec(select(Learner))}


def unit_id(ctx, code: str) -> int:
    with ctx.db.session() as s:
        return s.exec(select(Unit.id).where(Unit.code == code)).one()


def count(ctx, model, *where) -> int:
    with ctx.db.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


TEMP_TABLES = {
    "sqlite": "SELECT count(*) FROM sqlite_temp_master WHERE name = :name",
    "postgresql": "SELECT count(*) FROM pg_tables WHERE tablename = :name "
    "AND schemaname LIKE 'pg_temp%'",
}


def stage_exists(uow, name: str) -> bool:
    """Whether a stage of that name is still there on the unit of work's connection."""
    query = TEMP_TABLES[uow.session.get_bind().dialect.name]
    return bool(uow.session.execute(sa.text(query), {"name": name}).scalar())


@pytest.fixture
def world(any_ctx):
    factories.tree(any_ctx)  # units LY, LY-JY, LY-JY-1, HD; four learners
    return any_ctx


# --- all or nothing --------------------------------------------------------------------------


def test_a_bad_row_after_thousands_staged_writes_nothing(world, tmp_path):
    """The bad row comes after the first SQLite chunk (and deep into PostgreSQL's COPY): the
    stage already holds thousands of rows, the learners table gets none of them."""
    rows = people(bulk.CHUNK + 500)
    rows[-1][2] = "nowhere"
    before = (count(world, Learner), count(world, AuditLog))
    report = roster(world, write_csv(tmp_path / "r.csv", rows))
    assert not report.written
    assert [(e.row, e.field) for e in report.errors] == [(len(rows) + 1, "unit")]
    assert (count(world, Learner), count(world, AuditLog)) == before


def test_the_stage_is_gone_after_an_import_and_after_a_refusal(world, tmp_path):
    good = write_csv(tmp_path / "good.csv", people(3))
    bad = write_csv(tmp_path / "bad.csv", [["x y", "某", "LY", "", "", "", ""]])
    for path, written in ((good, True), (bad, False)):
        request = ImportRequest(read_table(path, "roster"), source=path.name)

        def work(uow, request=request):
            report = import_roster(uow, request)
            return report.written, stage_exists(uow, "roster_stage")

        assert world.run_sync(work, Origin.cli()) == (written, False)
    assert count(world, Learner) == 4 + 3


def test_skip_bad_stages_only_the_good_rows(world, tmp_path):
    rows = people(4)
    rows[1][0] = "bad account"
    rows[3][5] = "很多"
    report = roster(world, write_csv(tmp_path / "r.csv", rows), skip_bad=True)
    assert report.written and (report.created, report.skipped) == (2, 2)
    assert {"acct00000", "acct00002"} <= set(learners(world))
    assert "acct00003" not in learners(world)


# --- re-import: an upsert that changes only what changed ---------------------------------------


def test_reimport_updates_what_changed_and_keeps_what_the_file_leaves_empty(world, tmp_path):
    first = [
        ["a.same", "甲", "LY-JY", "是", "否", "10", "20"],
        ["a.rename", "乙", "LY-JY", "是", "否", "10", "20"],
        ["a.move", "丙", "LY-JY", "是", "否", "10", "20"],
        ["a.exempt", "丁", "LY-JY", "是", "是", "", ""],
        ["a.blank", "戊", "LY-JY", "否", "是", "5", "8"],
    ]
    report = roster(world, write_csv(tmp_path / "r1.csv", first))
    assert (report.created, report.updated, report.exempt_set) == (5, 0, 2)
    stamped = world.now()

    world.clock.advance(dt.timedelta(hours=1))
    second = [
        ["a.same", "甲", "LY-JY", "是", "否", "10", "20"],  # unchanged
        ["a.rename", "乙二", "LY-JY", "是", "否", "10", "20"],  # renamed
        ["a.move", "丙", "HD", "是", "否", "10", "20"],  # transferred
        ["a.exempt", "丁", "LY-JY", "是", "否", "", ""],  # no longer exempt
        ["a.blank", "戊", "LY-JY", "", "", "", "8"],  # empty flags keep; empty credits clear
        ["a.new", "己", "LY", "", "", "", ""],  # new: in service, not exempt
    ]
    report = roster(world, write_csv(tmp_path / "r2.csv", second))
    assert (report.created, report.updated, report.unchanged) == (1, 5, 1)
    assert (report.transferred, report.exempt_set, report.exempt_cleared) == (1, 0, 1)

    found = learners(world)
    units = {u: unit_id(world, u) for u in ("LY-JY", "HD", "LY")}
    assert found["a.rename"].name == "乙二"
    assert found["a.move"].unit_id == units["HD"]
    assert found["a.exempt"].exempt is False
    blank = found["a.blank"]
    assert (blank.in_service, blank.exempt) == (False, True)
    assert (blank.required_credits, blank.total_credits) == (None, 8.0)
    new = found["a.new"]
    assert (new.in_service, new.exempt, new.unit_id) == (True, False, units["LY"])
    assert found["a.same"].updated_at == stamped  # an unchanged row keeps its stamp
    assert found["a.rename"].updated_at == world.now()
    with world.db.session() as s:
        audits = s.exec(
            select(AuditLog).where(AuditLog.action == EXEMPT_ACTION).order_by(AuditLog.id)
        ).all()
    changes = [(a.target, json.loads(a.detail)) for a in audits]
    assert [(t, d["exempt"], d["was"], d["row"]) for t, d in changes] == [
        ("a.exempt", True, None, 5),
        ("a.blank", True, None, 6),
        ("a.exempt", False, True, 5),
    ]


def test_a_file_without_credits_columns_keeps_the_credits(world, tmp_path):
    roster(world, write_csv(tmp_path / "r1.csv", people(2)))
    short = [["acct00000", "学员0", "LY-JY"], ["acct00001", "新名", "LY-JY"]]
    report = roster(world, write_csv(tmp_path / "r2.csv", short, HEADER[:3]))
    assert (report.updated, report.unchanged) == (2, 1)
    found = learners(world)
    assert (found["acct00001"].name, found["acct00001"].required_credits) == ("新名", 10.0)


def test_results_reimport_replaces_scores_and_keeps_the_unit_unless_named(world, tmp_path):
    def results(text: str):
        path = tmp_path / "results.csv"
        path.write_text(text, encoding="utf-8")
        request = ImportRequest(read_table(path, "results"), source=path.name)
        return world.run_sync(lambda uow: importer.import_results(uow, request), Origin.cli())

    report = results("account,round,score\nly1zhang,zone1,80\nlyjyli,zone1,缺考\n")
    assert (report.created, report.updated) == (2, 0)
    world.clock.advance(dt.timedelta(days=1))
    report = results(
        "account,round,score,unit\nly1zhang,zone1,80,\nlyjyli,zone1,70,HD\nhdzhao,zone1,60,\n"
    )
    assert (report.created, report.updated, report.unchanged) == (1, 2, 1)
    with world.db.session() as s:
        rows = {r.learner_id: r for r in s.exec(select(ExamResult))}
        ids = dict(s.exec(select(Learner.account, Learner.id)).all())
    zhang, li, zhao = rows[ids["ly1zhang"]], rows[ids["lyjyli"]], rows[ids["hdzhao"]]
    assert zhang.imported_at < world.now()  # unchanged: untouched
    assert (li.score, li.absent, li.unit_id) == (70.0, False, unit_id(world, "HD"))
    assert li.imported_at == world.now()
    assert zhao.unit_id == unit_id(world, "HD")  # the roster unit of a new result


# --- reading -----------------------------------------------------------------------------------


def test_rows_share_repeated_values_and_read_as_mappings(tmp_path):
    rows = read_table(write_csv(tmp_path / "r.csv", people(3)), "roster")
    assert rows[0]["in_service"] is rows[2]["in_service"]  # one "是" for the column
    assert dict(rows[1]) == {
        "account": "acct00001",
        "name": "学员1",
        "unit": "LY-JY",
        "in_service": "是",
        "exempt": "否",
        "required_credits": "10",
        "total_credits": "20",
        "_row": "3",
    }
    assert [r["_row"] for r in rows[1:]] == ["3", "4"]


@pytest.mark.parametrize(
    "text", ["a,b\r\nc,d\r\n", "a,b\rc,d\r", 'a,"line\nbreak"\nc,d', "a,b\n\nc,d", ""]
)
def test_csv_lines_read_as_io_would(text):
    assert list(csv.reader(csv_lines(text))) == list(csv.reader(io.StringIO(text, newline="")))


def _offset_workbook(path: Path) -> Path:
    """A title merged over B1:E1, a blank row, the header from column B, an account typed as a
    number, a date and a blank line among the data."""
    book = Workbook()
    sheet = book.active
    sheet["B1"] = "2022年衡阳市学员名单"
    sheet.merge_cells("B1:E1")
    for row in (
        [None, "登录账号", "姓名", "单位编码", "免考"],
        [None, 13377948789, "甲", "LY-JY", True],
        [],
        [None, "b.two", "乙", dt.date(2022, 9, 1), "否"],
    ):
        sheet.append(row)
    book.save(path)
    return path


@pytest.mark.parametrize("reader", ["calamine", "openpyxl"])
def test_both_xlsx_readers_give_the_same_rows(tmp_path, monkeypatch, reader):
    if reader == "openpyxl":
        monkeypatch.setattr(sheets, "_has_calamine", lambda: False)
    rows = read_table(_offset_workbook(tmp_path / "r.xlsx"), "roster")
    assert (rows.header.row, rows.header.columns["account"]) == (2, 1)
    assert [dict(r) for r in rows] == [
        {"account": "13377948789", "name": "甲", "unit": "LY-JY", "exempt": "true", "_row": "3"},
        {"account": "b.two", "name": "乙", "unit": "2022-09-01", "exempt": "否", "_row": "5"},
    ]


# --- progress ----------------------------------------------------------------------------------


def test_the_pipeline_reports_each_step(world, tmp_path):
    heard: list[tuple[str, int, int | None]] = []

    def progress(step, done, total):
        heard.append((step, done, total))

    path = write_csv(tmp_path / "r.csv", people(5))
    rows = read_table(path, "roster", progress=progress)
    request = ImportRequest(rows, source=path.name, progress=progress)
    assert world.run_sync(lambda uow: import_roster(uow, request), Origin.cli()).written
    assert heard == [
        ("read", 0, 7),  # the file's lines, as far as it can tell before reading
        ("read", 6, 6),  # header and five rows
        ("check", 0, 5),
        ("check", 5, 5),
        ("write", 0, 5),
        ("write", 5, 5),
    ]


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_waits_a_moment_then_prints_a_line_every_interval():
    clock, out = Clock(), io.StringIO()
    line = ProgressLine(out, clock=clock, after=2.0, every=10.0)
    for second in range(0, 31):
        clock.now = float(second)
        line("check", second * 1000, 30_000)
    clock.now = 31.0
    line("write", 0, 30_000)  # a new step shows at once
    line.close()
    assert out.getvalue().splitlines() == [
        "逐行检查：2,000 / 30,000 行（6%），每秒 1,000 行，本步还需约 28 秒",
        "逐行检查：12,000 / 30,000 行（40%），每秒 1,000 行，本步还需约 18 秒",
        "逐行检查：22,000 / 30,000 行（73%），每秒 1,000 行，本步还需约 8 秒",
        "写入数据库：共 30,000 行……",
    ]


def test_a_quick_run_prints_nothing_and_a_terminal_line_is_rewritten():
    quick, out = Clock(), io.StringIO()
    line = ProgressLine(out, clock=quick, after=2.0)
    line("read", 100, None)
    quick.now = 1.5
    line("read", 200, None)
    line.close()
    assert out.getvalue() == ""

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    clock, tty = Clock(), Terminal()
    line = ProgressLine(tty, clock=clock, after=0.0)
    assert line.every == 1.0
    for tenth in range(0, 25):
        clock.now = tenth / 10
        line("read", tenth * 100, None)
    line.close()
    line.close()
    shown = tty.getvalue()
    assert shown.count("\r") == 3 and shown.endswith("\n") and shown.count("\n") == 1
    assert "读取文件：2,000 行，每秒 1,000 行" in shown


def test_the_command_line_prints_the_steps_of_a_long_import(
    ctx, tmp_path, sqlite_url, monkeypatch, capsys
):
    """``results import``: a progress line per step on stderr (every run counts as long
    here), the report alone on stdout."""
    from bot.cli import build_parser, common

    factories.tree(ctx)
    path = tmp_path / "results.csv"
    path.write_text("account,round,score\nly1zhang,zone1,80\nlyjyli,zone1,缺考\n", "utf-8")
    monkeypatch.setenv("DATABASE_URL", sqlite_url)  # the command opens the same database
    monkeypatch.setattr(common, "AFTER_SECONDS", 0.0)
    monkeypatch.setattr(common, "LOG_EVERY", 0.0)
    args = build_parser().parse_args(["results", "import", str(path)])
    assert args.func(args) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith("导入完成：新增 2，更新 0")
    steps = [line.split("：")[0].split("……")[0] for line in captured.err.splitlines()]
    assert steps[0] == "读取文件" and steps[-1] == "写入数据库"
    assert {"读取文件", "逐行检查", "写入数据库"} == set(steps)
    assert "写入数据库：2 / 2 行（100%）" in captured.err
