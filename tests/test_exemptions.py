"""Exemption filings: each reason, the retirement window, the notice's steps in order with who
and when, the city office's filing as the only way to exempt, scopes, lists, audit."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import Origin
from bot.exemptions import rules
from bot.exemptions import service as exemptions
from bot.exemptions.models import ExemptionFiling, ExemptionStep
from bot.roster.models import Learner
from tests import factories

UNIT_ADMIN, COUNTY_ADMIN, OTHER_COUNTY, CITY = "李老师", "耒阳管理员", "衡东管理员", "市办"


@pytest.fixture
def world(ctx):
    factories.tree(ctx)
    return ctx


@pytest.fixture
def people(bot, world):
    for who, unit, role in (
        (UNIT_ADMIN, "LY-JY", "unit"),
        (COUNTY_ADMIN, "LY", "county"),
        (OTHER_COUNTY, "HD", "county"),
        (CITY, "city", "city"),
    ):
        factories.bind(world, unit, role, bot.user_id(who))
    return bot


def audits(ctx, prefix: str = "") -> int:
    with ctx.db.session() as s:
        q = select(func.count()).select_from(AuditLog)
        if prefix:
            q = q.where(AuditLog.action.startswith(prefix))
        return s.exec(q).one()


def learner(ctx, account: str) -> Learner:
    with ctx.db.session() as s:
        return s.exec(select(Learner).where(Learner.account == account)).one()


def filings(ctx) -> list[ExemptionFiling]:
    with ctx.db.session() as s:
        return list(s.exec(select(ExemptionFiling).order_by(ExemptionFiling.id)))


def steps(ctx, filing_id: int) -> list[ExemptionStep]:
    with ctx.db.session() as s:
        return list(
            s.exec(
                select(ExemptionStep)
                .where(ExemptionStep.filing_id == filing_id)
                .order_by(ExemptionStep.id)
            )
        )


def as_admin(ctx, uid: int, work):
    """``work`` in one unit of work of the administrator bound to Telegram user ``uid``."""
    return ctx.run_sync(work, Origin.telegram(uid, uid))


# --- the whole procedure through the bot -------------------------------------------------------


async def test_filing_moves_through_the_steps_and_only_the_city_exempts(people, world, clock):
    bot = people
    out = await bot.send("/exempt ly1zhang 产假", user=UNIT_ADMIN)
    assert "免考备案 #1" in out[0] and "张*明" in out[0] and "张小明" not in out[0]
    assert "正在休产假" in out[0] and "/exempt_review 1" in out[0]
    # Out of order: the head cannot approve before HR has reviewed.
    out = await bot.send("/exempt_approve 1", user=UNIT_ADMIN)
    assert "须先完成“单位组织人事部门审查”" in out[0]
    clock.advance(dt.timedelta(hours=1))
    out = await bot.send("/exempt_review 1 人事科王科长", user=UNIT_ADMIN)
    assert "组织人事部门已审查" in out[0] and "/exempt_approve 1" in out[0]
    clock.advance(dt.timedelta(hours=1))
    out = await bot.send("/exempt_approve 1", user=COUNTY_ADMIN)  # a unit above may record it
    assert "/exempt_file 1" in out[0]
    assert not learner(world, "ly1zhang").exempt  # approved, but not yet on file
    out = await bot.send("/exempt_file 1", user=UNIT_ADMIN)
    assert "只有" in out[0] and world.config.campaign.city_office in out[0]
    assert not learner(world, "ly1zhang").exempt
    clock.advance(dt.timedelta(hours=1))
    out = await bot.send("/exempt_file 1", user=CITY)
    assert "免考生效" in out[0]
    assert learner(world, "ly1zhang").exempt
    recorded = steps(world, 1)
    assert [s.state for s in recorded] == ["filed", "hr_reviewed", "head_approved", "city_filed"]
    assert [s.actor for s in recorded] == [
        "耒阳市教育局",
        "耒阳市教育局",
        "耒阳市",
        world.config.campaign.city_office,
    ]
    assert [s.telegram_user_id for s in recorded] == [
        bot.user_id(w) for w in (UNIT_ADMIN, UNIT_ADMIN, COUNTY_ADMIN, CITY)
    ]
    assert recorded[1].note == "人事科王科长"
    assert [s.at for s in recorded] == sorted(s.at for s in recorded) and len(
        {s.at for s in recorded}
    ) == 4
    assert audits(world, "exemption.") == 4
    # A second press of the last step changes nothing.
    out = await bot.send("/exempt_file 1", user=CITY)
    assert "不能登记" in out[0]
    assert audits(world, "exemption.") == 4


@pytest.mark.parametrize(
    ("words", "reason"),
    [
        ("退休 2024-06-30", "retirement"),
        ("retirement 2023/1/15", "retirement"),
        ("产假", "maternity"),
        ("maternity", "maternity"),
        ("重病", "illness"),
        ("疾病", "illness"),
        ("illness", "illness"),
    ],
)
async def test_each_reason_opens_a_filing(people, world, words, reason):
    out = await people.send(f"/exempt lyjyli {words}", user=UNIT_ADMIN)
    assert "免考备案 #1" in out[0]
    (filing,) = filings(world)
    assert filing.reason == reason and filing.state == "filed"
    assert (filing.retirement_date is not None) == (reason == "retirement")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("退休 2024-12-31", "不晚于2024年12月30日"),
        ("退休 2030-01-01", "不符合免考条件"),
        ("退休 2022-09-01", "已经过了"),
        ("退休", "须写退休日期"),
        ("退休 明年", "格式不对"),
        ("退休 2023-02-30", "格式不对"),
        ("调休", "无法识别"),
        ("", "用法"),
    ],
)
async def test_bad_filings_are_refused_and_change_nothing(people, world, words, expected):
    before = audits(world)
    out = await people.send(f"/exempt lyjyli {words}".strip(), user=UNIT_ADMIN)
    assert expected in out[0]
    assert filings(world) == [] and audits(world) == before


def test_retirement_window_edges(world):
    config = world.config
    cutoff = config.exemption.retirement_cutoff
    latest = cutoff.replace(year=cutoff.year + config.exemption.retirement_within_years)
    today = world.now().date()
    assert rules.retirement_window(config, today) == (today, latest)
    factories.bind(world, "LY", "county", 900)
    for n, day in enumerate((today, cutoff, latest)):
        account = f"retire{n}"
        factories.learner(world, account, "退休人", "LY-JY")
        request = exemptions.OpenFiling(account, "退休", day.isoformat())
        view = as_admin(world, 900, lambda uow, r=request: exemptions.open_filing(uow, r))
        assert view.retirement_date == day
    factories.learner(world, "retire9", "退休人", "LY-JY")
    late = exemptions.OpenFiling("retire9", "retirement", latest + dt.timedelta(days=1))
    with pytest.raises(Refused) as info:
        as_admin(world, 900, lambda uow: exemptions.open_filing(uow, late))
    assert info.value.key == "exempt_retirement_window"


# --- scope -------------------------------------------------------------------------------------


async def test_out_of_scope_administrators_can_do_nothing(people, world):
    bot = people
    out = await bot.send("/exempt ly1zhang 产假", user=OTHER_COUNTY)
    assert "不在您管理的单位范围" in out[0]
    assert filings(world) == []
    await bot.send("/exempt ly1zhang 产假", user=UNIT_ADMIN)
    before = audits(world)
    for command in ("/exempt_review 1", "/exempt_approve 1", "/exempt_reject 1"):
        out = await bot.send(command, user=OTHER_COUNTY)
        assert "不在您管理的单位范围" in out[0], command
    out = await bot.send("/exempt_list", user=OTHER_COUNTY)
    assert "暂无免考备案" in out[0] and "ly1zhang" not in out[0]
    out = await bot.send("/exempt_review 99", user=UNIT_ADMIN)
    assert "找不到编号为 99" in out[0]
    out = await bot.send("/exempt_review abc", user=UNIT_ADMIN)
    assert "请在命令后写上免考备案编号" in out[0]
    out = await bot.send("/exempt ly1zhang 产假", user="路人")
    assert "还没有绑定" in out[0]
    out = await bot.send("/exempt ly1zhang 产假", user=UNIT_ADMIN, group=True)
    assert "私聊" in out[0] and "张" not in out[0]
    assert audits(world) == before and filings(world)[0].state == "filed"


async def test_lists_follow_the_scope(people, world):
    bot = people
    await bot.send("/exempt ly1zhang 产假", user=UNIT_ADMIN)
    await bot.send("/exempt hdzhao 重病", user=OTHER_COUNTY)
    await bot.send("/exempt sfjwang 退休 2024-01-01", user=CITY)
    out = await bot.send("/exempt_list", user=UNIT_ADMIN)
    assert "ly1zhang" in out[0] and "hdzhao" not in out[0] and "sfjwang" not in out[0]
    out = await bot.send("/exempt_list", user=OTHER_COUNTY)
    assert "hdzhao" in out[0] and "ly1zhang" not in out[0]
    out = await bot.send("/exempt_list", user=CITY)
    assert all(a in out[0] for a in ("ly1zhang", "hdzhao", "sfjwang")) and "全市" in out[0]
    assert "临近退休" in out[0] and "已登记申请" in out[0]


# --- no other way to exempt --------------------------------------------------------------------


async def test_setting_exemption_directly_is_refused_and_explained(people, world):
    bot = people
    before = audits(world)
    for command in ("/exempt_set ly1zhang", "/exempt_set"):
        out = await bot.send(command, user=UNIT_ADMIN)
        assert "不能直接设置免考" in out[0]
        assert world.config.exemption.forbidden in out[0]
        assert "单位组织人事部门审查" in out[0]
    out = await bot.send("/exempt_set ly1zhang", user=CITY)  # not even the city office
    assert "不能直接设置免考" in out[0]
    assert not learner(world, "ly1zhang").exempt and audits(world) == before
    # With the filing on file, it only shows that filing.
    await bot.send("/exempt ly1zhang 重病", user=UNIT_ADMIN)
    await bot.send("/exempt_review 1", user=UNIT_ADMIN)
    await bot.send("/exempt_approve 1", user=UNIT_ADMIN)
    await bot.send("/exempt_file 1", user=CITY)
    out = await bot.send("/exempt_set ly1zhang", user=UNIT_ADMIN)
    assert "免考备案 #1" in out[0] and "免考生效" in out[0]
    out = await bot.send("/exempt ly1zhang 产假", user=UNIT_ADMIN)
    assert "已经是免考状态" in out[0]


async def test_one_open_filing_per_learner_and_rejection(people, world):
    bot = people
    await bot.send("/exempt ly1zhang 产假", user=UNIT_ADMIN)
    out = await bot.send("/exempt ly1zhang 重病", user=COUNTY_ADMIN)
    assert "已有免考备案 #1" in out[0]
    await bot.send("/exempt_review 1", user=UNIT_ADMIN)
    out = await bot.send("/exempt_reject 1 证明材料不全", user=UNIT_ADMIN)
    assert "已退回" in out[0] and "证明材料不全" in out[0]
    out = await bot.send("/exempt_approve 1", user=UNIT_ADMIN)
    assert "不能登记" in out[0]
    out = await bot.send("/exempt_reject 1", user=UNIT_ADMIN)
    assert "已办结" in out[0]
    out = await bot.send("/exempt ly1zhang 重病", user=UNIT_ADMIN)
    assert "免考备案 #2" in out[0]
    assert not learner(world, "ly1zhang").exempt
    assert audits(world, "exemption.rejected") == 1


async def test_learners_out_of_service_or_unknown(people, world):
    factories.learner(world, "gone01", "离职人", "LY-JY", in_service=False)
    out = await people.send("/exempt gone01 产假", user=UNIT_ADMIN)
    assert "不在职" in out[0]
    out = await people.send("/exempt nobody 产假", user=UNIT_ADMIN)
    assert "没有登录账号" in out[0]
    assert filings(world) == []


# --- services on every database ----------------------------------------------------------------


def test_service_flow_and_the_open_filing_constraint(any_ctx):
    ctx = any_ctx
    factories.tree(ctx)
    factories.bind(ctx, "LY-JY", "unit", 801)
    factories.bind(ctx, "city", "city", 802)
    now = ctx.now()
    view = as_admin(
        ctx,
        801,
        lambda uow: exemptions.open_filing(uow, exemptions.OpenFiling("ly1zhang", "illness")),
    )

    def review_and_approve(uow):
        exemptions.advance(uow, exemptions.StepRequest(view.id, "hr_reviewed"))
        exemptions.advance(uow, exemptions.StepRequest(view.id, "head_approved"))

    as_admin(ctx, 801, review_and_approve)
    with pytest.raises(Refused) as info:
        as_admin(
            ctx,
            801,
            lambda uow: exemptions.advance(uow, exemptions.StepRequest(view.id, "city_filed")),
        )
    assert info.value.key == "exempt_step_unknown"
    note = exemptions.FilingNote(view.id, note="备案号 2022-01")
    done = as_admin(ctx, 802, lambda uow: exemptions.file_with_city(uow, note))
    assert done.state == "city_filed" and done.exempt
    # The database itself refuses a second open filing for the same learner.
    with pytest.raises(IntegrityError), ctx.db.session() as s:
        s.add(
            ExemptionFiling(
                learner_id=learner(ctx, "ly1zhang").id,
                reason="maternity",
                state="filed",
                created_at=now,
                updated_at=now,
            )
        )
        s.flush()
    assert [f.id for f in as_admin(ctx, 801, exemptions.list_filings).filings] == [view.id]
    assert len(as_admin(ctx, 802, exemptions.list_filings).filings) == 1
    with ctx.db.session() as s:
        actions = [a.action for a in s.exec(select(AuditLog).order_by(AuditLog.id))]
    assert actions[-4:] == [
        "exemption.filed",
        "exemption.hr_reviewed",
        "exemption.head_approved",
        "exemption.city_filed",
    ]
