"""Exemption filings: each reason, the retirement window, the notice's steps in order with who
and when, the city office's filing as the only way to exempt, scopes, lists, audit; and the flag
on the platform: filing asks the platform to set it, a revocation to clear it, and the bot shows
the learner as exempt only once the platform has applied it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import Origin
from bot.effects import EFFECTS
from bot.exemptions import rules
from bot.exemptions import service as exemptions
from bot.exemptions.models import ExemptionFiling, ExemptionStep
from bot.platform import delivery
from bot.platform.gateway import Outcome
from bot.platform.models import PlatformTask
from bot.platform.operator import OperatorGateway
from bot.platform.sandbox import SandboxGateway
from bot.roster.models import Learner
from handlers import platform
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


def platform_tasks(ctx) -> list[PlatformTask]:
    with ctx.db.session() as s:
        return list(s.exec(select(PlatformTask).order_by(PlatformTask.requested_at)))


async def deliver(bot) -> list[str]:
    """One run of the platform worker (the action's kick may have run one already): everything
    the bot said since the last drain, the platform's results among it."""
    await platform.run_once(bot.app)
    return bot.drain()


def answer_all(ctx, outcome: Outcome) -> None:
    """The platform answers every due task with ``outcome`` (the worker's database side)."""
    origin = Origin.system("platform")
    for claimed in ctx.run_sync(delivery.claim_due, origin):
        ctx.run_sync(lambda uow, c=claimed: delivery.record(uow, c, outcome, EFFECTS), origin)


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
    # The same step again: said to be done already, not that a step before it is missing.
    out = await bot.send("/exempt_review 1", user=UNIT_ADMIN)
    assert "已完成“" in out[0] and "无需再次登记" in out[0] and "须先完成" not in out[0]
    assert [s.state for s in steps(world, 1)] == ["filed", "hr_reviewed"]  # nothing recorded twice
    clock.advance(dt.timedelta(hours=1))
    out = await bot.send("/exempt_approve 1", user=COUNTY_ADMIN)  # a unit above may record it
    assert "/exempt_file 1" in out[0]
    assert not learner(world, "ly1zhang").exempt  # approved, but not yet on file
    out = await bot.send("/exempt_file 1", user=UNIT_ADMIN)
    assert "只有" in out[0] and world.config.campaign.city_office in out[0]
    assert not learner(world, "ly1zhang").exempt
    clock.advance(dt.timedelta(hours=1))
    out = await bot.send("/exempt_file 1", user=CITY)
    assert "已提交" in out[0] and "设置免考" in out[0] and "免考生效" not in out[0]
    assert not learner(world, "ly1zhang").exempt  # asked of the platform, not yet applied
    results = (out + await deliver(bot))[1:]
    assert len(results) == 1 and "已设置免考" in results[0] and "ly1zhang" in results[0]
    assert learner(world, "ly1zhang").exempt
    out = await bot.send("/exempt_list", user=CITY)
    assert "免考生效" in out[0]
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
    assert "无需再次登记" in out[0]
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
    await deliver(bot)
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
    assert done.state == "city_filed" and not done.exempt and done.submitted
    assert not learner(ctx, "ly1zhang").exempt  # until the platform has applied it
    answer_all(ctx, Outcome.applied())
    assert learner(ctx, "ly1zhang").exempt
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
    assert actions[-6:] == [
        "exemption.filed",
        "exemption.hr_reviewed",
        "exemption.head_approved",
        "exemption.city_filed",
        "platform.task",
        "platform.applied",
    ]


# --- the flag on the platform ------------------------------------------------------------------


class RefusingGateway:
    """A platform that refuses every task with a reason."""

    name = "refusing"
    queues_for_operator = False

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.bodies: list[dict] = []

    async def deliver(self, body):
        self.bodies.append(dict(body))
        return Outcome.refused(self.reason)

    async def close(self) -> None:
        return None


async def filed(bot, account: str = "ly1zhang", words: str = "产假") -> list[str]:
    """A filing taken through the unit's steps and filed by the city office: the reply."""
    await bot.send(f"/exempt {account} {words}", user=UNIT_ADMIN)
    (filing,) = [f for f in filings(bot.ctx) if f.state == "filed"]
    await bot.send(f"/exempt_review {filing.id}", user=UNIT_ADMIN)
    await bot.send(f"/exempt_approve {filing.id}", user=UNIT_ADMIN)
    return await bot.send(f"/exempt_file {filing.id}", user=CITY)


async def test_filing_submits_an_exemption_set_task_with_its_fields(people, world):
    bot = people
    await filed(bot, "lyjyli", "退休 2024-06-30")
    (task,) = platform_tasks(world)
    assert (task.kind, task.account, task.unit_code, task.status) == (
        "exemption_set",
        "lyjyli",
        "LY-JY",
        "queued",
    )
    assert json.loads(task.payload) == {
        "filing_id": 1,
        "reason": "retirement",
        "retirement_date": "2024-06-30",
    }
    assert task.requester_name == world.config.campaign.city_office
    assert task.requester_chat_id == bot.user_id(CITY)
    with world.db.session() as s:  # the step, its audit row and the task: one transaction
        step_audit = s.exec(select(AuditLog).where(AuditLog.action == "exemption.city_filed")).one()
        task_audit = s.exec(select(AuditLog).where(AuditLog.action == "platform.task")).one()
    assert step_audit.at == task_audit.at == task.requested_at
    sandbox = bot.ctx.gateway
    await deliver(bot)
    body = sandbox.applied[task.id]
    assert body["kind"] == "exemption_set" and body["account"] == "lyjyli"
    assert body["filing_id"] == 1 and body["reason"] == "retirement"
    assert learner(world, "lyjyli").exempt


async def test_the_flag_follows_only_what_the_platform_applied(people, world):
    bot = people
    refusing = RefusingGateway("该学员在平台上不存在")
    bot.ctx.gateway = refusing
    await filed(bot)
    said = await deliver(bot)
    assert any("未能完成" in line and "该学员在平台上不存在" in line for line in said), said
    assert not learner(world, "ly1zhang").exempt  # refused: nothing mirrored
    out = await bot.send("/exempt_list", user=CITY)
    assert "尚未设置免考" in out[0] and "免考生效" not in out[0]
    # Filed again once checked: a second task, no second step. The platform is swapped while
    # no delivery run is under way (a run keeps the gateway it started with), and the action's
    # own kick may deliver the new task before this test does.
    async with platform.delivery_lock(bot.app):
        bot.ctx.gateway = SandboxGateway()
    out = await bot.send("/exempt_file 1", user=CITY)
    assert "已提交" in out[0]
    first, again = platform_tasks(world)
    assert first.status == "refused" and again.status in ("queued", "applied")
    await deliver(bot)
    assert learner(world, "ly1zhang").exempt
    assert [s.state for s in steps(world, 1)].count("city_filed") == 1
    assert audits(world, "exemption.resubmit") == 1


async def test_revoking_clears_the_flag_once_the_platform_applied_it(people, world):
    bot = people
    await filed(bot)
    await deliver(bot)
    assert learner(world, "ly1zhang").exempt
    before = audits(world)
    for who in (UNIT_ADMIN, COUNTY_ADMIN):  # the city office only
        out = await bot.send("/exempt_revoke 1 抽查不符", user=who)
        assert "只有" in out[0] and world.config.campaign.city_office in out[0]
    out = await bot.send("/exempt_revoke 1", user=CITY)  # a reason is required
    assert "请写上撤销的理由" in out[0]
    assert audits(world) == before and filings(world)[0].state == "city_filed"
    out = await bot.send("/exempt_revoke 1 抽查发现产假证明不符", user=CITY)
    assert "已提交" in out[0] and "取消该学员的免考" in out[0]
    assert filings(world)[0].state == "revoked"
    assert learner(world, "ly1zhang").exempt  # until the platform has cleared it
    clear = platform_tasks(world)[-1]
    assert (clear.kind, clear.account, clear.status) == ("exemption_clear", "ly1zhang", "queued")
    assert json.loads(clear.payload) == {"filing_id": 1, "note": "抽查发现产假证明不符"}
    results = (out + await deliver(bot))[1:]
    assert len(results) == 1 and "已取消免考" in results[0]
    assert not learner(world, "ly1zhang").exempt
    recorded = steps(world, 1)
    assert recorded[-1].state == "revoked" and recorded[-1].note == "抽查发现产假证明不符"
    assert audits(world, "exemption.revoked") == 1
    out = await bot.send("/exempt_list", user=CITY)
    assert "已撤销备案（学员不免考）" in out[0]
    out = await bot.send("/exempt_revoke 1 再次", user=CITY)  # done: nothing more to revoke
    assert "不能撤销" in out[0]
    out = await bot.send("/exempt ly1zhang 重病", user=UNIT_ADMIN)
    assert "已被" in out[0] and "撤销" in out[0]
    assert len(platform_tasks(world)) == 2


async def test_only_filed_exemptions_can_be_revoked(people, world):
    bot = people
    await bot.send("/exempt ly1zhang 产假", user=UNIT_ADMIN)
    out = await bot.send("/exempt_revoke 1 抽查不符", user=CITY)
    assert "不能撤销" in out[0] and "/exempt_reject 1" in out[0]
    out = await bot.send("/exempt_revoke abc 抽查不符", user=CITY)
    assert "/exempt_revoke 12" in out[0]
    assert platform_tasks(world) == [] and filings(world)[0].state == "filed"


async def test_revoking_what_the_platform_never_set_sends_nothing(people, world):
    bot = people
    bot.ctx.gateway = RefusingGateway("平台维护中")
    await filed(bot)
    await deliver(bot)
    out = await bot.send("/exempt_revoke 1 抽查不符", user=CITY)
    assert "无需取消" in out[0] and "已提交" not in out[0]
    assert [t.kind for t in platform_tasks(world)] == ["exemption_set"]
    assert filings(world)[0].state == "revoked" and not learner(world, "ly1zhang").exempt


async def test_operator_mode_queues_the_flag_for_the_operator(people, world):
    bot = people
    bot.ctx.gateway = OperatorGateway()
    out = await filed(bot)
    assert "已提交" in out[0]
    assert await deliver(bot) == []  # nothing is sent by the bot: the operator works the queue
    (task,) = platform_tasks(world)
    assert task.status == "queued" and not learner(world, "ly1zhang").exempt
    # While the platform has not answered, no second exemption task for the learner.
    out = await bot.send("/exempt_revoke 1 抽查不符", user=CITY)
    assert "正在等待结果" in out[0] and task.id[:8] in out[0]
    out = await bot.send("/exempt_file 1", user=CITY)
    assert "正在等待结果" in out[0]
    assert len(platform_tasks(world)) == 1

    def done(uow):
        row = uow.session.get(PlatformTask, task.id)
        return delivery.finish(uow, row, applied=True, reason="", by="市办", effects=EFFECTS)

    world.run_sync(done, Origin.cli("operator"))
    assert learner(world, "ly1zhang").exempt
    said = await deliver(bot)
    assert len(said) == 1 and "已设置免考" in said[0]
