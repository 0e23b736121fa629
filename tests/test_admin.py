"""Administrators: invites and binding, scopes, password reset, transfer, revoke, audit."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlmodel import func, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import Origin
from bot.org import invites
from bot.org.models import TelegramBinding
from bot.roster import learners
from bot.roster.models import Learner
from bot.roster.passwords import verify_password
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


@pytest.fixture
def world(ctx):
    factories.tree(ctx)
    return ctx


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


async def test_reset_in_scope_changes_hash_once(bot, world):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    before = audit_count(world, "password.reset")
    out = await bot.send("/resetpw ly1zhang", user="李老师")
    assert "张*明" in out[0] and "耒阳一中" in out[0] and "张小明" not in out[0]
    bot.user = "李老师"
    out = await bot.press(1)
    assert world.config.platform.default_password in out[-1] and "修改" in out[-1]
    row = learner_row(world, "ly1zhang")
    assert row.must_change_password and row.password_hash
    assert world.config.platform.default_password not in row.password_hash
    assert verify_password(world.config.platform.default_password, row.password_hash)
    assert audit_count(world, "password.reset") == before + 1
    out = await bot.press(1)  # a second press
    assert "已经处理过" in out[-1]
    assert audit_count(world, "password.reset") == before + 1


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
    assert learner_row(world, "ly1zhang").password_hash is None
    assert audit_count(world) == before


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


async def test_cancel_and_timeout_change_nothing(bot, world, clock):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    bot.user = "李老师"
    await bot.send("/resetpw ly1zhang")
    out = await bot.press(2)
    assert "已取消" in out[-1]
    await bot.send("/resetpw ly1zhang")
    clock.advance(dt.timedelta(minutes=6))
    out = await bot.press(1)
    assert "超时" in out[-1]
    assert learner_row(world, "ly1zhang").password_hash is None
    assert audit_count(world, "password.reset") == 0


async def test_forged_and_foreign_buttons_are_refused(bot, world):
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    factories.bind(world, "LY", "county", bot.user_id("耒阳管理员"))
    await bot.send("/resetpw ly1zhang", user="李老师")
    bot.user = "耒阳管理员"  # someone else presses the first admin's button
    out = await bot.press(1)
    assert "不属于您" in out[-1]
    message, _ = bot.last_buttons
    for data in ["act:ok:99999999", "act:ok:abc", "act:boom:1", "act:ok:" + "9" * 40]:
        bot.last_buttons = (message, [("x", data)])
        out = await bot.press(1)
        assert out and ("不属于您" in out[-1] or "无效" in out[-1]), data
    assert learner_row(world, "ly1zhang").password_hash is None


async def test_reset_rate_limit(bot, world):
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


# --- transfer, revoke, audit --------------------------------------------------------------------


async def test_transfer_by_receiving_unit(bot, world):
    factories.bind(world, "市司法局", "unit", bot.user_id("司法局管理员"))
    bot.user = "司法局管理员"
    out = await bot.send("/transfer hdzhao")
    assert "赵*" in out[0] and "衡东县" in out[0] and "市司法局" in out[0]
    out = await bot.press(1)
    assert "已调入" in out[-1]
    with world.db.session() as s:
        row = s.exec(select(Learner).where(Learner.account == "hdzhao")).one()
        from bot.org.models import Unit

        assert s.get(Unit, row.unit_id).name == "市司法局"
    assert audit_count(world, "learner.transfer") == 1
    out = await bot.send("/transfer hdzhao LY")
    assert "不在您管理的单位范围" in out[0]


async def test_city_office_revokes_and_reads_the_audit(bot, world):
    factories.bind(world, "city", "city", bot.user_id("市里"))
    factories.bind(world, "LY-JY", "unit", bot.user_id("李老师"))
    out = await bot.send("/audit", user="李老师")
    assert "只有" in out[0]
    out = await bot.send(f"/revoke {bot.user_id('李老师')}", user="市里")
    assert "已解除 1 个绑定" in out[0]
    out = await bot.send("/resetpw ly1zhang", user="李老师")
    assert "还没有绑定" in out[0]
    out = await bot.send("/audit", user="市里")
    assert "revoke" in out[0] and "bind" in out[0]


def test_cli_invite_and_audit_json(tmp_path):
    import json

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
