"""/start, /help and unknown commands through the real Application (offline Telegram)."""

from __future__ import annotations

import datetime as dt

from sqlmodel import select

from bot.org.models import Administrator, Role, TelegramBinding, Unit


async def test_start_and_help_in_private(bot):
    out = await bot.send("/start")
    assert len(out) == 1 and "学法考法管理员助手" in out[0]
    out = await bot.send("/help")
    assert "/faq" in out[0] and "/help" in out[0]
    assert bot.request.of("setMyCommands"), "command menus are set at start"


async def test_command_menus_per_scope(bot):
    scopes = {
        c.params["scope"]["type"]: c.params["commands"] for c in bot.request.of("setMyCommands")
    }
    assert set(scopes) == {"all_private_chats", "all_group_chats"}
    private = {c["command"] for c in scopes["all_private_chats"]}
    group = {c["command"] for c in scopes["all_group_chats"]}
    assert "start" in private and "start" not in group and "faq" in group
    assert all(c["description"] for c in scopes["all_private_chats"])


async def test_unknown_command_gets_a_hint(bot):
    out = await bot.send("/frobnicate now")
    assert len(out) == 1 and "/frobnicate" in out[0] and "/help" in out[0]


async def test_group_commands_for_other_bots_are_ignored(bot):
    assert await bot.send("/help@some_other_bot", group=True) == []
    out = await bot.send("/help@xuefa_sandbox_bot", group=True)
    assert len(out) == 1 and "群内" in out[0]


async def test_hostile_command_text_is_escaped(bot):
    await bot.send("/<b>x</b>")
    sent = bot.request.of("sendMessage")[-1].params["text"]
    assert "<b>x</b>" not in sent and "&lt;b&gt;" in sent


async def test_help_follows_the_binding(bot, ctx):
    uid = bot.user_id("市司法局管理员")
    now = dt.datetime(2022, 9, 14, 10, tzinfo=ctx.config.tz)
    with ctx.db.session() as s:
        unit = s.exec(select(Unit).where(Unit.name == "市司法局")).one()
        admin = Administrator(unit_id=unit.id, role=Role.UNIT, name="", created_at=now)
        s.add(admin)
        s.flush()
        s.add(TelegramBinding(admin_id=admin.id, telegram_user_id=uid, bound_at=now))
    out = await bot.send("/start", user="市司法局管理员")
    assert "市司法局" in out[0]
    out = await bot.send("/start", user="路人")
    assert "市司法局" not in out[0]
