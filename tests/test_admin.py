"""Administrators: invites and binding, scopes, password reset, transfer, revoke, audit."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect
from sqlmodel import func, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import Origin
from bot.org import invites
from bot.org.models import TelegramBinding, Unit
from bot.platform.gateway import Outcome
from bot.platform.models import PlatformTask
from bot.platform.operator import OperatorGateway
from bot.roster import learners
from bot.roster.models import Learner
from handlers import platform as platform_worker
from tests import factories

ROOT = Path(__file__).resolve().parent.parent


def audit_count(ctx, action: str | None = None) -> int:
    with ctx.db.session() as s:
        q = select(func.count()).select_from(AuditLog)
        if action:
            q = q.where(AuditLog.action == action)
        return s.exec(q).one()


def learner_row(ctx, account: str) -> Learner:
    with ctx.db.session() as s:
        return s.exec(select(Learner).where(Learner.account == account)).one()


def issue(ctx, unit_code: str, role: str) -> str:
    request = invites.InviteRequest(unit_code=unit_code, role=role)
    return ctx.run_sync(lambda uow: invites.issue_invite(uow, request), Origin.cli()).code


def tasks(ctx) -> list[PlatformTask]:
    with ctx.db.session() as s:
        return list(s.exec(select(PlatformTask).order_by(PlatformTask.requested_at)))


def unit_of(ctx, account: str) -> str:
    with ctx.db.session() as s:
        return s.get(Unit, learner_row(ctx, account).unit_id).code


def sent_to(bot, chat_id: int, since: int = 0) -> list:
    """The new messages the bot sent into one chat since ``since`` (a request mark)."""
    return [
        c
        for c in bot.request.calls[since:]
        if c.method == "sendMessage" and int(c.params["chat_id"]) == chat_id
    ]


def buttons_of(call) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


async def press_data(bot, user: str, data: str) -> list[str]:
    """Press a button with ``data`` as ``user`` (on the last message with buttons)."""
    message, _ = bot.last_buttons
    bot.user, bot.last_buttons = user, (message, [("x", data)])
    return await bot.press(1)


async def deliver(bot) -> list[str]:
    """One run of the platform worker (as its job would): what the bot said meanwhile."""
    await platform_worker.run_once(bot.app)
    return bot.drain()


@pytest.fixture
def world(ctx):
    factories.tree(ctx)
    return ctx


@pytest.fixture
async def kicks(bot, monkeypatch) -> list:
    """The worker runs only when a test drives it (``deliver``); each kick an action asks
    for is recorded instead of run."""
    await platform_worker.stop(bot.app)
    asked: list = []
    monkeypatch.setattr(platform_worker, "kick", asked.append)
    return asked


# --- binding -----------------------------------------------------------------------------------


async def test_bind_whoami_and_single_use(bot, world):
    code = issue(world, "LY-JY", "unit")
    out = await bot.send(f"/bind {code}", user="李老师")
    assert "绑定成功" in out[0] and "耒阳市教育局" in out[0]
    out = await bot.send("/whoami", user="李老师")
    assert "耒阳市教育局" in out[0] and str(bot.user_id("李老师")) in out[0]
    out = await bot.send(f"/bind {code}", user="别人")
    assert "已经用过" in out[0]
    assert "未绑定" not in (await bot.send("/whoami", user="李老师"))[0]
    assert "还没有绑定" in (await bot.send("/whoami", user="别人"))[0]


async def test_expired_and_wrong_codes(bot, world, clock):
    code = issue(world, "LY-JY", "unit")
    clock.advance(dt.timedelta(hours=world.config.admin.invite_valid_hours, seconds=1))
    assert "已过期" in (await bot.send(f"/bind {code}"))[0]
    limit = world.config.admin.bind_attempts_per_hour
    for _ in range(limit - 1):
        assert "不正确" in (await bot.send("/bind AAAAA-BBBBB"))[0]
    fresh = issue(world, "LY-JY", "unit")
    out = await bot.send(f"/bind {fresh}")
    assert "输错邀请码已达" in out[0]
    with world.db.session() as s:
        assert s.exec(select(func.count()).select_from(TelegramBinding)).one() == 0


async def test_bind_in_group_is_refused_and_reveals_nothing(bot, world):
    code = issue(world, "LY-JY", "unit")
    out = await bot.send(f"/bind {code}", group=True)
    assert "私聊" in out[0] and code not in out[0]
    with world.db.session() as s:
        assert s.exec(select(func.count()).select_from(TelegramBinding)).one() == 0


def void_rows(ctx) -> list[AuditLog]:
    with ctx.db.session() as s:
        return list(s.exec(select(AuditLog).where(AuditLog.action == "invite.void")))


def deleted(bot, since: int = 0) -> list:
    return [c for c in bot.request.calls[since:] if c.method == "deleteMessage"]


async def test_an_invite_code_posted_in_the_group_is_void_at_once(bot, world):
    """Whatever way a code shows in a group (a plain message, lower case, spaced, /bind in the
    group), it is void: the message deleted, the group warned without the code, the city
    office told in private, the event audited; /bind with it later is refused."""
    factories.bind(world, "city", "city", bot.user_id("市里"))
    city = bot.user_id("市里")
    codes = [issue(world, "LY-JY", "unit") for _ in range(4)]
    raw = codes[2].replace("-", "")
    posts = [
        f"邀请码：{codes[0]}，请尽快绑定",
        f"/bind {codes[1].lower()}",
        f"码是{raw[:5].lower()} {raw[5:].lower()}谢谢",
        f"/bind {codes[3][:3]} {codes[3][3:]}",
    ]
    for number, (code, text) in enumerate(zip(codes, posts, strict=True), 1):
        mark = bot.request.mark()
        out = await bot.send(text, user="群成员", group=True)
        assert len(deleted(bot, mark)) == 1, text
        assert "作废" in out[0] and "私聊" in out[0], out
        assert code not in out[0] and code.replace("-", "") not in out[0].upper()
        (notice,) = sent_to(bot, city, mark)
        assert "作废" in notice.params["text"] and "耒阳市教育局" in notice.params["text"]
        assert code not in notice.params["text"]
        assert len(void_rows(world)) == number
        out = await bot.send(f"/bind {code}", user="群成员")
        assert "作废" in out[0] and "绑定成功" not in out[0]
    with world.db.session() as s:
        assert s.exec(select(func.count()).select_from(TelegramBinding)).one() == 1  # 市里
    (row, *_) = void_rows(world)
    assert row.target == "LY-JY" and row.chat_id == bot.group_id
    assert json.loads(row.detail)["issued_by"] is None  # issued on the server
    assert all(code not in row.detail for code in codes)


async def test_the_issuing_administrator_is_told_and_ordinary_talk_passes(bot, world):
    """A code the city office's administrator issued on Telegram: that administrator is told.
    Messages without a live code go on to the FAQ untouched (a used code is no secret)."""
    factories.bind(world, "city", "city", bot.user_id("市里"))
    issuer = bot.user_id("市里")
    request = invites.InviteRequest(unit_code="LY-JY", role="unit")
    code = world.run_sync(
        lambda uow: invites.issue_invite(uow, request), Origin.telegram(issuer, issuer)
    ).code
    mark = bot.request.mark()
    await bot.send(f"给你：{code}", user="群成员", group=True)
    assert len(sent_to(bot, issuer, mark)) == 1 and len(deleted(bot, mark)) == 1
    mark = bot.request.mark()
    out = await bot.send(f"给你：{code}", user="群成员", group=True)  # void already
    out += await bot.send("补考什么时候报名", user="群成员", group=True)
    assert deleted(bot, mark) == [] and sent_to(bot, issuer, mark) == []
    assert any("10月25日" in text for text in out)
    (row,) = void_rows(world)
    assert json.loads(row.detail)["issued_by"] is not None  # found by its invite.issue row


def test_codes_are_found_in_text_as_bind_reads_them():
    code = invites.new_code()
    raw = code.replace("-", "")
    for text in [
        code,
        f"邀请码{code}。",
        code.lower(),
        f"{raw[:5]} {raw[5:]}",
        raw,
        f"/bind {raw[:2]}-{raw[2:7]} {raw[7:]}",
        f"/bind@hy_bot {code}",
        "".join(chr(ord(ch) + 0xFEE0) for ch in raw),  # full-width letters and digits
    ]:
        assert invites.normalise_code(code) in invites.codes_in(text), text
    for text in ["补考什么时候报名", "请于9月20日前报名", "https://example.com/x", "", "ab"]:
        assert invites.codes_in(text) == (), text


async def test_new_administrator_takes_over_the_account(bot, world):
    await bot.send(f"/bind {issue(world, 'LY-JY', 'unit')}", user="老管理员")
    out = await bot.send(f"/bind {issue(world, 'LY-JY', 'unit')}", user="新管理员")
    assert "自动解除" in out[0]
    assert "还没有绑定" in (await bot.send("/whoami", user="老管理员"))[0]


def test_invite_refuses_wrong_role_or_unit(world):
    with pytest.raises(Refused) as info:
        issue(world, "LY-JY", "county")
    assert info.value.key == "role_mismatch"
    with pytest.raises(Refused) as info:
        issue(world, "nope", "unit")
    assert info.value.key == "unit_unknown"


# --- password reset ----------------------------------------------------------------------------


async def test_reset_is_submitted_and_the_result_comes_once_the_platform_reset(bot, world, kicks):
    uid = bot.user_id("李老师")
    factories.bind(world, "LY-JY", "unit", uid)
    default = world.config.platform.default_password
    before = audit_count(world, "password.reset")
    out = await bot.send("/resetpw ly1zhang", user="李老师")
    assert "张*明" in out[0] and "耒阳一中" in out[0] and "张小明" not in out[0]
    bot.user = "李老师"
    out = await bot.press(1)
    # Submitted, not done: nothing claims a reset the platform has not made.
    assert "已提交" in out[-1] and "如法网" in out[-1]
    assert "已重置" not in "".join(out) and default not in "".join(out)
    (task,) = tasks(world)
    assert (task.kind, task.account, task.unit_code, task.status) == (
        "password_reset",
        "ly1zhang",
        "LY-JY-1",
        "queued",
    )
    assert task.requester_chat_id == uid and task.requester_name == "耒阳市教育局"
    assert len(kicks) == 1  # the worker is asked to deliver it now
    assert audit_count(world, "password.reset") == before + 1
    # The bot holds no passwords: no hash, no flag, in the model or the database.
    columns = {c["name"] for c in inspect(world.db.engine).get_columns("learners")}
    assert not {"password_hash", "must_change_password"} & columns
    assert not hasattr(learner_row(world, "ly1zhang"), "password_hash")
    out = await bot.press(1)  # a second press
    assert "已经处理过" in out[-1]
    assert len(tasks(world)) == 1 and len(kicks) == 1
    assert audit_count(world, "password.reset") == before + 1
    # The (sandbox) platform applies it; the result arrives as a new private message, once.
    mark = bot.request.mark()
    out = await deliver(bot)
    (result,) = sent_to(bot, uid, mark)
    assert "已重置" in out[-1] and default in result.params["text"]
    assert world.gateway.applied[task.id]["kind"] == "password_reset"
    assert world.gateway.applied[task.id]["account"] == "ly1zhang"
    assert await deliver(bot) == []
    (task,) = tasks(world)
    assert task.status == "applied" and task.notified_at is not None


async def test_reset_in_operator_mode_says_the_operator_carries_it_out(bot, world, kicks):
    world.gateway = OperatorGateway()
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    bot.user = "李老师"
    await bot.send("/resetpw ly1zhang")
    out = await bot.press(1)
    assert "已提交" in out[-1] and "平台操作员" in out[-1]
    assert await deliver(bot) == []  # the operator marks it done, not the worker
    assert [t.status for t in tasks(world)] == ["queued"]


async def test_a_reset_the_platform_refuses_reaches_the_administrator(bot, world, kicks):
    class Refusing:
        name, queues_for_operator = "refusing", False

        async def deliver(self, body):
            return Outcome.refused("该账号已注销")

        async def close(self):
            return None

    world.gateway = Refusing()
    uid = bot.user_id("李老师")
    factories.bind(world, "LY-JY", "unit", uid)
    bot.user = "李老师"
    await bot.send("/resetpw ly1zhang")
    await bot.press(1)
    mark = bot.request.mark()
    await deliver(bot)
    (result,) = sent_to(bot, uid, mark)
    assert "未能完成" in result.params["text"] and "该账号已注销" in result.params["text"]
    assert world.config.platform.default_password not in result.params["text"]


@pytest.mark.parametrize(
    ("who", "role_unit", "account", "expect"),
    [
        ("路人", None, "ly1zhang", "还没有绑定"),
        ("衡东管理员", ("HD", "county"), "ly1zhang", "不在您管理的单位范围"),
        ("司法局管理员", ("市司法局", "unit"), "ly1zhang", "不在您管理的单位范围"),
        ("耒阳管理员", ("LY", "county"), "nobody01", "没有登录账号"),
        ("耒阳管理员", ("LY", "county"), "坏账号!!", "格式不对"),
        ("耒阳管理员", ("LY", "county"), "", "请在命令后写上学员的登录账号"),
    ],
)
async def test_reset_refusals_change_nothing(bot, world, who, role_unit, account, expect):
    if role_unit:
        factories.bind(world, role_unit[0], role_unit[1], bot.user_id(who))
    before = audit_count(world)
    out = await bot.send(f"/resetpw {account}".strip(), user=who)
    assert expect in out[0]
    assert "张" not in out[0]
    assert tasks(world) == []
    assert audit_count(world) == before


@pytest.mark.parametrize(
    ("who", "code", "role"),
    [
        ("衡东管理员", "HD", "county"),
        ("司法局管理员", "市司法局", "unit"),
        ("耒阳管理员", "LY", "county"),
    ],
)
async def test_an_account_outside_ones_scope_reads_as_one_that_does_not_exist(
    bot, world, who, code, role
):
    """No administrator can probe which accounts exist outside their scope: an existing
    learner of another unit and an account that exists nowhere get the same answer."""
    factories.bind(world, code, role, bot.user_id(who))
    bot.user = who
    foreign = "hdzhao" if code != "HD" else "ly1zhang"
    existing = (await bot.send(f"/resetpw {foreign}"))[0]
    missing = (await bot.send("/resetpw nobody01"))[0]
    assert existing.replace(foreign, "nobody01") == missing
    assert "不在您管理的单位范围" in missing and "没有登录账号" in missing
    assert tasks(world) == []


async def test_the_city_office_gets_the_precise_answer(bot, world):
    factories.bind(world, "city", "city", bot.user_id("市里"))
    out = await bot.send("/resetpw nobody01", user="市里")
    assert "没有登录账号" in out[0] and "不在您管理" not in out[0]


async def test_transfer_reveals_no_more_than_its_confirm_step(bot, world, kicks):
    """/transfer names a learner of another unit by nature: the account must exist, and what
    comes back is at most the masked name and the unit the confirm step shows."""
    factories.bind(world, "HD", "county", bot.user_id("衡东管理员"))
    factories.bind(world, "LY", "county", bot.user_id("耒阳管理员"))
    out = await bot.send("/transfer nobody01", user="衡东管理员")
    assert "没有登录账号" in out[0]
    bot.user = "耒阳管理员"
    await bot.send("/transfer lyjyli LY-JY-1")
    await bot.press(1)
    (task,) = tasks(world)
    out = await bot.send("/transfer lyjyli", user="衡东管理员")  # someone else's open transfer
    assert "正在办理" in out[0]
    assert task.id[:8] not in out[0] and "李四" not in out[0] and "耒阳一中" not in out[0]


async def test_county_admin_reaches_the_whole_subtree(bot, world):
    factories.bind(world, "LY", "county", bot.user_id("耒阳管理员"))
    out = await bot.send("/resetpw ly1zhang", user="耒阳管理员")
    assert (
        "确认"
        in bot.request.of("sendMessage")[-1].params["reply_markup"]["inline_keyboard"][0][0]["text"]
    )
    assert "耒阳一中" in out[0]


async def test_reset_in_group_reveals_nothing(bot, world):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    out = await bot.send("/resetpw ly1zhang", group=True, user="李老师")
    assert "私聊" in out[0] and "张" not in out[0] and "耒阳" not in out[0]


async def test_cancel_and_timeout_change_nothing(bot, world, clock, kicks):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    bot.user = "李老师"
    await bot.send("/resetpw ly1zhang")
    out = await bot.press(2)
    assert "已取消" in out[-1]
    await bot.send("/resetpw ly1zhang")
    clock.advance(dt.timedelta(minutes=6))
    out = await bot.press(1)
    assert "超时" in out[-1]
    assert tasks(world) == [] and kicks == []
    assert audit_count(world, "password.reset") == 0


async def test_forged_and_foreign_buttons_are_refused(bot, world, kicks):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    factories.bind(world, "LY", "county", bot.user_id("耒阳管理员"))
    await bot.send("/resetpw ly1zhang", user="李老师")
    bot.user = "耒阳管理员"  # someone else presses the first admin's button
    out = await bot.press(1)
    assert "不属于您" in out[-1]
    message, _ = bot.last_buttons
    forged = ["act:ok:99999999", "act:ok:abc", "act:boom:1", "act:ok:" + "9" * 40]
    forged += ["act:ap:" + "0" * 32, "act:dn:" + "f" * 32, "act:ap:1", "act:ap:" + "z" * 32]
    for data in forged:
        bot.last_buttons = (message, [("x", data)])
        out = await bot.press(1)
        assert out and ("不属于您" in out[-1] or "无效" in out[-1]), data
    assert tasks(world) == [] and kicks == []


async def test_reset_rate_limit(bot, world, kicks):
    world.config = world.config.model_copy(
        update={"admin": world.config.admin.model_copy(update={"reset_limit_per_hour": 2})}
    )
    factories.bind(world, "LY", "county", bot.user_id("耒阳管理员"))
    bot.user = "耒阳管理员"
    for account in ["ly1zhang", "lyjyli"]:
        await bot.send(f"/resetpw {account}")
        await bot.press(1)
    out = await bot.send("/resetpw ly1zhang")
    assert "达到上限" in out[0]
    assert audit_count(world, "password.reset") == 2
    assert [t.account for t in tasks(world)] == ["ly1zhang", "lyjyli"]


async def test_anonymous_group_admin_is_refused(bot, world):
    update = {
        "update_id": 999,
        "message": {
            "message_id": 5,
            "date": 0,
            "chat": {"id": bot.group_id, "type": "supergroup", "title": "g"},
            "sender_chat": {"id": bot.group_id, "type": "supergroup", "title": "g"},
            "from": {
                "id": 1087968824,
                "is_bot": True,
                "first_name": "Group",
                "username": "GroupAnonymousBot",
            },
            "text": "/whoami",
            "entities": [{"type": "bot_command", "offset": 0, "length": 7}],
        },
    }
    out = await bot._process(update)
    assert "私聊" in out[0] or "匿名" in out[0]
    update["message"]["chat"] = {"id": 5555, "type": "private", "first_name": "x"}
    update["update_id"] = 1000
    out = await bot._process(update)
    assert "匿名" in out[0]


def test_concurrent_confirms_apply_once(any_ctx):
    factories.tree(any_ctx)
    factories.bind(any_ctx, "LY", "county", 777)
    admin = Origin.telegram(777, 777)
    request = learners.ResetRequest("ly1zhang")
    preview = any_ctx.run_sync(lambda uow: learners.prepare_reset(uow, request), admin)
    decision = learners.Decision(preview.action_id, confirm=True)
    results: list[str] = []
    barrier = threading.Barrier(6)

    def press():
        barrier.wait()
        try:
            any_ctx.run_sync(lambda uow: learners.decide(uow, decision), admin)
            results.append("done")
        except Refused as refusal:
            results.append(refusal.key)
        except Exception as exc:  # a database lock error would count as a failure, not a win
            results.append(type(exc).__name__)

    threads = [threading.Thread(target=press) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("done") == 1, results
    assert set(results) <= {"done", "action_done", "OperationalError"}
    assert audit_count(any_ctx, "password.reset") == 1
    assert [(t.kind, t.account) for t in tasks(any_ctx)] == [("password_reset", "ly1zhang")]


# --- transfer, revoke, audit --------------------------------------------------------------------


async def test_transfer_inside_the_county_is_queued_and_moves_the_learner_when_applied(
    bot, world, kicks
):
    """耒阳市's administrator takes 李四 from 耒阳市教育局 into 耒阳一中: no approval, the
    origin unit is told, and the roster follows only once the platform applied it."""
    county, origin = bot.user_id("耒阳管理员"), bot.user_id("教育局管理员")
    factories.bind(world, "LY", "county", county)
    factories.bind(world, "LY-JY", "unit", origin)
    bot.user = "耒阳管理员"
    out = await bot.send("/transfer lyjyli LY-JY-1")
    assert "李*" in out[0] and "耒阳一中" in out[0] and "须经" not in out[0]
    mark = bot.request.mark()
    out = await bot.press(1)
    assert "已提交" in out[-1] and "已通知调出单位" in out[-1] and "已调入" not in out[-1]
    (task,) = tasks(world)
    assert (task.kind, task.account, task.unit_code, task.status) == (
        "transfer",
        "lyjyli",
        "LY-JY-1",
        "queued",
    )
    assert world.gateway.applied == {} and len(kicks) == 1
    (notice,) = sent_to(bot, origin, mark)
    assert "耒阳市" in notice.params["text"] and "lyjyli" in notice.params["text"]
    assert buttons_of(notice) == []  # told, not asked
    assert unit_of(world, "lyjyli") == "LY-JY"  # not before the platform applied it
    mark = bot.request.mark()
    await deliver(bot)
    body = world.gateway.applied[task.id]
    assert (body["from_unit_code"], body["from_unit_name"]) == ("LY-JY", "耒阳市教育局")
    assert (body["to_unit_code"], body["to_unit_name"]) == ("LY-JY-1", "耒阳一中")
    (result,) = sent_to(bot, county, mark)
    assert "已调入" in result.params["text"]
    assert unit_of(world, "lyjyli") == "LY-JY-1"
    assert audit_count(world, "learner.transfer") == 1


async def cross_county_request(bot, world) -> tuple[PlatformTask, dict[str, object]]:
    """市司法局 (a unit under the city) takes 赵六 from 衡东县: approval is needed. The calls
    the confirm sent to 衡东县's and the city office's administrators, by name."""
    for name, code, role in [
        ("司法局管理员", "市司法局", "unit"),
        ("衡东管理员", "HD", "county"),
        ("市里", "city", "city"),
    ]:
        factories.bind(world, code, role, bot.user_id(name))
    bot.user = "司法局管理员"
    out = await bot.send("/transfer hdzhao")
    assert "赵*" in out[0] and "衡东县" in out[0] and "市司法局" in out[0]
    assert "须经" in out[0]
    mark = bot.request.mark()
    out = await bot.press(1)
    assert "已提交" in out[-1] and "同意" in out[-1] and "已调入" not in out[-1]
    (task,) = tasks(world)
    assert task.status == "awaiting_approval"
    sent = {}
    for name in ("衡东管理员", "市里"):
        (sent[name],) = sent_to(bot, bot.user_id(name), mark)
        assert "赵*" in sent[name].params["text"] and "市司法局" in sent[name].params["text"]
        assert buttons_of(sent[name]) == [f"act:ap:{task.id}", f"act:dn:{task.id}"]
    return task, sent


async def test_cross_county_transfer_waits_for_the_origins_approval(bot, world, kicks):
    task, sent = await cross_county_request(bot, world)
    assert kicks == [] and await deliver(bot) == [] and world.gateway.applied == {}
    # Until the platform applied it, the learner is not the receiving unit's to reset.
    out = await bot.send("/resetpw hdzhao", user="司法局管理员")
    assert "不在您管理的单位范围" in out[0]
    assert unit_of(world, "hdzhao") == "HD"
    # 衡东县 agrees: the task is queued and delivered; the roster follows.
    bot.last_buttons = (bot.request.message_for(sent["衡东管理员"].params), [])
    out = await press_data(bot, "衡东管理员", f"act:ap:{task.id}")
    assert "已同意" in out[-1]
    assert [t.status for t in tasks(world)] == ["queued"] and len(kicks) == 1
    assert audit_count(world, "transfer.approve") == 1
    mark = bot.request.mark()
    await deliver(bot)
    (result,) = sent_to(bot, bot.user_id("司法局管理员"), mark)
    assert "已调入" in result.params["text"]
    assert unit_of(world, "hdzhao") == "市司法局"
    assert audit_count(world, "learner.transfer") == 1
    # The city office's buttons are spent: one answer decides.
    out = await press_data(bot, "市里", f"act:dn:{task.id}")
    assert "已经处理过" in out[-1]
    assert [t.status for t in tasks(world)] == ["applied"]
    # Now the learner is in scope; a unit outside the administrator's scope stays refused.
    out = await bot.send("/resetpw hdzhao", user="司法局管理员")
    assert "赵*" in out[0] and "确认" in bot.last_buttons[1][0][0]
    out = await bot.send("/transfer hdzhao LY", user="司法局管理员")
    assert "不在您管理的单位范围" in out[0]


async def test_a_denied_transfer_is_cancelled_and_the_requester_told(bot, world, kicks):
    task, _ = await cross_county_request(bot, world)
    mark = bot.request.mark()
    out = await press_data(bot, "市里", f"act:dn:{task.id}")
    assert "已拒绝" in out[-1] and "已告知调入单位" in out[-1]
    (told,) = sent_to(bot, bot.user_id("司法局管理员"), mark)
    assert "未调入" in told.params["text"] and "市委依法治市办" in told.params["text"]
    (row,) = tasks(world)
    assert row.status == "cancelled" and row.finished_by == "市委依法治市办"
    assert kicks == [] and await deliver(bot) == [] and world.gateway.applied == {}
    assert unit_of(world, "hdzhao") == "HD"
    out = await press_data(bot, "衡东管理员", f"act:ap:{task.id}")
    assert "已经处理过" in out[-1]
    assert [t.status for t in tasks(world)] == ["cancelled"]
    # Cancelled, the transfer may be asked again.
    out = await bot.send("/transfer hdzhao", user="司法局管理员")
    assert "须经" in out[0]


async def test_forged_approvals_are_refused(bot, world, kicks):
    task, _ = await cross_county_request(bot, world)
    factories.bind(world, "LY", "county", bot.user_id("耒阳管理员"))
    with world.db.session() as s:
        before = s.exec(select(func.count()).select_from(AuditLog)).one()
    for who, data, expect in [
        ("路人", f"act:ap:{task.id}", "还没有绑定"),
        ("耒阳管理员", f"act:ap:{task.id}", "不属于您"),  # another county's administrator
        ("司法局管理员", f"act:ap:{task.id}", "不属于您"),  # the requester
        ("司法局管理员", f"act:dn:{task.id}", "不属于您"),
        ("市里", "act:ap:" + "0" * 32, "不属于您"),  # no such task
        ("衡东管理员", f"act:ap:{task.id[:8]}", "无效"),  # not a full task id
        ("衡东管理员", f"act:ap:{task.id}x", "无效"),
    ]:
        out = await press_data(bot, who, data)
        assert out and expect in out[-1], (who, data, out)
    assert [t.status for t in tasks(world)] == ["awaiting_approval"] and kicks == []
    with world.db.session() as s:
        assert s.exec(select(func.count()).select_from(AuditLog)).one() == before
    # A reset task is no transfer to approve.
    await bot.send("/resetpw ly1zhang", user="耒阳管理员")
    bot.user = "耒阳管理员"
    await bot.press(1)
    reset = next(t for t in tasks(world) if t.kind == "password_reset")
    out = await press_data(bot, "市里", f"act:ap:{reset.id}")
    assert "不属于您" in out[-1]


async def test_with_the_setting_off_a_cross_county_transfer_is_queued_at_once(bot, world, kicks):
    platform = world.config.platform.model_copy(update={"cross_county_transfer_approval": False})
    world.config = world.config.model_copy(update={"platform": platform})
    factories.bind(world, "市司法局", "unit", bot.user_id("司法局管理员"))
    factories.bind(world, "HD", "county", bot.user_id("衡东管理员"))
    factories.bind(world, "city", "city", bot.user_id("市里"))
    bot.user = "司法局管理员"
    out = await bot.send("/transfer hdzhao")
    assert "须经" not in out[0]
    mark = bot.request.mark()
    out = await bot.press(1)
    assert "已提交" in out[-1] and "须经" not in out[-1]
    assert [t.status for t in tasks(world)] == ["queued"] and len(kicks) == 1
    (notice,) = sent_to(bot, bot.user_id("衡东管理员"), mark)
    assert buttons_of(notice) == []
    assert sent_to(bot, bot.user_id("市里"), mark) == []  # nobody needs to be asked
    await deliver(bot)
    assert unit_of(world, "hdzhao") == "市司法局"


async def test_a_transfer_the_platform_refuses_leaves_the_roster_alone(bot, world, kicks):
    class Refusing:
        name, queues_for_operator = "refusing", False

        async def deliver(self, body):
            return Outcome.refused("调出单位尚未办理离职")

        async def close(self):
            return None

    world.gateway = Refusing()
    requester = bot.user_id("耒阳管理员")
    factories.bind(world, "LY", "county", requester)
    bot.user = "耒阳管理员"
    await bot.send("/transfer lyjyli LY-JY-1")
    out = await bot.press(1)
    assert "暂无已绑定的管理员" in out[-1]  # 耒阳市教育局 has no administrator to tell
    out = await bot.send("/transfer lyjyli LY")  # one open transfer of a learner at a time
    assert "正在办理" in out[0]
    mark = bot.request.mark()
    await deliver(bot)
    (result,) = sent_to(bot, requester, mark)
    assert "未能完成" in result.params["text"] and "调出单位尚未办理离职" in result.params["text"]
    assert unit_of(world, "lyjyli") == "LY-JY"
    assert audit_count(world, "learner.transfer") == 0


async def test_city_office_revokes_and_reads_the_audit(bot, world):
    factories.bind(world, "city", "city", bot.user_id("市里"))
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    out = await bot.send("/audit", user="李老师")
    assert "只有" in out[0]
    bot.user = "市里"
    await bot.send(f"/revoke {bot.user_id('李老师')}")
    out = await bot.press(1)
    assert "已解除 1 个绑定" in out[-1]
    out = await bot.send("/resetpw ly1zhang", user="李老师")
    assert "还没有绑定" in out[0]
    out = await bot.send("/audit", user="市里")
    assert "revoke" in out[0] and "bind" in out[0]


def bound(ctx, telegram_user_id: int) -> bool:
    with ctx.db.session() as s:
        return (
            s.exec(
                select(TelegramBinding).where(
                    TelegramBinding.telegram_user_id == telegram_user_id,
                    TelegramBinding.revoked_at.is_(None),
                )
            ).first()
            is not None
        )


async def test_revoke_asks_first_and_its_confirm_is_claimed_once(bot, world):
    factories.bind(world, "city", "city", bot.user_id("市里"))
    teacher = bot.user_id("李老师")
    factories.bind(world, "LY-JY", "unit", teacher)
    bot.user = "市里"
    out = await bot.send(f"/revoke {teacher}")
    assert "确认" in out[0] and "耒阳市教育局" in out[0]
    assert bound(world, teacher) and audit_count(world, "revoke") == 0
    confirm, _cancel = (data for _, data in bot.last_buttons[1])
    out = await bot.press(2)
    assert "取消" in out[-1] and bound(world, teacher)
    message, _ = bot.last_buttons
    bot.last_buttons = (message, [("x", confirm)])
    out = await bot.press(1)
    assert "已解除 1 个绑定" in out[-1] and not bound(world, teacher)
    # The same button again, after 李老师 was bound anew: the new binding stays.
    factories.bind(world, "LY-JY", "unit", teacher)
    out = await bot.press(1)
    assert "已经处理过" in out[-1] and bound(world, teacher)
    assert audit_count(world, "revoke") == 1
    # Forged and foreign presses change nothing.
    for data in ["rv:ok:x:u1", "rv:ok:1:q1", "rv:ok:" + "9" * 40 + ":u1", "rv:boom"]:
        bot.last_buttons = (message, [("x", data)])
        out = await bot.press(1)
        assert out and "无效" in out[-1], data
    bot.last_buttons = (message, [("x", confirm)])
    out = await press_data(bot, "李老师", confirm)
    assert "只有" in out[-1] and bound(world, teacher)


async def test_the_city_office_cannot_revoke_its_last_binding(bot, world):
    city = bot.user_id("市里")
    factories.bind(world, "city", "city", city)
    factories.bind(world, "city", "operator", bot.user_id("操作员"))
    for target in [str(city), "city"]:
        mark = bot.request.mark()
        out = await bot.send(f"/revoke {target}", user="市里")
        (answer,) = sent_to(bot, city, mark)
        assert "最后" in out[0] and not answer.params.get("reply_markup"), target
        assert bound(world, city)
    # The operator's binding alone may go.
    bot.user = "市里"
    await bot.send(f"/revoke {bot.user_id('操作员')}")
    out = await bot.press(1)
    assert "已解除 1 个绑定" in out[-1] and bound(world, city)


def test_the_cli_refuses_the_last_city_binding_unless_forced(world):
    from bot.org import admins

    factories.bind(world, "city", "city", 4242)
    request = admins.RevokeRequest(unit_code="city")
    with pytest.raises(Refused) as refused:
        world.run_sync(lambda uow: admins.revoke(uow, request), Origin.cli())
    assert refused.value.key == "revoke_last_city_cli"
    assert "--force" in refused.value.render(c=world.config)
    assert bound(world, 4242)
    forced = admins.RevokeRequest(unit_code="city", force=True)
    done = world.run_sync(lambda uow: admins.revoke(uow, forced), Origin.cli())
    assert done.telegram_user_ids == (4242,) and not bound(world, 4242)


def test_cli_invite_and_audit_json(tmp_path):

    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PATH": "/usr/bin:/bin"}
    run = lambda *a: subprocess.run(  # noqa: E731
        [sys.executable, "-m", "bot", *a],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    done = run("invite", "--unit", "市司法局", "--role", "unit")
    assert done.returncode == 0, done.stderr
    code = done.stdout.strip()
    assert len(code) == 11 and "-" in code
    bad = run("invite", "--unit", "不存在", "--role", "unit")
    assert bad.returncode == 1 and "找不到单位编码" in bad.stderr
    log = run("audit", "--json")
    rows = [json.loads(line) for line in log.stdout.splitlines()]
    assert [r["action"] for r in rows] == ["seed", "invite.issue"]
    assert code not in log.stdout  # only the hash is ever stored
    nothing = run("admin", "revoke", "--telegram-id", "42")
    assert nothing.returncode == 1


async def test_help_reflects_a_new_binding_at_once(bot, world):
    out = await bot.send("/help", user="新人")
    assert "/resetpw" not in out[0]
    await bot.send(f"/bind {issue(world, 'LY-JY', 'unit')}", user="新人")
    out = await bot.send("/help", user="新人")
    assert "/resetpw" in out[0]


async def test_the_audit_shows_the_year(bot, world):
    """Audit rows outlive a campaign: each shows its year, not only month and day."""
    factories.bind(world, "city", "city", bot.user_id("市里"))
    out = await bot.send("/audit", user="市里")
    assert world.now().strftime("%Y-%m-%d") in out[0]
