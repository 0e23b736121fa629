"""End to end: `python -m bot run` as a subprocess against a local fake Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fakeapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def bot_process(api, tmp_path):
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'e2e.db'}",
        "LOG_LEVEL": "INFO",
    }
    log = (tmp_path / "bot.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    yield proc
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)
    log.seek(0)
    text = log.read()
    assert api.token not in text, "the bot token must never reach the logs"


def test_start_is_answered_and_sigterm_stops_cleanly(api, bot_process):
    api.wait_for_call("getUpdates", timeout=60)
    menus = [c.params["scope"]["type"] for c in api.calls_of("setMyCommands")]
    assert sorted(menus) == ["all_group_chats", "all_private_chats"]

    mark = api.mark()
    api.send_text("/start", user_id=4242, first_name="王五")
    call = api.wait_for_call(
        "sendMessage", lambda c: c.params["chat_id"] == 4242, after=mark, timeout=20
    )
    assert "学法考法管理员助手" in call.params["text"]
    assert call.params["parse_mode"] == "HTML"

    mark = api.mark()
    api.send_text("补考什么时候报名", user_id=4243, chat_id=-100777)
    call = api.wait_for_call(
        "sendMessage", lambda c: c.params["chat_id"] == -100777, after=mark, timeout=20
    )
    assert "10月25日" in call.params["text"]

    started = time.monotonic()
    bot_process.send_signal(signal.SIGTERM)
    assert bot_process.wait(20) == 0
    assert time.monotonic() - started < 10
