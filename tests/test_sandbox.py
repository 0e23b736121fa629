"""The offline sandbox: piped input, meta lines, and an administrator's first steps."""

from __future__ import annotations

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


def test_piped_start_and_help_print_both_and_exit_0(tmp_path):
    proc = run("/start\n/help\n", tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "学法考法管理员助手" in proc.stdout and "可用命令" in proc.stdout
    assert proc.stderr.strip() == ""


def test_piped_question_is_answered(tmp_path):
    proc = run("补考什么时候报名\n", tmp_path)
    assert "10月25日" in proc.stdout and proc.returncode == 0


def test_an_administrators_first_steps(tmp_path):
    proc = run("/demo\n/invite LY-JY unit\n", tmp_path)
    code = re.search(r"/bind (\w{5}-\w{5})", proc.stdout).group(1)
    script = (
        f"/bind {code}\n/resetpw ly1zhang\n/press 1\n/as group\n/user 张三\n大家好\n集中考试在哪\n"
    )
    proc = run(script, tmp_path, "--now", "2022-09-14T10:00")
    out = proc.stdout
    assert "绑定成功" in out and "耒阳市教育局" in out
    assert "张*明" in out and "000000" in out
    # The whole path offline: submitted first, then the stand-in platform's result, in order.
    submitted, reset = out.index("已提交"), out.index("已重置")
    assert submitted < reset and "000000" not in out[:reset]
    assert "（现在由 张三 发言" in out and "广播电视大学" in out
    assert out.count("bot（群）") == 1  # "大家好" got silence


async def test_sandbox_meta_lines(bot):
    assert "群聊" in (await bot.handle_line("/as group"))[0]
    assert "用法" in (await bot.handle_line("/as somewhere"))[0]
    assert "时间格式" in (await bot.handle_line("/now tomorrow"))[0]
    assert "没有可以点的按钮" in (await bot.handle_line("/press 1"))[0]
    assert "用法" in (await bot.handle_line("/invite x"))[0]
    assert await bot.handle_line("/quit") is None


# --- item 14: the sandbox starts inside the campaign ----------------------------------------
def test_sandbox_starts_inside_the_campaign_and_says_so(tmp_path, campaign_config):
    start = campaign_config.sandbox.start or dt.datetime.combine(
        campaign_config.zone_rounds[0].registration_start, campaign_config.reminders.morning
    )
    proc = run("/now real\n", tmp_path)
    first, *rest = proc.stdout.splitlines()
    assert f"{start:%Y-%m-%d %H:%M}" in first and "/now real" in first
    # /now real goes back to the system clock.
    real = dt.datetime.now(campaign_config.tz)
    assert f"{real:%Y-%m-%d}" in "\n".join(rest)


def test_now_option_wins_over_the_configured_start(tmp_path):
    proc = run("", tmp_path, "--now", "2022-10-25T10:00")
    assert "2022-10-25 10:00" in proc.stdout.splitlines()[0]


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
