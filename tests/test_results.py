"""Exam results: the import (row by row, all or nothing, upsert), pass rates over the unit tree
with exempt and transferred learners, the makeup list driving makeup registration, the
consequences after the makeup, /results scope, the export with its chart, the CLI and the
makeup-list reminder."""

from __future__ import annotations

import datetime as dt
import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from PIL import Image
from sqlmodel import delete, func, select

from bot import cli
from bot.context import create_context
from bot.core import tabular as imports
from bot.core.audit import AuditLog
from bot.core.clock import Clock
from bot.core.errors import Refused
from bot.core.render import render
from bot.core.uow import Origin
from bot.org import admins
from bot.org.models import Unit
from bot.registration import service as reg
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.registration.models import Registration, RegistrationLearner
from bot.results import affected, importer, makeup, rates
from bot.results import export as results_export
from bot.results.models import ExamResult
from bot.roster.models import Learner
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
MAKEUP_OPEN = dt.datetime(2022, 10, 25, 10, 0)
AFTER_MAKEUP = dt.datetime(2022, 11, 1, 9, 0)
REGULAR = (
    "account,round,score\n"
    "ly1zhang,第一次,80\n"
    "ly1wu,分众组考第一次考试,缺考\n"
    "ly1wu,zone2,72\n"
    "ly1exempt,zone1,缺考\n"
    "ly1mover,zone1,90\n"
    "lyjyli,zone1,50\n"
    "hdzhao,zone1,60\n"
    "hdczsun,zone1,40\n"
    "hdczsun,第二次,absent\n"
    "hdczzhou,zone1,缺考\n"
    "sfjwang,分类组考,100\n"
)
MAKEUP = "登录账号,考试轮次,成绩\nlyjyli,补考,65\nhdczsun,补考,缺考\n"


def build(ctx) -> None:
    """city → 耒阳市 (county) → 耒阳市教育局 (unit) → 耒阳一中 (sub): three levels below the city;
    衡东县 (county) → 衡东县财政局 (unit); 市司法局 (seeded city-level unit)."""
    factories.tree(ctx)  # ly1zhang (LY-JY-1), lyjyli (LY-JY), sfjwang (市司法局), hdzhao (HD)
    factories.unit(ctx, "HD-CZ", "衡东县财政局", parent="HD")
    factories.learner(ctx, "ly1wu", "吴一", "LY-JY-1")
    factories.learner(ctx, "ly1exempt", "免考者", "LY-JY-1", exempt=True)
    factories.learner(ctx, "ly1left", "离职者", "LY-JY-1", in_service=False)
    factories.learner(ctx, "ly1mover", "调动者", "LY-JY-1")
    factories.learner(ctx, "lyjyqian", "钱七", "LY-JY")
    factories.learner(ctx, "hdczsun", "孙八", "HD-CZ")
    factories.learner(ctx, "hdczzhou", "周九", "HD-CZ")


def csv_file(tmp_path: Path, text: str, name: str = "results.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def do_import(ctx, path: Path, *, skip_bad: bool = False):
    rows = imports.read_table(path, "results")
    request = imports.ImportRequest(rows, skip_bad=skip_bad, source=path.name)
    return ctx.run_sync(lambda uow: importer.import_results(uow, request), Origin.cli())


def transfer(ctx, account: str, unit_code: str) -> None:
    """A roster change after the exam (as a roster import or /transfer would make it)."""
    with ctx.db.session() as s:
        learner = s.exec(select(Learner).where(Learner.account == account)).one()
        learner.unit_id = s.exec(select(Unit.id).where(Unit.code == unit_code)).one()
        s.add(learner)


def count(ctx, model, *where) -> int:
    with ctx.db.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def identity(ctx, code: str, role: str, uid: int):
    factories.bind(ctx, code, role, uid)
    with ctx.db.session() as s:
        return admins.authorize(s, uid)


def as_admin(who) -> Origin:
    """The origin of an action by a bound administrator (private chat)."""
    return Origin.telegram(who.telegram_user_id, who.telegram_user_id)


def rates_of(ctx):
    return ctx.run_sync(rates.rates, Origin.cli())


def _world(ctx, tmp_path):
    build(ctx)
    assert do_import(ctx, csv_file(tmp_path, REGULAR)).written
    transfer(ctx, "ly1mover", "HD-CZ")  # moved after sitting zone1 in 耒阳一中
    return ctx


@pytest.fixture
def world(ctx, tmp_path):
    """For handler tests (the ``bot`` fixture runs on SQLite)."""
    return _world(ctx, tmp_path)


@pytest.fixture
def any_world(any_ctx, tmp_path):
    """For service tests: SQLite, and PostgreSQL where TEST_DATABASE_URL is set."""
    return _world(any_ctx, tmp_path)


# --- rates -----------------------------------------------------------------------------------------


def test_rates_over_the_subtree_exempt_out_transferred_counted_where_they_sat(any_world):
    """Rule: a learner counts for the unit they belonged to at the time of the exam round (the
    result's unit, fixed when that round's result was imported). ly1mover sat zone1 in 耒阳一中
    and then moved to 衡东县财政局: the 90 points stay with 耒阳一中 and its ancestors. Exempt
    and out-of-service learners are not in the base; a learner without any result is."""
    report = rates_of(any_world)
    by = {u.code: u for u in report.units.values()}

    def nums(code, phase="before"):
        c = getattr(by[code], phase)
        return (c.base, c.sat, c.passed)

    assert nums("LY-JY-1") == (3, 3, 3)  # zhang, wu (absent, then 72), mover; not exempt/left
    assert nums("LY-JY") == (5, 4, 3)  # + lyjyli 50, lyjyqian without any result
    assert nums("LY") == (5, 4, 3)  # the county: its whole subtree
    assert nums("HD-CZ") == (2, 1, 0)  # sun 40, zhou absent; the mover is not here
    assert nums("HD") == (3, 2, 1)  # + hdzhao exactly on the pass mark (60)
    assert nums("市司法局") == (1, 1, 1)  # the category exam counts as a regular round
    assert report.city.before == rates.Counts(9, 7, 5)
    assert by["LY-JY"].before.pass_rate == pytest.approx(3 / 5)  # over the base, not the sat
    assert by["LY-JY"].before.participation == pytest.approx(4 / 5)
    assert [u.code for u in report.counties] == ["LY", "HD"] or {
        u.code for u in report.counties
    } == {"LY", "HD"}
    worst = report.worst_first()
    assert worst[0].code == "HD-CZ" and worst[1].code == "LY-JY"  # 0%, 60%, then 100% and empty
    assert worst[-1].after.base == 0  # units without learners last
    assert not report.has_makeup and report.city.after == report.city.before


def test_makeup_counts_after_the_makeup_and_reimport_replaces(any_world, tmp_path):
    any_world.clock.freeze(AFTER_MAKEUP)
    report = do_import(any_world, csv_file(tmp_path, MAKEUP, "makeup.csv"))
    assert (report.created, report.updated) == (2, 0)
    report = rates_of(any_world)
    by = {u.code: u for u in report.units.values()}
    assert report.has_makeup
    assert (by["LY-JY"].after.sat, by["LY-JY"].after.passed) == (4, 4)  # lyjyli passed it
    assert by["LY-JY"].before.passed == 3  # before the makeup: unchanged
    assert (by["HD-CZ"].after.sat, by["HD-CZ"].after.passed) == (1, 0)
    # Re-importing the same file with one score corrected replaces, never duplicates.
    again = do_import(any_world, csv_file(tmp_path, MAKEUP.replace("65", "55"), "makeup2.csv"))
    assert (again.created, again.updated, again.unchanged) == (0, 2, 1)
    assert count(any_world, ExamResult) == 13
    assert rates_of(any_world).city.after.passed == 5
    assert count(any_world, AuditLog, AuditLog.action == "results.import") == 3


def test_unit_column_fixes_the_unit_of_the_round_and_reimport_keeps_it(any_ctx, tmp_path):
    """The platform's own record of where a learner sat (a unit code, or a unit name used by one
    unit only) wins over the roster; a re-import without it keeps the unit already fixed."""
    build(any_ctx)
    do_import(any_ctx, csv_file(tmp_path, "账号,轮次,成绩,单位\nlyjyqian,zone1,88,衡东县财政局\n"))
    do_import(any_ctx, csv_file(tmp_path, "账号,轮次,成绩\nlyjyqian,zone1,91\n", "again.csv"))
    transfer(any_ctx, "lyjyqian", "市司法局")  # a later roster change does not move the result
    by = {u.code: u for u in rates_of(any_ctx).units.values()}
    assert (by["HD-CZ"].before.base, by["HD-CZ"].before.passed) == (3, 1)
    assert by["市司法局"].before.base == 1  # only sfjwang (no result: counts where he is)
    assert by["LY-JY"].before.base == 4  # ly1zhang, ly1wu, ly1mover, lyjyli


# --- the import -----------------------------------------------------------------------------------


def test_bad_rows_reject_the_whole_file(any_ctx, tmp_path):
    build(any_ctx)
    bad = (
        "账号,轮次,成绩,单位编码\n"
        "ly1zhang,zone1,80,\n"  # good
        "nobody1,zone1,70,\n"  # unknown account
        "ly1wu,zone9,70,\n"  # bad round
        "lyjyli,zone1,101,\n"  # above full marks
        "lyjyqian,zone1,-3,\n"  # below zero
        "hdzhao,zone1,,\n"  # empty score
        "ly1zhang,第一次,85,\n"  # the same learner and round again
        "hdczsun,zone1,70,NOPE\n"  # unknown unit (a code, or a unit name used once)
    )
    report = do_import(any_ctx, csv_file(tmp_path, bad))
    assert not report.written and report.bad_rows == [3, 4, 5, 6, 7, 8, 9]
    text = report.render()
    for words in ("花名册里没有", "无法识别", "超出 0–100", "缺考", "与第 2 行重复", "NOPE"):
        assert words in text, words
    assert count(any_ctx, ExamResult) == 0
    assert count(any_ctx, AuditLog, AuditLog.action == "results.import") == 0
    skipped = do_import(any_ctx, csv_file(tmp_path, bad), skip_bad=True)
    assert skipped.written and skipped.created == 1 and skipped.skipped == 7
    assert count(any_ctx, ExamResult) == 1


def test_malformed_files_change_nothing(any_world, tmp_path):
    before = count(any_world, ExamResult)
    files = {
        "empty.csv": b"",
        "headers.csv": b"account,score\nly1zhang,80\n",  # no round column
        "binary.csv": b"account,round,score\n\x00\x01\x02",
        "fake.xlsx": b"PK\x03\x04 not really a workbook",
        "macro.xlsm": b"whatever",
        "notes.txt": b"account,round,score",
    }
    for name, data in files.items():
        path = tmp_path / name
        path.write_bytes(data)
        with pytest.raises(imports.ImportFileError):
            imports.read_table(path, "results")
    # A valid XLSX whose rows are bad changes nothing either.
    book = openpyxl.Workbook()
    book.active.append(["登录账号", "考试轮次", "成绩"])
    book.active.append(["ly1zhang", "zone1", "九十"])
    book.save(tmp_path / "bad.xlsx")
    assert not do_import(any_world, tmp_path / "bad.xlsx").written
    assert count(any_world, ExamResult) == before
    with any_world.db.session() as s:
        row = s.exec(
            select(ExamResult)
            .join(Learner, Learner.id == ExamResult.learner_id)
            .where(Learner.account == "ly1zhang")
        ).one()
        assert row.score == 80


# --- the makeup list and registration ----------------------------------------------------------------


def test_makeup_list_is_absent_or_failed_in_every_regular_round(any_world):
    with any_world.unit_of_work(Origin.cli()) as uow:
        unit = admins.find_unit(uow.session, "LY")
        listing = makeup.makeup_list(uow, unit, MAKEUP_REGISTRATIONS)
    assert [(e.account, e.reason) for e in listing.entries] == [
        ("lyjyli", "failed"),
        ("lyjyqian", "absent"),
    ]  # ly1wu missed zone1 but passed zone2: not on it; exempt and out-of-service: never
    assert listing.has_results and listing.entries[0].masked_name == "李*"


async def test_register_makeup_offers_exactly_the_list(bot, world, clock):
    clock.freeze(MAKEUP_OPEN)
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    bot.user = "李老师"
    await bot.send("/register")
    out = "\n".join(await bot.press(1))  # 补考, the only open round: no day or session step
    assert "补考名单共 2 人" in out and "李*（lyjyli）" in out and "全部" in out
    out = "\n".join(await bot.send("ly1zhang"))
    assert "不在本单位的补考名单上" in out and "ly1zhang" in out
    out = "\n".join(await bot.send("3"))
    assert "补考名单共 2 人" in out  # a count above the list is refused too
    out = "\n".join(await bot.send("全部"))
    assert "人数：2" in out
    await bot.press(1)
    with world.db.session() as s:
        named = s.exec(
            select(Learner.account)
            .join(RegistrationLearner, RegistrationLearner.learner_id == Learner.id)
            .where(RegistrationLearner.round_key == "makeup")
        ).all()
    assert sorted(named) == ["lyjyli", "lyjyqian"]
    out = "\n".join(await bot.send("/makeup_list"))
    assert "已报名补考 2 人" in out and "lyjyqian" in out


def makeup_request(learners: str) -> reg.RegistrationRequest:
    return reg.RegistrationRequest("makeup", dt.date(2022, 10, 27), "09:00", learners)


def test_makeup_without_results_keeps_todays_behaviour(any_world, clock):
    clock.freeze(MAKEUP_OPEN)
    factories.learner(any_world, "dagzhang", "张档", "市档案馆")  # no result for this unit at all
    who = identity(any_world, "市档案馆", "unit", 7001)
    with any_world.unit_of_work(as_admin(who)) as uow:
        planned = reg.plan(uow, makeup_request("dagzhang"))
        assert planned.count == 1
        with pytest.raises(Refused) as refused:
            reg.plan(uow, makeup_request("全部"))
        assert refused.value.key == "makeup_no_results"


# --- consequences after the makeup --------------------------------------------------------------------


def test_consequences_after_the_makeup_closes(any_world, tmp_path, clock):
    clock.freeze(dt.datetime(2022, 10, 31, 20, 0))
    do_import(any_world, csv_file(tmp_path, MAKEUP, "makeup.csv"))
    hd = identity(any_world, "HD-CZ", "unit", 7002)
    ly = identity(any_world, "LY-JY", "unit", 7003)
    with pytest.raises(Refused) as early:
        any_world.run_sync(affected.affected, as_admin(hd))
    assert early.value.key == "affected_not_yet"  # the makeup's last day is not over
    clock.freeze(AFTER_MAKEUP)
    report = any_world.run_sync(affected.affected, as_admin(hd))
    assert [a.account for a in report.absent] == ["hdczzhou"]  # never sat: grade deferred
    assert [(a.account, a.detail, a.best) for a in report.failed] == [
        ("hdczsun", affected.SKIPPED_MAKEUP, 40)
    ]  # sat and never passed: not excellent
    text = render("results_affected", c=any_world.config, a=report)
    assert "孙* hdczsun · 衡东县财政局 · 考试最高 40 分，未参加补考" in text
    mine = any_world.run_sync(affected.affected, as_admin(ly))
    assert [a.account for a in mine.absent] == ["lyjyqian"] and not mine.failed
    with pytest.raises(Refused) as foreign:  # another unit's learners stay hidden
        any_world.run_sync(lambda uow: affected.affected(uow, "HD-CZ"), as_admin(ly))
    assert foreign.value.key == "unit_out_of_scope"


async def test_affected_command_shows_the_notice_consequences(bot, world, tmp_path, clock):
    do_import(world, csv_file(tmp_path, MAKEUP, "makeup.csv"))
    clock.freeze(AFTER_MAKEUP)
    factories.bind(world, "HD-CZ", "unit", bot.user_id("孙"))
    out = "\n".join(await bot.send("/affected", user="孙"))
    assert world.config.consequences.absent in out
    assert world.config.consequences.failed_makeup in out
    assert "周*" in out and "hdczsun" in out and "lyjy" not in out
    out = "\n".join(await bot.send("/affected", user="孙", group=True))
    assert "私聊" in out and "hdcz" not in out


# --- /results and /results_export -------------------------------------------------------------------------


async def test_results_scope_unit_admin_sees_own_subtree_only(bot, world):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    factories.bind(world, "city", "city", bot.user_id("市办"))
    out = "\n".join(await bot.send("/results", user="李老师"))
    assert "耒阳市教育局" in out and "耒阳一中" in out and "60.0%" in out
    for other in ("衡东", "市司法局", "全市"):
        assert other not in out, other
    out = "\n".join(await bot.send("/results", user="市办"))
    assert "全市" in out and "55.6%" in out  # 5 of 9
    assert out.index("衡东县财政局") < out.index("耒阳市教育局") < out.index("市司法局")
    assert "私聊" in "\n".join(await bot.send("/results", user="李老师", group=True))


async def test_results_export_sends_workbook_and_chart(bot, world):
    factories.bind(world, "city", "city", bot.user_id("市办"))
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    out = "\n".join(await bot.send("/results_export", user="李老师"))
    assert "只有" in out and not bot.request.of("sendDocument")
    await bot.send("/results_export", user="市办")
    xlsx, png = bot.request.of("sendDocument")
    name, content, _ = xlsx.files["document"]
    assert name.endswith(".xlsx")
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == list(results_export.SHEETS)
    first = book[results_export.SHEET_FIRST]
    assert first["A2"].value == "衡东县财政局" and first["H2"].value == 0  # worst first
    assert book[results_export.SHEET_SUBS]["A2"].value == "耒阳一中"
    name, content, _ = png.files["document"]
    assert name.endswith(".png")
    image = Image.open(io.BytesIO(content))
    image.verify()
    assert image.format == "PNG" and image.size[0] > 500
    assert "1. 衡东县财政局 0.0%" in png.params["caption"]


def test_chart_file_opens_as_an_image(any_world, tmp_path, recwarn, monkeypatch):
    report = rates_of(any_world)
    chart = results_export.render_chart(any_world.config, report)
    path = tmp_path / "chart.png"
    path.write_bytes(chart.png)
    import matplotlib.image

    pixels = matplotlib.image.imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 200
    assert [u.code for u in chart.units][:2] == ["HD-CZ", "LY-JY"]
    assert len(chart.units) <= results_export.CHART_UNITS
    assert not [w for w in recwarn if "Glyph" in str(w.message)]
    # With a font for Chinese the bars carry the unit names (here a stand-in family).
    monkeypatch.setattr(results_export, "cjk_font", lambda: "DejaVu Sans")
    named = results_export.render_chart(any_world.config, report)
    assert named.names_drawn and named.png.startswith(b"\x89PNG")
    assert not [w for w in recwarn if "Glyph" in str(w.message)]


# --- the command line --------------------------------------------------------------------------------------


def test_cli_import_show_and_export(tmp_path, config, capsys, monkeypatch):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    clock = Clock(config.tz)
    clock.freeze(dt.datetime(2022, 10, 1, 10, 0))
    ctx = create_context(config, db_url=url, clock=clock)
    build(ctx)
    ctx.db.dispose()
    env = {**os.environ, "DATABASE_URL": url}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "bot", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )

    bad = csv_file(tmp_path, "account,round,score\nly1zhang,zone1,80\nghost9,zone1,1\n", "b.csv")
    done = run("results", "import", str(bad))
    assert done.returncode == 1 and "ghost9" in done.stdout and "拒绝" in done.stdout
    good = csv_file(tmp_path, REGULAR)
    done = run("results", "import", str(good))
    assert done.returncode == 0, done.stderr
    assert "新增 11" in done.stdout
    target = tmp_path / "rates.xlsx"
    done = run("results", "export", str(target))
    assert done.returncode == 0, done.stderr
    assert openpyxl.load_workbook(target).sheetnames == list(results_export.SHEETS)
    assert Image.open(target.with_suffix(".png")).format == "PNG"
    # The same commands in-process (each subprocess costs a start-up): again, show, refusals.
    monkeypatch.setenv("DATABASE_URL", url)
    args = cli.build_parser().parse_args(["results", "import", str(good)])
    assert args.func(args) == 0 and "更新 11" in capsys.readouterr().out  # no duplicates
    args = cli.build_parser().parse_args(["results", "show"])
    assert args.func(args) == 0
    shown = capsys.readouterr().out
    assert "衡东县财政局" in shown and "<pre>" not in shown
    args = cli.build_parser().parse_args(["results", "import", str(tmp_path / "no.csv")])
    assert args.func(args) == 2
    args = cli.build_parser().parse_args(["results", "export", str(tmp_path / "x.csv")])
    assert args.func(args) == 2
    monkeypatch.delenv("DATABASE_URL")
    check = create_context(config, db_url=url, clock=clock)
    try:
        assert count(check, ExamResult) == 11
        assert count(check, AuditLog, AuditLog.action == "results.import") == 2
    finally:
        check.db.dispose()


# --- the makeup-list reminder ------------------------------------------------------------------------------


def test_makeup_list_reminder_names_units_whose_list_is_not_registered(any_world, clock):
    """A reminder kind of the reminders machinery: the evening of the first makeup registration
    day, naming (through its "who still owes" lookup) the units with unregistered learners."""
    from bot.core.uow import Origin
    from reminders import messages, store

    def reminder_text(row):
        with any_world.unit_of_work(Origin.system()) as uow:
            message = messages.compose(uow, row)
        return message.text, message.owing

    clock.freeze(MAKEUP_OPEN)
    any_world.run_sync(store.sync_calendar, Origin.system())
    with any_world.unit_of_work(Origin.system()) as uow:
        row = store.load(uow, "makeup-list")
    assert row.fire_at == clock.at(dt.date(2022, 10, 25), dt.time(18, 0))
    text, owing = reminder_text(row)
    assert owing.known and owing.expected == 2
    assert {u.code for u in owing.units} == {"LY-JY", "HD-CZ"}
    assert "耒阳市教育局" in text and "衡东县财政局" in text and "/makeup_list" in text
    who = identity(any_world, "LY-JY", "unit", 7004)
    any_world.run_sync(lambda uow: reg.commit(uow, makeup_request("all")), as_admin(who))
    text, owing = reminder_text(row)
    assert [u.code for u in owing.units] == ["HD-CZ"] and owing.expected == 2
    assert "衡东县财政局" in text and "耒阳市教育局" not in text
    assert count(any_world, Registration, Registration.round_key == "makeup") == 1
    with any_world.db.session() as s:  # nothing imported at all: said so, nobody named
        s.exec(delete(ExamResult))
    text, owing = reminder_text(row)
    assert not owing.known and "尚未导入" in text
