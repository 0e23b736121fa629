"""End to end: `python -m bot run` as a subprocess against a local fake Bot API server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.app import FAQ_READY
from harness.fakeapi import FakeBotAPI

ROOT = Path(__file__).resolve().parent.parent


def world_with_invite(tmp_path: Path) -> tuple[str, str]:
    """A database with the test unit tree and an invite for 耒阳市教育局's administrator."""
    from bot.context import create_context
    from bot.core.config import load_config
    from tests import factories

    db_url = f"sqlite:///{tmp_path / 'e2e.db'}"
    ctx = create_context(load_config(), db_url=db_url)
    factories.tree(ctx)
    code = factories.invite(ctx, "LY-JY", "unit")
    ctx.db.dispose()
    return db_url, code


def wait_polling(api: FakeBotAPI, timeout: float = 60) -> None:
    """Until the bot's first long poll is waiting at the server (started and listening)."""
    deadline = time.monotonic() + timeout
    while api.pending_polls == 0:
        assert time.monotonic() < deadline, "the bot never started polling"
        time.sleep(0.05)


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


def test_start_is_answered_and_sigterm_stops_cleanly(api, bot_process, tmp_path):
    wait_polling(api)
    # The menus are set in the background (serving comes first, bot.app): not necessarily
    # before the first poll.
    deadline = time.monotonic() + 20
    while len(api.calls_of("setMyCommands")) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    menus = [c.params["scope"]["type"] for c in api.calls_of("setMyCommands")]
    assert sorted(menus) == ["all_group_chats", "all_private_chats"]

    mark = api.mark()
    api.send_text("/start", user_id=4242, first_name="王五")
    call = api.wait_for_call(
        "sendMessage", lambda c: c.params["chat_id"] == 4242, after=mark, timeout=20
    )
    assert "学法考法管理员助手" in call.params["text"]
    assert call.params["parse_mode"] == "HTML"

    # Commands are served while the FAQ index warms up; group questions once it is ready.
    log = tmp_path / "bot.log"
    deadline = time.monotonic() + 60
    while FAQ_READY not in log.read_text(encoding="utf-8", errors="replace"):
        assert time.monotonic() < deadline, "the FAQ index never became ready"
        time.sleep(0.05)
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


def test_register_a_session_through_the_bot_api(api, tmp_path):
    """Bind with an invite, then book a zone-round session with the buttons, all over HTTP."""
    from bot.context import create_context
    from bot.core.config import load_config

    db_url, code = world_with_invite(tmp_path)
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": db_url,
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "--now", "2022-09-14T10:00", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_polling(api)
        uid = 5151

        def say(text: str) -> dict:
            mark = api.mark()
            api.send_text(text, user_id=uid, first_name="李老师")
            return api.wait_for_call(
                None,
                lambda c: c.method in ("sendMessage", "editMessageText"),
                after=mark,
                timeout=20,
            )

        def press(call, index: int):
            mark = api.mark()
            markup = call.params["reply_markup"]["inline_keyboard"]
            data = [b["callback_data"] for row in markup for b in row][index]
            api.press_button(call.result, data, user_id=uid, first_name="李老师")
            return api.wait_for_call("editMessageText", after=mark, timeout=20)

        assert "绑定成功" in say(f"/bind {code}").params["text"]
        step = say("/register")
        step = press(step, 0)  # round 1
        step = press(step, 2)  # the third exam day
        step = press(step, 5)  # 15:30
        summary = say("2")
        assert "9月21日" in summary.params["text"] and "15:30" in summary.params["text"]
        done = press(summary, 0)
        # Operator mode (config.toml's gateway): the choice is recorded for the overview and the
        # unit is told to complete 报考 on the platform itself; nothing claims it is registered.
        assert "已记下本单位的报名安排" in done.params["text"] and "报考" in done.params["text"]
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    check = create_context(load_config(), db_url=db_url)
    from sqlmodel import select

    from bot.registration.models import Registration

    with check.db.session() as s:
        row = s.exec(select(Registration)).one()
        assert (row.round_key, row.session_time, row.learner_count) == ("zone1", "15:30", 2)
    check.db.dispose()


def test_password_reset_through_the_bot_api(api, tmp_path):
    """An unbound user is refused; a bound unit administrator asks for a reset of a learner in
    scope; two presses of the confirm button, back to back, submit one platform task. The
    edited message says it was submitted; the result ("已重置 … 000000") comes as a new
    message once the platform (the sandbox gateway) has reset it, once."""
    from sqlalchemy import inspect
    from sqlmodel import func, select

    from bot.context import create_context
    from bot.core.audit import AuditLog
    from bot.core.config import load_config
    from bot.platform.models import PlatformTask
    from tests.botproc import write_config

    db_url, code = world_with_invite(tmp_path)
    config = write_config(tmp_path / "config.toml", platform={"gateway": '"sandbox"'})
    env = {
        **os.environ,
        "TELEGRAM_BOT_TOKEN": api.token,
        "TELEGRAM_API_BASE_URL": api.base_url,
        "DATABASE_URL": db_url,
        "CONFIG_PATH": str(config),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_polling(api)

        def say(text: str, uid: int):
            mark = api.mark()
            api.send_text(text, user_id=uid)
            return api.wait_for_call(
                "sendMessage", lambda c: c.params["chat_id"] == uid, after=mark, timeout=20
            )

        assert "还没有绑定" in say("/resetpw ly1zhang", 6001).params["text"]
        group = api.mark()
        api.send_text("/resetpw ly1zhang", user_id=6002, chat_id=-100555)
        reply = api.wait_for_call(
            "sendMessage", lambda c: c.params["chat_id"] == -100555, after=group
        )
        assert "私聊" in reply.params["text"] and "张" not in reply.params["text"]
        assert "绑定成功" in say(f"/bind {code}", 6002).params["text"]
        preview = say("/resetpw ly1zhang", 6002)
        assert "张*明" in preview.params["text"]
        data = preview.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        mark = api.mark()
        api.press_button(preview.result, data, user_id=6002)
        api.press_button(preview.result, data, user_id=6002)
        done = api.wait_for_call(
            "editMessageText", lambda c: "已提交" in c.params["text"], after=mark, timeout=20
        )
        assert "000000" not in done.params["text"] and "已重置" not in done.params["text"]

        def is_result(c) -> bool:
            return c.params["chat_id"] == 6002 and "已重置" in c.params["text"]

        result = api.wait_for_call("sendMessage", is_result, after=mark, timeout=20)
        assert "000000" in result.params["text"] and result.at >= done.at
        time.sleep(1.5)  # let the second press (and another delivery run) be handled
        assert len([c for c in api.calls_of("sendMessage", after=mark) if is_result(c)]) == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    check = create_context(load_config(), db_url=db_url)
    with check.db.session() as s:
        (task,) = s.exec(select(PlatformTask)).all()
        assert (task.kind, task.account, task.status) == ("password_reset", "ly1zhang", "applied")
        assert task.notified_at is not None
        resets = s.exec(
            select(func.count()).select_from(AuditLog).where(AuditLog.action == "password.reset")
        ).one()
        assert resets == 1
    columns = {c["name"] for c in inspect(check.db.engine).get_columns("learners")}
    assert "password_hash" not in columns and "must_change_password" not in columns
    check.db.dispose()
