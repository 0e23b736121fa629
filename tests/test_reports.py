"""County plans, the city office's overview (/status, python -m bot status) and the registrations
workbook (/export, python -m bot export)."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import func, select

from bot.context import create_context
from bot.core.audit import AuditLog
from bot.core.clock import Clock
from bot.core.errors import Refused
from bot.core.uow import Origin
from bot.org import admins
from bot.org.models import Administrator, Role, Unit
from bot.overview import county_plans, export
from bot.overview import status as reports
from bot.registration import assignment, plans
from bot.registration.models import CountyPlan, Registration, SeatBooking, SeatSlot
from tests import factories

ROOT = Path(__file__).resolve().parent.parent

# Users (Telegram ids) of the little world below.
CITY_USER, LY_USER, HD_USER, GX_USER, UNIT_USER = 501, 502, 503, 504, 505


def _set(ctx, code: str, **fields) -> None:
    with ctx.db.session() as s:
        unit = s.exec(select(Unit).where(Unit.code == code)).one()
        for key, value in fields.items():
            setattr(unit, key, value)
        s.add(unit)


def build_world(ctx) -> None:
    """city → 耒阳市 (county) → 耒阳市教育局 → 耒阳一中 (sub); 耒阳市科技局 (省科技厅, county level);
    衡东县 (county) → 衡东县财政局; 衡阳高新区 (park); city-level 市科技局 (省科技厅) and
    市交通运输局 (省交通运输厅); plus everything seeded from config (centralized and question-bank units)."""
    factories.tree(ctx)
    factories.unit(ctx, "LY-KJ", "耒阳市科技局", parent="LY")
    factories.unit(ctx, "HD-CZ", "衡东县财政局", parent="HD")
    factories.unit(ctx, "GX", "衡阳高新区", kind="park")
    factories.unit(ctx, "KJJ", "市科技局")
    factories.unit(ctx, "JTJ", "市交通运输局")
    _set(ctx, "LY-KJ", category_department="省科技厅")
    _set(ctx, "KJJ", category_department="省科技厅")
    _set(ctx, "JTJ", category_department="省交通运输厅")


@pytest.fixture
def world(any_ctx):
    build_world(any_ctx)
    return any_ctx


def identity(ctx, unit_code: str, role: str, uid: int):
    factories.bind(ctx, unit_code, role, uid)
    with ctx.db.session() as s:
        return admins.authorize(s, uid)


def count(ctx, model, *where) -> int:
    with ctx.db.session() as s:
        return s.exec(select(func.count()).select_from(model).where(*where)).one()


def unit_id(ctx, code: str) -> int:
    with ctx.db.session() as s:
        return s.exec(select(Unit.id).where(Unit.code == code)).one()


def city_admin_id(ctx) -> int:
    with ctx.db.session() as s:
        return s.exec(select(Administrator.id).where(Administrator.role == Role.CITY)).one()


def registration(
    ctx, code: str, round_key: str, learners: int, *, day: str = "2022-09-20", status="active"
) -> None:
    with ctx.db.session() as s:
        s.add(
            Registration(
                unit_id=unit_id(ctx, code),
                round_key=round_key,
                exam_date=dt.date.fromisoformat(day),
                session_time="08:30",
                learner_count=learners,
                status=status,
                admin_id=city_admin_id(ctx),
                created_at=ctx.now(),
                updated_at=ctx.now(),
            )
        )


@contextmanager
def clock_at(ctx, moment):
    """The clock at ``moment`` for one action, then back where it was."""
    if moment is None:
        yield
        return
    saved = ctx.clock.now()
    ctx.clock.freeze(moment)
    try:
        yield
    finally:
        ctx.clock.freeze(saved)


def submit(ctx, who, count_text, dates, detail="", now=None):
    submission = plans.PlanSubmission(count_text, dates, detail)
    origin = Origin.telegram(who.telegram_user_id, who.telegram_user_id)
    with clock_at(ctx, now):
        return ctx.run_sync(lambda uow: plans.submit_plan(uow, submission), origin)


def on_time(ctx) -> dt.datetime:
    return ctx.clock.at(ctx.config.county_plans.deadline, dt.time(17, 0))


def after_deadline(ctx) -> dt.datetime:
    return ctx.clock.at(ctx.config.county_plans.deadline + dt.timedelta(days=1), dt.time(9, 0))


# --- county plans ---------------------------------------------------------------------------


def test_county_admin_submits_plan_on_time(world):
    ly = identity(world, "LY", "county", LY_USER)
    receipt = submit(world, ly, "6个", "9月20日、9月21日", "在县学法考法中心分3场", on_time(world))
    assert receipt.unit_name == "耒阳市" and receipt.unit_count == 6
    assert receipt.dates == [dt.date(2022, 9, 20), dt.date(2022, 9, 21)]
    assert not receipt.late and not receipt.replaced
    with world.db.session() as s:
        row = s.exec(select(CountyPlan)).one()
        assert (row.unit_count, row.dates) == (6, "2022-09-20,2022-09-21")
        assert row.detail == "在县学法考法中心分3场"
        log = s.exec(select(AuditLog).where(AuditLog.action == "plan.submit")).one()
        assert log.target == "LY" and log.actor_telegram_id == LY_USER
        assert json.loads(log.detail)["late"] is False


@pytest.mark.parametrize(
    "text",
    [
        "9月20日、9月21日",
        "2022-09-20,2022-09-21",
        "9/20 9/21",
        "９月２０日，２１日",
        "9月20日至21日",
    ],
)
def test_date_forms(text):
    assert plans.parse_dates(text, 2022) == [dt.date(2022, 9, 20), dt.date(2022, 9, 21)]


def test_refusals_change_nothing(world):
    ly = identity(world, "LY", "county", LY_USER)
    unit_admin = identity(world, "LY-JY", "unit", UNIT_USER)
    city = identity(world, "city", "city", CITY_USER)
    audits = count(world, AuditLog)
    minimum = world.config.county_plans.min_units
    cases = [
        (unit_admin, "6", "9月20日", "", "plan_county_only"),
        (city, "6", "9月20日", "", "plan_county_only"),
        (ly, str(minimum - 1), "9月20日", "", "plan_min_units"),
        (ly, "六", "9月20日", "", "plan_count_bad"),
        (ly, "0", "9月20日", "", "plan_count_bad"),
        (ly, "6", "", "", "plan_dates_missing"),
        (ly, "6", "2月30日", "", "plan_date_bad"),
        (ly, "6", "9月31日", "", "plan_date_bad"),
        (ly, "6", "2021-09-20", "", "plan_date_year"),
        (ly, "6", "下周一", "", "plan_date_bad"),
        (ly, "6", "9月22日至20日", "", "plan_date_bad"),
        (ly, "6", "9月20日", "长" * 501, "plan_detail_long"),
    ]
    for who, number, dates, detail, key in cases:
        with pytest.raises(Refused) as info:
            submit(world, who, number, dates, detail)
        assert info.value.key == key, (number, dates)
    with pytest.raises(Refused) as info:
        submit(world, ly, minimum - 1, "9月20日")
    assert f"不少于 {minimum} 个" in info.value.render(c=world.config)
    assert count(world, CountyPlan) == 0
    assert count(world, AuditLog) == audits


def test_new_plan_replaces_old_and_late_is_flagged(world):
    ly = identity(world, "LY", "county", LY_USER)
    gx = identity(world, "GX", "county", GX_USER)
    submit(world, ly, 5, "9/20", now=on_time(world))
    receipt = submit(world, ly, 8, "9/22 9/23", "改期", now=after_deadline(world))
    assert receipt.replaced and receipt.late
    submit(world, gx, 5, "2022-09-27", now=on_time(world))
    with world.db.session() as s:
        rows = s.exec(select(CountyPlan).where(CountyPlan.unit_id == unit_id(world, "LY"))).all()
        assert len(rows) == 1
        assert (rows[0].unit_count, rows[0].dates, rows[0].detail) == (
            8,
            "2022-09-22,2022-09-23",
            "改期",
        )
        overview = county_plans.plan_status(s, world.config, world.now())
    assert count(world, AuditLog, AuditLog.action == "plan.submit") == 3
    states = {r.unit_name: r.state for r in overview.rows}
    assert states == {"耒阳市": "late", "衡东县": "missing", "衡阳高新区": "submitted"}
    assert [r.unit_name for r in overview.missing] == ["衡东县"]
    assert overview.deadline_passed


# --- category precedence ----------------------------------------------------------------------


def test_category_precedence_by_level_and_consent(world):
    config = world.config
    with world.db.session() as s:

        def unit(code):
            return s.exec(select(Unit).where(Unit.code == code)).one()

        # 省科技厅 covers the city level but not the county level.
        assert assignment.category_precedence(s, config, unit("KJJ")).name == "省科技厅"
        assert assignment.category_precedence(s, config, unit("LY-KJ")) is None
        assert assignment.category_precedence(s, config, unit("JTJ")).name == "省交通运输厅"
        assert assignment.category_precedence(s, config, unit("LY-JY")) is None
        assert assignment.unit_level(s, unit("LY-JY-1")) == "county"
        assert assignment.unit_level(s, unit("KJJ")) == "city"
    # A sub-unit follows its nearest ancestor that names a department.
    factories.unit(world, "KJJ-1", "市科技情报所", kind="sub", parent="KJJ")
    factories.unit(world, "LY-GA", "耒阳市公安局", parent="LY")
    _set(world, "LY-GA", category_department="省公安厅")
    with world.db.session() as s:
        assert assignment.category_precedence(s, config, unit("KJJ-1")).name == "省科技厅"
        assert assignment.category_precedence(s, config, unit("LY-GA")).name == "省公安厅"
    # The department's recorded consent re-includes the unit (and its sub-units).
    _set(world, "KJJ", category_consent=True)
    _set(world, "JTJ", category_department="不在附件1的部门")
    with world.db.session() as s:
        assert assignment.category_precedence(s, config, unit("KJJ")) is None
        assert assignment.category_precedence(s, config, unit("KJJ-1")) is None
        assert assignment.category_precedence(s, config, unit("JTJ")) is None


# --- the overview -----------------------------------------------------------------------------


def seed_activity(ctx) -> None:
    registration(ctx, "LY-JY-1", "zone1", 30)  # a sub-unit: counts for 耒阳市教育局
    registration(ctx, "LY-JY", "zone1", 10)
    registration(ctx, "市司法局", "zone1", 20, day="2022-09-21")
    registration(ctx, "HD-CZ", "zone1", 15, status="cancelled")
    registration(ctx, "LY-JY", "makeup", 5, day="2022-10-27")
    with ctx.db.session() as s:
        day = ctx.config.centralized.exam_start
        slot = s.exec(
            select(SeatSlot).where(SeatSlot.exam_date == day, SeatSlot.slot_index == 0)
        ).first() or SeatSlot(exam_date=day, slot_index=0, capacity=80)  # seeded or not
        slot.used = 50
        s.add(slot)
        s.flush()
        for name, seats, state in (("市委统战部", 30, "confirmed"), ("市档案馆", 20, "pre")):
            s.add(
                SeatBooking(
                    slot_id=slot.id,
                    unit_id=unit_id(ctx, name),
                    seats=seats,
                    status=state,
                    created_at=ctx.now(),
                )
            )


# The question-bank departments seeded from config that attachment 1 places in a provincial
# system (by their names' sector words): they take that department's category exam.
SEEDED_CATEGORY = {
    "市信访局": "省信访局",
    "市教育局": "省教育厅",
    "市农业局": "省农业农村厅",
    "市人社局": "省人社厅",
    "市民政局": "省民政厅",
    "市公安局": "省公安厅",
    "市卫健委": "省卫健委",
    "市应急管理局": "省应急管理厅",
    "市自然资源与规划局": "省自然资源厅",
}


def test_status_numbers(world):
    seed_activity(world)
    ly = identity(world, "LY", "county", LY_USER)
    submit(world, ly, 6, "9月20日", now=after_deadline(world))
    with world.db.session() as s:
        result = reports.status(s, world.config, world.now())
    zone1, zone2 = result.rounds
    assert (zone1.key, zone1.state, zone2.state) == ("zone1", "open", "upcoming")
    assert {u.name for u in zone1.registered} == {"耒阳市教育局", "市司法局"}
    assert (zone1.registrations, zone1.learners) == (3, 60)
    missing = {u.name for u in zone1.missing}
    assert {"耒阳市科技局", "衡东县财政局", "市委宣传部"} <= missing
    assert not missing & {"耒阳市教育局", "市司法局", "市科技局", "市交通运输局", "市委统战部"}
    category = {e.unit.name: e.department for e in zone1.excluded_for("category")}
    assert category == {"市科技局": "省科技厅", "市交通运输局": "省交通运输厅", **SEEDED_CATEGORY}
    assert {e.unit.name for e in zone1.excluded_for("centralized")} == set(
        world.config.centralized.units
    )
    assert zone1.expected == (
        result.first_level_units - len(category) - len(world.config.centralized.units)
    )
    assert len(zone1.missing) == zone1.expected - 2
    assert "耒阳市教育局" in {u.name for u in zone2.missing}
    assert (zone2.registrations, zone2.learners) == (0, 0)
    assert result.makeup.missing is None
    assert (len(result.makeup.registered), result.makeup.learners) == (1, 5)
    # Centralized: every configured slot appears, even those without a row yet.
    cz = result.centralized
    days = len(world.config.centralized.exam.days())
    assert len(cz.slots) == days * len(world.config.centralized.slots)
    first = cz.slots[0]
    assert (first.used, first.capacity, first.confirmed_seats, first.pending_seats) == (
        50,
        80,
        30,
        20,
    )
    assert not first.confirmed and not cz.confirmed
    assert cz.booked == ["市委统战部", "市档案馆"]
    assert len(cz.not_booked) == len(world.config.centralized.units) - 2
    assert [r.unit_name for r in result.plans.late] == ["耒阳市"]
    data = json.loads(result.to_json())
    assert data["rounds"][0]["learners"] == 60 and data["makeup"]["missing"] is None
    assert data["centralized"]["slots"][0]["start"] == "08:30"
    # The city office confirms: the slot and the allocation read as confirmed.
    with world.db.session() as s:
        for booking in s.exec(select(SeatBooking)):
            booking.status = "confirmed"
            s.add(booking)
    with world.db.session() as s:
        result = reports.status(s, world.config, world.now())
    assert result.centralized.slots[0].confirmed and result.centralized.confirmed


def test_consent_puts_a_unit_back_on_the_list(world):
    _set(world, "KJJ", category_consent=True)
    with world.db.session() as s:
        zone1 = reports.status(s, world.config, world.now()).rounds[0]
    assert "市科技局" in {u.name for u in zone1.missing}
    assert {e.unit.name for e in zone1.excluded_for("category")} == {
        "市交通运输局",
        *SEEDED_CATEGORY,
    }


def test_workbook_contents(world):
    seed_activity(world)
    _set(world, "HD-CZ", name='=HYPERLINK("http://x")')
    ly = identity(world, "LY", "county", LY_USER)
    submit(world, ly, 6, "9月20日", "=1+1 说明")
    buffer = io.BytesIO()
    done = world.run_sync(lambda uow: export.write_registrations_xlsx(uow, buffer), Origin.cli())
    size = done.size
    assert size == len(buffer.getvalue()) > 0
    book = openpyxl.load_workbook(io.BytesIO(buffer.getvalue()))
    assert book.sheetnames == list(export.SHEETS)
    regs = book["报名汇总"]
    assert [c.value for c in regs[1]] == [
        "单位",
        "单位编码",
        "轮次",
        "考试日期",
        "场次",
        "人数",
        "报名时间",
    ]
    assert regs.freeze_panes == "A2" and regs["A1"].font.bold
    rows = [[c.value for c in row] for row in regs.iter_rows(min_row=2)]
    assert len(rows) == 4  # active only
    assert ["耒阳一中", "LY-JY-1", "分众组考第一次考试", dt.datetime(2022, 9, 20), "08:30", 30] in [
        r[:6] for r in rows
    ]
    assert rows[0][6] == dt.datetime(2022, 9, 14, 10, 0)  # local time of the campaign
    assert rows[-1][2] == "补考"
    slots = book["集中考试"]
    booked = [[c.value for c in r] for r in slots.iter_rows(min_row=2) if r[5].value]
    assert [(r[5], r[6], r[7]) for r in booked] == [
        ("市委统战部", 30, "已确认"),
        ("市档案馆", 20, "预报名"),
    ]
    missing = [[c.value for c in r] for r in book["未报名单位"].iter_rows(min_row=2)]
    assert ["分众组考第一次考试", '=HYPERLINK("http://x")', "HD-CZ", "衡东县"] in missing
    cell = next(
        c
        for r in book["未报名单位"].iter_rows(min_row=2)
        for c in r
        if c.value and str(c.value).startswith("=HYP")
    )
    assert cell.data_type == "s"  # text, never a formula
    plans_sheet = [[c.value for c in r] for r in book["县市区集中组考"].iter_rows(min_row=2)]
    by_name = {r[0]: r for r in plans_sheet}
    assert by_name["耒阳市"][2:6] == ["逾期报送", 6, "2022-09-20", "=1+1 说明"]
    assert by_name["衡东县"][2] == "未报送"


# --- through the bot --------------------------------------------------------------------------


@pytest.fixture
def bot_world(ctx):
    build_world(ctx)
    return ctx


async def test_status_command_city_office_only(bot, bot_world):
    seed_activity(bot_world)
    factories.bind(bot_world, "city", "city", bot.user_id("市办"))
    factories.bind(bot_world, "LY-JY", "unit", bot.user_id("单位"))
    out = await bot.send("/status", user="市办")
    text = out[0]
    # Counties and parks are areas, not first-level units: the count says which units it holds.
    with bot_world.db.session() as s:
        kinds = [u.kind for u in s.exec(select(Unit))]
        counties = sum(1 for k in kinds if k in ("county", "park"))
    assert f"一级单位 {kinds.count('unit')} 个：市直" in text
    assert f"县市区、园区 {counties} 个不计入一级单位" in text
    assert "分众组考第一次考试" in text and "覆盖 60 人" in text
    assert "……等" in text  # long lists are truncated
    assert "集中考试" in text and "50/80" in text and "县市区集中组考安排" in text
    assert len(text) < 4096
    assert "只有" in (await bot.send("/status", user="单位"))[0]
    assert "还没有绑定" in (await bot.send("/status", user="路人"))[0]
    group = await bot.send("/status", user="市办", group=True)
    assert "私聊" in group[0] and "覆盖" not in group[0]


async def test_export_command_sends_a_real_workbook(bot, bot_world):
    seed_activity(bot_world)
    factories.bind(bot_world, "city", "city", bot.user_id("市办"))
    factories.bind(bot_world, "LY", "county", bot.user_id("县管理员"))
    out = await bot.send("/export", user="县管理员")
    assert "只有" in out[0] and not bot.request.of("sendDocument")
    out = await bot.send("/export", user="市办")
    assert out[0].startswith("bot（私聊）> [文件]") and "报名 4 条" in out[0]
    (call,) = bot.request.of("sendDocument")
    assert int(call.params["chat_id"]) == bot.user_id("市办")
    filename, content, _mime = call.files["document"]
    assert filename == "报名汇总-20220914.xlsx"
    book = openpyxl.load_workbook(io.BytesIO(content))
    assert book.sheetnames == ["报名汇总", "集中考试", "未报名单位", "县市区集中组考"]
    assert book["报名汇总"].max_row == 1 + 4


async def test_plan_and_plans_commands(bot, bot_world):
    factories.bind(bot_world, "LY", "county", bot.user_id("耒阳"))
    factories.bind(bot_world, "LY-JY", "unit", bot.user_id("单位"))
    factories.bind(bot_world, "city", "city", bot.user_id("市办"))
    out = await bot.send("/plan", user="耒阳")
    assert "用法" in out[0] and f"不少于 {bot_world.config.county_plans.min_units} 个" in out[0]
    out = await bot.send("/plan 6 9月20日、21日 在县学法考法中心\n分3场 <b>", user="耒阳")
    assert "已收到耒阳市" in out[0] and "9月20日" in out[0] and "9月21日" in out[0]
    assert "逾期" in out[0]  # the clock (9月14日) is past the deadline (9月1日)
    assert "分3场 <b>" in out[0]  # escaped in HTML, shown as typed
    assert "分3场 &lt;b&gt;" in bot.request.of("sendMessage")[-1].params["text"]
    out = await bot.send("/plan 3 9月20日", user="耒阳")
    assert "不少于 5 个" in out[0]
    out = await bot.send("/plan 6 9月20日", user="单位")
    assert "只有县市区" in out[0]
    out = await bot.send("/plan 6 9月20日", user="耒阳", group=True)
    assert "私聊" in out[0]
    with bot_world.db.session() as s:
        assert s.exec(select(CountyPlan)).one().detail == "在县学法考法中心\n分3场 <b>"
    out = await bot.send("/plans", user="市办")
    assert "耒阳市" in out[0] and "逾期" in out[0] and "衡东县" in out[0] and "衡阳高新区" in out[0]
    assert "只有" in (await bot.send("/plans", user="耒阳"))[0]


# --- the command line -------------------------------------------------------------------------


def test_cli_status_and_export(tmp_path, config):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    clock = Clock(config.tz)
    clock.freeze(dt.datetime(2022, 9, 14, 10, 0))
    ctx = create_context(config, db_url=url, clock=clock)
    build_world(ctx)
    seed_activity(ctx)
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

    done = run("status", "--json", "--now", "2022-09-24T09:00")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["now"].startswith("2022-09-24T09:00")
    assert [r["state"] for r in data["rounds"]] == ["closed", "open"]
    assert data["rounds"][0]["learners"] == 60 and data["makeup"]["learners"] == 5
    assert data["centralized"]["slots"][0]["used"] == 50
    done = run("status")
    assert done.returncode == 0, done.stderr
    assert "分众组考第一次考试" in done.stdout and "<b>" not in done.stdout
    target = tmp_path / "out.xlsx"
    done = run("export", str(target))
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
    book = openpyxl.load_workbook(target)
    assert book.sheetnames == list(export.SHEETS) and book["报名汇总"].max_row == 5
    assert run("export", str(tmp_path / "out.csv")).returncode == 2


async def test_plan_dates_must_fall_in_the_zone_exam_period(bot, bot_world):
    """A county's centralized exam is its units' zone exam: dates outside the zone rounds' exam
    period (first exam day to last, from config) are refused and nothing is saved."""
    factories.bind(bot_world, "LY", "county", bot.user_id("耒阳"))
    zones = [z.exam for z in bot_world.config.zone_rounds]
    start, end = min(w.start for w in zones), max(w.end for w in zones)
    for dates in ("2022-01-01", "12月25日", f"{end.month}月{end.day}日、12月25日"):
        out = await bot.send(f"/plan 6 {dates}", user="耒阳")
        assert "不在分众组考的考试时间内" in out[0], out
        assert f"{start.month}月{start.day}日至{end.month}月{end.day}日" in out[0]
    with bot_world.db.session() as s:
        assert s.exec(select(CountyPlan)).first() is None
    out = await bot.send(
        f"/plan 6 {start.month}月{start.day}日、{end.month}月{end.day}日", user="耒阳"
    )
    assert "已收到耒阳市" in out[0]
