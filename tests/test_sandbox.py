"""The offline sandbox: piped input, meta lines, and an administrator's first steps."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
from pathlib import Path

from sqlmodel import select

from bot.core.uow import Origin
from bot.org.models import Invite

ROOT = Path(__file__).resolve().parent.parent


def run(lines: str, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "SANDBOX_DATABASE_URL": f"sqlite:///{tmp_path / 'sandbox.db'}"}
    env.pop("TELEGRAM_BOT_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "bot", *extra, "sandbox"],
        cwd=ROOT,
        env=env,
        input=lines,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_piped_input_starts_inside_the_campaign_is_answered_and_exits_0(tmp_path, campaign_config):
    """``python -m bot sandbox`` with piped input: the one process-level run (the rest of the
    sandbox is tested in-process)."""
    start = campaign_config.sandbox.start or dt.datetime.combine(
        campaign_config.zone_rounds[0].registration_start, campaign_config.reminders.morning
    )
    proc = run("/start\n/help\n补考什么时候报名\n/now real\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip() == ""
    first, *rest = proc.stdout.splitlines()
    assert f"{start:%Y-%m-%d %H:%M}" in first and "/now real" in first
    out = "\n".join(rest)
    assert "学法考法管理员助手" in out and "可用命令" in out and "10月25日" in out
    # /now real goes back to the system clock.
    real = dt.datetime.now(campaign_config.tz)
    assert f"{real:%Y-%m-%d}" in rest[-1]


async def test_an_administrators_first_steps(bot):
    bot.demo()
    code = re.search(r"/bind (\w{5}-\w{5})", bot.invite("LY-JY unit")[0]).group(1)
    lines: list[str] = []
    for line in (f"/bind {code}", "/resetpw ly1zhang", "/press 1", "/as group", "/user 张三"):
        lines += await bot.handle_line(line) + await bot.settle()
    out = "\n".join(lines)
    assert "绑定成功" in out and "耒阳市教育局" in out
    assert "张*明" in out and "000000" in out
    # The whole path offline: submitted first, then the stand-in platform's result, in order.
    submitted, reset = out.index("已提交"), out.index("已重置")
    assert submitted < reset and "000000" not in out[:reset]
    assert "（现在由 张三 发言" in out
    assert await bot.handle_line("大家好") == []  # chatter in the group: silence
    assert "广播电视大学" in (await bot.handle_line("集中考试在哪"))[0]


async def test_sandbox_meta_lines(bot):
    assert "群聊" in (await bot.handle_line("/as group"))[0]
    assert "用法" in (await bot.handle_line("/as somewhere"))[0]
    assert "时间格式" in (await bot.handle_line("/now tomorrow"))[0]
    assert "没有可以点的按钮" in (await bot.handle_line("/press 1"))[0]
    assert "用法" in (await bot.handle_line("/invite x"))[0]
    assert await bot.handle_line("/quit") is None


# --- item 14: the sandbox starts inside the campaign ----------------------------------------
def test_now_option_wins_over_the_configured_start(sqlite_url):
    from bot.cli.common import open_context
    from bot.sandbox.runner import Sandbox

    ctx = open_context(argparse.Namespace(config=None, now="2022-10-25T10:00"), db_url=sqlite_url)
    try:
        first = Sandbox(ctx).start_clock()[0]
    finally:
        ctx.db.dispose()
    assert "2022-10-25 10:00" in first


async def test_demo_and_invite_use_the_sandbox_clock(bot):
    bot.demo()
    assert "邀请码" in bot.invite("LY-JY unit")[0]
    with bot.ctx.unit_of_work(Origin.cli("test")) as uow:
        invite = uow.session.exec(select(Invite)).one()
        assert invite.created_at.astimezone(bot.ctx.config.tz) == bot.ctx.clock.now()


# --- item 15: documents in and out ------------------------------------------------------------
async def test_upload_sends_a_document_and_sent_files_are_saved(bot, tmp_path):
    from tests import factories

    bot.out_dir = tmp_path / "sandbox-out"
    department = bot.ctx.config.question_bank[0].department
    factories.bind(bot.ctx, department, "unit", bot.user_id())
    lines = await bot.handle_line("/template")
    saved = [line for line in lines if "[已保存]" in line]
    assert len(saved) == 1
    path = Path(saved[0].split("[已保存]", 1)[1].strip())
    assert path.parent == bot.out_dir and path.stat().st_size > 0
    # the template sent back as a document reaches the question-bank handler (it downloads it)
    mark = bot.request.mark()
    replies = await bot.handle_line(f"/upload {path}")
    assert [c.method for c in bot.request.calls[mark:]][:2] == ["getFile", "download"]
    assert replies and "bot（私聊）" in replies[0], replies
    assert "用法" in (await bot.handle_line("/upload /no/such/file.xlsx"))[0]


# --- the walk-through's helpers: demo files, /import, a bare /bind ------------------------------
async def test_demo_files_import_as_the_server_would(bot, tmp_path):
    from bot.roster.models import Learner

    bot.out_dir = tmp_path / "sandbox-out"
    lines = bot.demo()
    saved = [Path(line.split("[已保存]", 1)[1].strip()) for line in lines if "[已保存]" in line]
    assert len(saved) == 3 and all(p.parent == bot.out_dir and p.stat().st_size for p in saved)
    questions, roster, results = saved
    assert "已存在" in bot.demo()[0] and len(bot.demo()) == 4  # files written again, data once
    # The roster has a title row over a two-row header: found, and said where.
    report = "\n".join(await bot.handle_line(f"/import roster {roster}"))
    assert report.startswith("服务器> 导入完成：新增 1") and "第 2–3 行" in report
    assert "1 名在职学员在平台上标为免考" in report  # lysfzhou: exempt on the platform, no filing
    with bot.ctx.db.session() as session:
        sun = session.exec(select(Learner).where(Learner.account == "lysfsun")).one()
        assert (sun.required_credits, sun.total_credits) == (58, 96)
    report = "\n".join(await bot.handle_line(f"/import results {results}"))
    assert "导入完成：新增 3" in report
    # The question bank is the template's shape with every question filled in: accepted.
    bot.ctx.clock.set(dt.datetime(2022, 6, 10, 9, 0))
    assert "邀请码" in bot.invite(f"{bot.ctx.config.question_bank[1].department} unit")[0]
    await bot.handle_line("/bind")
    replies = await bot.handle_line(f"/upload {questions}")
    assert "试题已接收" in replies[0] and "逾期" not in replies[0], replies
    # Wrong kind or path: the usage, nothing imported.
    assert "用法" in bot.import_file(f"grades {results}")[0]
    assert "用法" in bot.import_file("roster /no/such.xlsx")[0]


async def test_a_bare_bind_uses_the_code_the_sandbox_issued_last(bot):
    bot.demo()
    assert "用法" in (await bot.handle_line("/bind"))[0]  # none issued yet: the bot's own usage
    issued = bot.invite("耒阳市司法局 unit")[0]
    code = re.search(r"/bind (\w{5}-\w{5})", issued).group(1)
    first, *rest = await bot.handle_line("/bind")
    assert code in first and "绑定成功" in "\n".join(rest) and "耒阳市司法局" in "\n".join(rest)
    assert "您的 Telegram ID" in (await bot.handle_line("/whoami"))[0]
    assert "用法" in (await bot.handle_line("/bind"))[0]  # that code is spent: not sent again
