"""Attachment 1 applied to the city's and the counties' departments (issue 15, items 1, 2, 3, 12a):
the mapping at seeding and import, each unit's exam and why (/whoami), the city office's
/category, /consent and /allow_zone, and the registration guard that reads them."""

from __future__ import annotations

import csv
import datetime as dt
import json

import pytest
from sqlmodel import func, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.render import render, strip_html
from bot.core.tabular import ImportRequest, read_table
from bot.core.uow import Origin
from bot.org import assignment_admin
from bot.org.directory import list_units
from bot.org.exams import CATEGORY, CENTRALIZED, ZONE, exam_of
from bot.org.models import Unit
from bot.org.sectors import read_department
from bot.org.units_import import import_units
from bot.registration import assignment
from bot.registration import service as reg
from bot.seed import seed
from tests import factories

CITY, UNIT = "市办", "教育局管理员"
CITY_UID = 8101


def units(ctx) -> dict[str, Unit]:
    with ctx.db.session() as s:
        return {u.code: u for u in s.exec(select(Unit))}


def audits(ctx, action: str) -> list[dict]:
    with ctx.db.session() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id))
        return [json.loads(r.detail) for r in rows]


def reseed(ctx) -> list[str]:
    """A restart's seeding over the current database."""
    with ctx.db.session() as s:
        return seed(s, ctx.config, ctx.now())


def exam(ctx, code: str):
    with ctx.db.session() as s:
        unit = s.exec(select(Unit).where(Unit.code == code)).one()
        return exam_of(s, ctx.config, unit)


def county_world(ctx) -> None:
    """city → 耒阳市 (county) → 耒阳市教育局 → 耒阳一中 (sub), 耒阳市科技局, 耒阳市公安局;
    衡东县 (county); city-level 市科技局, and a sub-unit of the seeded 市公安局: all created
    after the first seeding (so not mapped yet)."""
    factories.unit(ctx, "LY", "耒阳市", kind="county")
    factories.unit(ctx, "LY-JY", "耒阳市教育局", parent="LY")
    factories.unit(ctx, "LY-JY-1", "耒阳一中", kind="sub", parent="LY-JY")
    factories.unit(ctx, "LY-KJ", "耒阳市科技局", parent="LY")
    factories.unit(ctx, "LY-GA", "耒阳市公安局", parent="LY")
    factories.unit(ctx, "HD", "衡东县", kind="county")
    factories.unit(ctx, "KJJ", "市科技局")
    factories.unit(ctx, "GA-JJ", "市公安局交警支队", kind="sub", parent="市公安局")


# --- item 1: mapping at seeding -----------------------------------------------------------------


def test_seeding_maps_the_seeded_city_departments(any_ctx):
    ctx = any_ctx
    seeded = units(ctx)
    assert seeded["市教育局"].category_department == "省教育厅"
    assert seeded["市公安局"].category_department == "省公安厅"
    assert seeded["市信访局"].category_department == "省信访局"
    assert seeded["市自然资源与规划局"].category_department == "省自然资源厅"
    # no row of attachment 1: left NULL, the zone exam
    assert seeded["市司法局"].category_department is None
    assert seeded["市委宣传部"].category_department is None
    # centralized units are never mapped, whatever their names say
    for name in ctx.config.centralized.units:
        assert seeded[name].category_department is None
    assert exam(ctx, "市委统战部").kind == CENTRALIZED
    # one audit row, the seed's, with the counts; a restart maps and audits nothing more
    (detail,) = audits(ctx, "seed")
    mapped = detail["category_departments"]
    assert mapped["mapped"] == 9 and mapped["departments"]["省教育厅"] == 1
    assert mapped["left"] == 19
    before = audits(ctx, "seed")
    assert reseed(ctx) == []
    assert audits(ctx, "seed") == before


def test_seeding_maps_county_units_by_level_and_leaves_sub_units_to_their_parent(ctx):
    county_world(ctx)
    factories.unit(ctx, "LY-SF", "耒阳市司法局", parent="LY")
    with ctx.db.session() as s:
        explicit = s.exec(select(Unit).where(Unit.code == "LY-SF")).one()
        explicit.category_department = ""  # the city office said none: never re-read
        s.add(explicit)
    created = reseed(ctx)
    assert created == ["category_departments:3"]
    mapped = units(ctx)
    assert mapped["LY-JY"].category_department == "省教育厅"  # 县市区 ✓
    assert mapped["LY-GA"].category_department == "省公安厅"
    assert mapped["KJJ"].category_department == "省科技厅"  # 市州 ✓
    assert mapped["LY-KJ"].category_department is None  # 省科技厅 has no 县市区 ✓
    assert mapped["LY-SF"].category_department == ""
    # sub-units follow their first-level unit instead of being mapped themselves
    assert mapped["LY-JY-1"].category_department is None
    assert mapped["GA-JJ"].category_department is None
    assert mapped["LY"].category_department is None  # a county is no department
    sub = exam(ctx, "LY-JY-1")
    assert (sub.kind, sub.department.name, sub.inherited) == (CATEGORY, "省教育厅", True)
    assert exam(ctx, "GA-JJ").department.name == "省公安厅"
    kj = exam(ctx, "LY-KJ")
    assert (kj.kind, kj.reason, kj.department.name) == (ZONE, "not_covered", "省科技厅")
    assert exam(ctx, "LY-SF").reason == "none_set"
    assert audits(ctx, "seed")[-1]["category_departments"]["departments"] == {
        "省公安厅": 1,
        "省教育厅": 1,
        "省科技厅": 1,
    }
    assert reseed(ctx) == []  # idempotent


def test_level_decides_and_consent_and_explicit_none_stop_precedence(ctx):
    county_world(ctx)
    reseed(ctx)
    with ctx.db.session() as s:
        by_code = {u.code: u for u in s.exec(select(Unit))}
        config = ctx.config
        assert assignment.category_precedence(s, config, by_code["KJJ"]).name == "省科技厅"
        assert assignment.category_precedence(s, config, by_code["LY-KJ"]) is None
        assert assignment.category_precedence(s, config, by_code["LY-JY-1"]).name == "省教育厅"
        by_code["LY-JY"].category_consent = True
        by_code["LY-GA"].category_department = ""
        s.add_all([by_code["LY-JY"], by_code["LY-GA"]])
        s.flush()
        assert assignment.category_precedence(s, config, by_code["LY-JY"]) is None
        assert assignment.category_precedence(s, config, by_code["LY-JY-1"]) is None
        assert assignment.category_precedence(s, config, by_code["LY-GA"]) is None


# --- item 1, 12a: mapping at import -------------------------------------------------------------

HEADER = ["单位编码", "单位名称", "单位类型", "上级单位编码", "分类组考部门"]


def write_csv(path, rows) -> str:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return str(path)


def run_import(ctx, path: str):
    request = ImportRequest(read_table(path, "units"), source="units.csv")
    return ctx.run_sync(lambda uow: import_units(uow, request), Origin.cli())


def test_import_maps_new_units_from_names_and_reads_the_column(ctx, tmp_path):
    rows = [
        ["ZH", "珠晖区", "县市区", "", ""],
        ["ZH-GA", "珠晖区公安分局", "一级单位", "ZH", ""],
        ["ZH-JY", "珠晖区教育局", "一级单位", "ZH", "无"],
        ["ZH-X", "珠晖区某中心", "一级单位", "ZH", "省 税务局"],
        ["ZH-KJ", "珠晖区科技局", "一级单位", "ZH", ""],
        ["TSW", "团市委", "一级单位", "", ""],
    ]
    report = run_import(ctx, write_csv(tmp_path / "u.csv", rows))
    assert report.written and not report.errors and report.created == 6
    got = units(ctx)
    assert got["ZH-GA"].category_department == "省公安厅"
    assert got["ZH-JY"].category_department == ""  # explicitly none: the zone exam
    assert got["ZH-X"].category_department == "省税务局"
    assert got["ZH-KJ"].category_department is None  # 省科技厅 has no 县市区
    assert got["TSW"].category_department == "团省委"
    assert exam(ctx, "ZH-JY").kind == ZONE and exam(ctx, "ZH-X").kind == CATEGORY
    (detail,) = audits(ctx, "units.import")
    assert detail["category_departments"]["from_cells"] == 2
    assert detail["category_departments"]["mapped"] == 2
    # an empty cell keeps what the city office set; a cell changes it
    with ctx.db.session() as s:
        unit = s.exec(select(Unit).where(Unit.code == "ZH-GA")).one()
        unit.category_department = ""
        s.add(unit)
    again = [
        ["ZH-GA", "珠晖区公安分局", "一级单位", "ZH", ""],
        ["ZH-KJ", "珠晖区科技局", "一级单位", "ZH", "否"],
    ]
    assert run_import(ctx, write_csv(tmp_path / "v.csv", again)).written
    got = units(ctx)
    assert got["ZH-GA"].category_department == ""
    assert got["ZH-KJ"].category_department == ""


def test_an_unknown_department_refuses_the_import_and_writes_nothing(ctx, tmp_path):
    rows = [
        ["ZH", "珠晖区", "县市区", "", ""],
        ["ZH-GA", "珠晖区公安分局", "一级单位", "ZH", "省外星局"],
    ]
    with ctx.db.session() as s:
        before = s.exec(select(func.count()).select_from(Unit)).one()
    report = run_import(ctx, write_csv(tmp_path / "u.csv", rows))
    assert not report.written
    (error,) = report.errors
    assert (error.row, error.field, error.code) == (3, "category_department", "category_unknown")
    text = report.render()
    assert "第 3 行" in text and "分类组考部门" in text and "省外星局" in text
    with ctx.db.session() as s:
        assert s.exec(select(func.count()).select_from(Unit)).one() == before
    assert audits(ctx, "units.import") == []


def test_a_department_is_given_to_departments_only(ctx, tmp_path):
    centralized = ctx.config.centralized.units[0]
    rows = [
        ["ZH", "珠晖区", "县市区", "", "省公安厅"],
        ["CZ", centralized, "一级单位", "", "省公安厅"],
        ["CZ2", "另一个单位", "一级单位", "", "无"],
    ]
    report = run_import(ctx, write_csv(tmp_path / "u.csv", rows))
    assert not report.written
    assert [(e.row, e.code) for e in report.errors] == [
        (2, "category_not_department"),
        (3, "category_centralized"),
    ]
    assert "ZH" not in units(ctx)


def test_read_department_words(config):
    assert read_department(config, "省公安厅") == "省公安厅"
    assert read_department(config, "省地方金融 管理局") == "省地方金融管理局"
    assert read_department(config, "无") == "" and read_department(config, "否") == ""
    assert read_department(config, "省外星局") is None
    assert read_department(config, "市教育局") is None  # a city department is no row


def test_units_list_shows_the_category_department(ctx):
    listing = ctx.run_sync(lambda uow: list_units(uow, "省教育厅"), Origin.cli())
    assert [e.code for e in listing.entries] == ["市教育局"]
    text = strip_html(render("units_found", c=ctx.config, listing=listing))
    assert "市教育局 · 一级单位" in text and text.rstrip().endswith("省教育厅")


# --- item 2: each unit's exam, as /whoami says it -------------------------------------------------


def whoami_text(ctx, code: str, uid: int) -> str:
    factories.bind(ctx, code, "unit", uid)
    me = ctx.run_sync(assignment_admin.whoami, Origin.telegram(uid, uid))
    return strip_html(
        render(
            "whoami", c=ctx.config, now=ctx.now(), identity=me.identity, user_id=uid, exam=me.exam
        )
    )


def test_whoami_says_the_units_exam_and_why(ctx):
    county_world(ctx)
    reseed(ctx)
    text = whoami_text(ctx, "市教育局", 9001)
    assert "参加省教育厅组织的分类组考" in text and "省本级、市州、县市区" in text
    assert "不参加市本级分众组考" in text and "7月1日至8月31日" in text
    text = whoami_text(ctx, "市司法局", 9002)
    assert "参加市本级分众组考" in text and "附件1中没有本单位所属系统" in text
    text = whoami_text(ctx, "LY-KJ", 9003)
    assert (
        "参加市本级分众组考" in text and "省科技厅的分类组考范围为省本级、市州，不含县市区" in text
    )
    text = whoami_text(ctx, "市委统战部", 9004)
    assert "市本级集中考试" in text and ctx.config.centralized.address in text
    assert "不需要报名网上分众组考" in text
    text = whoami_text(ctx, "LY-JY-1", 9005)
    assert "省教育厅" in text and "按上级单位“耒阳市教育局”的设置" in text
    with ctx.db.session() as s:
        unit = s.exec(select(Unit).where(Unit.code == "市公安局")).one()
        unit.category_consent = True
        s.add(unit)
    text = whoami_text(ctx, "市公安局", 9006)
    assert "参加市本级分众组考" in text and "省公安厅已同意" in text
    # the city office has no exam line
    factories.bind(ctx, "city", "city", 9007)
    me = ctx.run_sync(assignment_admin.whoami, Origin.telegram(9007, 9007))
    assert me.exam is None


# --- item 3: the city office's commands ---------------------------------------------------------


@pytest.fixture
def office(bot, ctx):
    county_world(ctx)
    factories.bind(ctx, "city", "city", bot.user_id(CITY))
    factories.bind(ctx, "LY-JY", "unit", bot.user_id(UNIT))
    return bot


def said(out: list[str]) -> str:
    return "\n".join(out)


def value_of(ctx, code: str) -> str | None:
    return units(ctx)[code].category_department


async def test_category_shows_sets_and_audits(office):
    bot, ctx = office, office.ctx
    out = said(await bot.send("/category 市教育局", user=CITY))
    assert "省教育厅" in out and "按单位名称对应附件1" in out
    out = said(await bot.send("/category 市司法局 省公安厅", user=CITY))
    assert "改为 省公安厅" in out and value_of(ctx, "市司法局") == "省公安厅"
    (row,) = audits(ctx, "unit.category")
    assert row == {"unit": "市司法局", "from": None, "to": "省公安厅"}
    out = said(await bot.send("/category 市司法局", user=CITY))
    assert "设定" in out and "9月14日 10:00" in out and "参加省公安厅组织的分类组考" in out
    out = said(await bot.send("/category 市司法局 无", user=CITY))
    assert value_of(ctx, "市司法局") == "" and "参加市本级分众组考" in out
    out = said(await bot.send("/category 市司法局 无", user=CITY))
    assert "没有修改" in out and len(audits(ctx, "unit.category")) == 2
    # by full name, as /invite takes it
    await bot.send("/category 耒阳市教育局 省教育厅", user=CITY)
    assert value_of(ctx, "LY-JY") == "省教育厅"


async def test_category_refusals_change_nothing(office):
    bot, ctx = office, office.ctx
    before = units(ctx)
    cases = [
        ("/category 市司法局 省外星局", "不是附件1所列的省级部门"),
        ("/category 不存在的局 省公安厅", "找不到单位“不存在的局”"),
        ("/category 市委统战部 省公安厅", "集中考试名单"),
        ("/category LY 省公安厅", "不设置分类组考部门"),
        ("/category", "用法"),
    ]
    for text, expected in cases:
        assert expected in said(await bot.send(text, user=CITY)), text
    city_only = Refused("city_only").render(c=ctx.config)
    for command in ("/category 市司法局 省公安厅", "/consent 市教育局", "/allow_zone 市委统战部"):
        assert (await bot.send(command, user=UNIT))[0].endswith(strip_html(city_only))
        assert "私聊" in said(await bot.send(command, user=CITY, group=True))
    assert {
        c: (u.category_department, u.category_consent, u.zone_approved)
        for c, u in units(ctx).items()
    } == {
        c: (u.category_department, u.category_consent, u.zone_approved) for c, u in before.items()
    }
    assert audits(ctx, "unit.category") == audits(ctx, "unit.consent") == []


async def test_consent_lets_a_category_unit_register_for_the_zone_exam(office):
    bot, ctx = office, office.ctx
    uid = 9101
    factories.bind(ctx, "市教育局", "unit", uid)
    request = reg.RegistrationRequest("zone1", dt.date(2022, 9, 19), "09:00", "12")
    with pytest.raises(Refused) as refused:
        ctx.run_sync(lambda uow: reg.commit(uow, request), Origin.telegram(uid, uid))
    assert refused.value.key == "category_precedence"
    assert refused.value.params["department"] == "省教育厅"

    assert "不参加分类组考，无需登记同意" in said(await bot.send("/consent 市司法局", user=CITY))
    assert "用法" in said(await bot.send("/consent 市教育局 也许", user=CITY))
    out = said(await bot.send("/consent 市教育局", user=CITY))
    assert "已登记：省教育厅同意" in out and units(ctx)["市教育局"].category_consent
    assert audits(ctx, "unit.consent") == [
        {"unit": "市教育局", "department": "省教育厅", "consent": True}
    ]
    done = ctx.run_sync(lambda uow: reg.commit(uow, request), Origin.telegram(uid, uid))
    assert done.id is not None

    out = said(await bot.send("/consent 市教育局 撤销", user=CITY))
    assert "已撤销" in out and not units(ctx)["市教育局"].category_consent
    # The registration made meanwhile stays (a cancellation goes to the platform): named.
    assert "还有 1 条网上分众组考报名，没有因此取消" in out
    assert "9月19日 09:00（12 人）" in out and "/myreg" in out
    assert "无需撤销" in said(await bot.send("/consent 市教育局 撤销", user=CITY))
    assert len(audits(ctx, "unit.consent")) == 2
    again = reg.RegistrationRequest("zone1", dt.date(2022, 9, 20), "09:00", "5")
    with pytest.raises(Refused):
        ctx.run_sync(lambda uow: reg.commit(uow, again), Origin.telegram(uid, uid))


async def test_allow_zone_only_for_centralized_units(office):
    bot, ctx = office, office.ctx
    out = said(await bot.send("/allow_zone 市司法局", user=CITY))
    assert "不在市本级集中考试名单中" in out and not units(ctx)["市司法局"].zone_approved
    out = said(await bot.send("/allow_zone 市委统战部", user=CITY))
    assert "已同意" in out and units(ctx)["市委统战部"].zone_approved
    assert exam(ctx, "市委统战部").may_register_zone
    assert "已经获得该同意" in said(await bot.send("/allow_zone 市委统战部", user=CITY))
    out = said(await bot.send("/allow_zone 市委统战部 撤销", user=CITY))
    assert "已撤销" in out and not units(ctx)["市委统战部"].zone_approved
    assert "没有因此取消" not in out  # it had registered for nothing
    assert audits(ctx, "unit.zone_approved") == [
        {"unit": "市委统战部", "approved": True},
        {"unit": "市委统战部", "approved": False},
    ]


async def test_help_lists_the_commands_for_the_city_office_only(office):
    bot = office
    city_help = said(await bot.send("/help", user=CITY))
    for command in ("/category", "/consent", "/allow_zone"):
        assert command in city_help
    assert "/consent" not in said(await bot.send("/help", user=UNIT))
