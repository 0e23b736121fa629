"""Reliability: the real bot process (``python -m bot run``) against the fake Bot API, killed with
SIGKILL mid-conversation and mid-broadcast, served faults (429, 5xx, timeouts, dropped
connections, malformed JSON), and run twice on one PostgreSQL database. Nothing committed is lost
and no reminder reaches a chat twice.

The SIGKILL tests are marked ``slow`` (two bot starts each, about 10 s); they run in ``make
test`` all the same.
"""

from __future__ import annotations

import re
import urllib.request
import warnings
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, func, select

from bot.context import create_context
from bot.core.audit import AuditLog
from bot.core.config import load_config
from bot.core.db import Database, database_url
from bot.registration.models import Registration
from bot.roster.models import Learner
from harness.fakeapi import FakeBotAPI
from reminders.models import ReminderSend
from reminders.scheduler import PARALLEL_CHATS
from tests import factories
from tests.botproc import BotProcess, delivered, free_port, press, say, write_config

# At this moment two reminders are due and still useful (their deadline is 2022-09-16 18:00);
# the older ones are past their deadline and only recorded as skipped.
DUE_AT = "2022-09-13T10:00"
DUE = {
    "zone1-registration-open": "第一次分众组考报名今天开始",
    "centralized-preregistration-open": "集中考试预报名】今天开始",
}


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


def groups(n: int, base: int = -1001900000000) -> list[int]:
    return [base - i for i in range(1, n + 1)]


def reminder_of(text: str) -> str | None:
    return next((rid for rid, phrase in DUE.items() if phrase in text), None)


def deliveries(*apis: FakeBotAPI) -> Counter:
    """(chat, reminder) → how many times Telegram took that reminder for that chat."""
    counts: Counter = Counter()
    for api in apis:
        for call in api.calls_of("sendMessage"):
            rid = reminder_of(str(call.params.get("text", "")))
            if rid and delivered(call):
                counts[(call.params["chat_id"], rid)] += 1
    return counts


def sends(db_url: str) -> list[ReminderSend]:
    db = Database(database_url(db_url))
    try:
        with db.session() as s:
            query = select(ReminderSend).where(col(ReminderSend.reminder_id).in_(list(DUE)))
            return list(s.exec(query))
    finally:
        db.dispose()


def settled(db_url: str, expected: int) -> bool:
    """Every due (reminder, chat) is in the sent-log with a final status."""
    try:
        rows = sends(db_url)
    except DBAPIError:  # not migrated yet
        return False
    return len(rows) == expected and all(r.status != "claimed" for r in rows)


def invite(db_url: str) -> str:
    ctx = create_context(load_config(), db_url=db_url)
    factories.tree(ctx)
    code = factories.invite(ctx, "LY-JY", "unit")
    ctx.db.dispose()
    return code


# --- SIGKILL ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_mid_conversation_and_mid_reset_loses_nothing(api, tmp_path):
    """Killed with a /register conversation half done and a password reset confirmed at the
    very moment of the kill: after a restart the finished registration is there, the
    half-done one left nothing behind and says so, and the learner is reset exactly once."""
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    code = invite(db_url)
    uid = 5151
    first = BotProcess(api, tmp_path, name="first", now="2022-09-14T10:00")
    try:
        first.wait_polling()
        assert "绑定成功" in say(api, f"/bind {code}", uid).params["text"]
        step = press(api, say(api, "/register", uid), 0, uid)  # round 1
        step = press(api, press(api, step, 2, uid), 5, uid)  # the third day, 15:30
        assert "已报名" in press(api, say(api, "28", uid), 0, uid).params["text"]
        # A second conversation, for the sub-unit: killed after the round choice.
        half = press(api, say(api, "/register LY-JY-1", uid), 0, uid)
        day_button = half.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        # A reset: previewed, and its confirm button pressed as the process dies.
        preview = say(api, "/resetpw ly1zhang", uid)
        confirm = preview.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        api.press_button(preview.result, confirm, user_id=uid)
    finally:
        first.kill()

    second = BotProcess(api, tmp_path, name="second", now="2022-09-14T10:00")
    try:
        second.wait_polling()
        # The half-done conversation: its next button says to start again; nothing was saved.
        mark = api.mark()
        api.press_button(half.result, day_button, user_id=uid)
        api.wait_for_call(
            "answerCallbackQuery", lambda c: "已失效" in c.params.get("text", ""), after=mark
        )
        # The reset: pressed again (the first press may or may not have been handled).
        mark = api.mark()
        api.press_button(preview.result, confirm, user_id=uid, check=False)
        answer = api.wait_for_call("editMessageText", after=mark, timeout=20)
        assert "密码" in answer.params["text"] or "已" in answer.params["text"]
        assert "学法考法管理员助手" in say(api, "/start", uid).params["text"]
    finally:
        assert second.stop() == 0

    ctx = create_context(load_config(), db_url=db_url, migrate=False)
    with ctx.db.session() as s:
        rows = s.exec(select(Registration)).all()
        assert [(r.round_key, r.session_time, r.learner_count, r.status) for r in rows] == [
            ("zone1", "15:30", 28, "active")
        ]
        learner = s.exec(select(Learner).where(Learner.account == "ly1zhang")).one()
        assert learner.must_change_password and learner.password_hash
        resets = select(func.count()).select_from(AuditLog)
        assert s.exec(resets.where(AuditLog.action == "password.reset")).one() == 1
    ctx.db.dispose()


@pytest.mark.slow
def test_sigkill_mid_broadcast_sends_no_reminder_twice(api, tmp_path):
    """40 groups, two reminders due at start; killed after 20 messages. The restart (20 minutes
    later by the bot's clock) sends the rest; the few claimed when the process died are
    recorded as failed ("may or may not have been sent") and not sent again."""
    chats = groups(40)
    total = len(chats) * len(DUE)
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = write_config(tmp_path / "config.toml", telegram={"group_chat_ids": str(chats)})
    env = {"CONFIG_PATH": str(config)}
    first = BotProcess(api, tmp_path, name="first", now=DUE_AT, env=env)
    try:
        first.wait_until(lambda: sum(deliveries(api).values()) >= 20, 60, "20 reminders sent")
    finally:
        first.kill()
    before = deliveries(api)
    assert 20 <= sum(before.values()) < total, "the kill came too late to be mid-broadcast"

    second = BotProcess(api, tmp_path, name="second", now="2022-09-13T10:20", env=env)
    try:
        second.wait_until(lambda: settled(db_url, total), 60, "every reminder settled")
    finally:
        assert second.stop() == 0
    after = deliveries(api)
    assert max(after.values()) == 1, "a chat got the same reminder twice"
    assert sum(after.values()) > sum(before.values())  # the restart sent the rest
    rows = {(r.chat_id, r.reminder_id): r for r in sends(db_url)}
    assert len(rows) == total
    for key, row in rows.items():
        if row.status == "sent":
            assert after[key] == 1, key
        else:  # in flight when the process died
            assert row.status == "failed" and "interrupted" in row.error, (key, row.error)
    interrupted = [r for r in rows.values() if r.status == "failed"]
    assert len(interrupted) <= PARALLEL_CHATS  # claimed one by one, not the whole broadcast
    assert sum(after.values()) >= total - len(interrupted)
    assert "never finished" in second.log()


# --- faults ---------------------------------------------------------------------------------------


def test_faults_keep_the_bot_serving_and_send_each_reminder_once(api, tmp_path):
    """Faults on sendMessage while reminders go out and on getUpdates while polling: a 429
    with retry_after, 502 and 500, a dropped connection, an answer slower than the read timeout
    and a malformed (non-JSON) answer. Every reminder is taken by Telegram exactly once; the
    slow one is not re-sent (it went through; the bot could not know); /health and /start
    answer afterwards."""
    chats = groups(4, base=-1001950000000)
    total = len(chats) * len(DUE)
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    health_port = free_port()
    config = write_config(
        tmp_path / "config.toml",
        telegram={
            "group_chat_ids": str(chats),
            "health_port": str(health_port),
            "read_timeout_seconds": "1.5",
        },
        reminders={"retry_backoff_seconds": "0.2"},
    )
    api.fail_next("sendMessage", status=429, retry_after=1)
    api.fail_next("sendMessage", status=502)
    api.drop_next("sendMessage")
    api.delay_next("sendMessage", 3.0)  # the bot gives up after 1.5 s; the fake delivers it
    api.malformed_next("sendMessage")
    api.fail_next("sendMessage", status=500)
    api.fail_next("getUpdates", status=502)
    api.drop_next("getUpdates")
    api.malformed_next("getUpdates")
    api.fail_next("getUpdates", status=429, retry_after=1)
    bot = BotProcess(api, tmp_path, now=DUE_AT, env={"CONFIG_PATH": str(config)})
    try:
        bot.wait_until(lambda: settled(db_url, total), 60, "every reminder settled")
        bot.wait_polling()  # past the getUpdates faults
        with urllib.request.urlopen(f"http://127.0.0.1:{health_port}/health", timeout=10) as r:
            assert r.status == 200 and b'"mode": "polling"' in r.read()
        assert "学法考法管理员助手" in say(api, "/start", 4242).params["text"]
    finally:
        assert bot.stop() == 0
    faults = Counter(c.fault or c.status for c in api.calls_of("sendMessage") if not c.ok)
    assert faults == Counter({"error": 3, "drop": 1, "malformed": 1})
    assert any(c.fault == "delay" and c.ok for c in api.calls_of("sendMessage"))
    assert Counter(f.fault for f in api.calls_of("getUpdates") if f.fault) == Counter(
        {"error": 2, "drop": 1, "malformed": 1}
    )
    counts = deliveries(api)
    assert len(counts) == total and set(counts.values()) == {1}, counts
    rows = sends(db_url)
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 1 and "may have been sent" in failed[0].error  # the slow one
    assert [r.error for r in rows if r.status == "sent" and r.error] == [
        "sent (HTTP 2xx), but the answer could not be read"
    ]
    assert re.search(r"retrying in", bot.log())


# --- two instances on one PostgreSQL ----------------------------------------------------------


@pytest.fixture
def pg_url():
    from tests.conftest import PG_URL, _reset_postgres

    if not PG_URL:
        warnings.warn("PostgreSQL test skipped: TEST_DATABASE_URL is not set", stacklevel=1)
        pytest.skip("TEST_DATABASE_URL is not set")
    return _reset_postgres()  # migrated, every table empty: both instances seed at once


def test_two_instances_on_one_postgresql_send_each_reminder_once(pg_url, tmp_path: Path):
    chats = groups(12, base=-1001960000000)
    total = len(chats) * len(DUE)
    config = write_config(tmp_path / "config.toml", telegram={"group_chat_ids": str(chats)})
    env = {"CONFIG_PATH": str(config), "DATABASE_URL": pg_url}
    with FakeBotAPI() as api_a, FakeBotAPI() as api_b:
        bots = [
            BotProcess(api, tmp_path, name=name, now=DUE_AT, env=env)
            for name, api in (("a", api_a), ("b", api_b))
        ]
        try:
            for bot in bots:
                bot.wait_polling()
            bots[0].wait_until(lambda: settled(pg_url, total), 60, "every reminder settled")
        finally:
            codes = [bot.stop() for bot in bots]
        assert codes == [0, 0], [bot.log()[-2000:] for bot in bots]
        counts = deliveries(api_a, api_b)
    assert len(counts) == total and set(counts.values()) == {1}, counts
    assert {r.status for r in sends(pg_url)} == {"sent"}
