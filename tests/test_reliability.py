"""Reliability: the real bot process (``python -m bot run``) against the fake Bot API, killed with
SIGKILL mid-conversation and mid-broadcast, served faults (429, 5xx, timeouts, dropped
connections, malformed JSON, an answer lost after the message was delivered), started long after
reminders fell due, with a liaison group upgraded to a supergroup, and run twice on one
PostgreSQL database. Nothing committed is lost, no message that never left is lost, and no
reminder reaches a chat twice.

The tests with two bot starts are marked ``slow`` (about 10 s each); they run in ``make test``
all the same.
"""

from __future__ import annotations

import http.client
import json
import re
import threading
import time
import urllib.request
import warnings
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
from sqlalchemy.exc import DBAPIError
from sqlmodel import col, func, select

from bot.context import create_context
from bot.core.audit import AuditLog
from bot.core.config import load_config
from bot.core.db import Database, database_url
from bot.platform.models import PlatformTask, TaskKind
from bot.registration.models import Registration
from harness.fakeapi import FakeBotAPI
from reminders.models import LiaisonGroup, ReminderSend
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


def sends(db_url: str, reminder_ids: list[str] | None = None) -> list[ReminderSend]:
    """The sent-log rows of these reminders (default: the two due at ``DUE_AT``)."""
    ids = list(DUE) if reminder_ids is None else reminder_ids
    db = Database(database_url(db_url))
    try:
        with db.session() as s:
            query = select(ReminderSend).where(col(ReminderSend.reminder_id).in_(ids))
            return list(s.exec(query))
    finally:
        db.dispose()


def liaison_groups(db_url: str) -> dict[int, int | None]:
    """chat id → the id it moved to (None: served)."""
    db = Database(database_url(db_url))
    try:
        with db.session() as s:
            return {g.chat_id: g.moved_to for g in s.exec(select(LiaisonGroup))}
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


class Tamper:
    """A proxy in front of the fake Bot API that spoils one chat's sendMessage calls on the
    wire; everything else passes through. ``lose_answer(chat)``: the chat's next message is
    forwarded (the fake delivers it) and the connection closed instead of answering — what the
    bot sees after its request was written (httpx's RemoteProtocolError). ``answer(chat, ...)``:
    every message to the chat is answered by the proxy itself (e.g. ChatMigrated) and never
    reaches the fake. ``spoiled`` lists what it did, in order."""

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        self.lock = threading.Lock()
        self.losing: Counter[int] = Counter()
        self.answers: dict[int, tuple[int, dict[str, Any]]] = {}
        self.spoiled: list[tuple[str, int]] = []
        tamper = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                tamper.handle(self)

            do_GET = do_POST

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/bot"

    def lose_answer(self, chat_id: int, times: int = 1) -> None:
        with self.lock:
            self.losing[chat_id] += times

    def answer(self, chat_id: int, status: int, **body: Any) -> None:
        with self.lock:
            self.answers[chat_id] = (status, {"ok": False, "error_code": status, **body})

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        chat = None
        if handler.path.rstrip("/").rsplit("/", 1)[-1].lower() == "sendmessage":
            chat_id = dict(parse_qsl(body.decode("utf-8", "replace"))).get("chat_id")
            chat = int(json.loads(chat_id)) if chat_id else None
        with self.lock:
            canned = self.answers.get(chat) if chat is not None else None
            lose = chat is not None and canned is None and self.losing[chat] > 0
            if lose:
                self.losing[chat] -= 1
            if chat is not None and (canned or lose):
                self.spoiled.append(("answered" if canned else "lost", chat))
        if canned is not None:
            status, payload = canned
            self._write(handler, status, "application/json", json.dumps(payload).encode())
            return
        try:
            status, content_type, data = self._forward(handler, body)
        except (OSError, http.client.HTTPException):
            handler.close_connection = True  # the fake dropped it: so does the proxy
            return
        if lose:
            handler.close_connection = True  # delivered, and no answer
            return
        self._write(handler, status, content_type, data)

    def _forward(self, handler: BaseHTTPRequestHandler, body: bytes) -> tuple[int, str, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.api.port, timeout=120)
        try:
            headers = {"Content-Type": handler.headers.get("Content-Type", "")}
            conn.request(handler.command, handler.path, body=body, headers=headers)
            answer = conn.getresponse()
            return answer.status, answer.getheader("Content-Type", ""), answer.read()
        finally:
            conn.close()

    @staticmethod
    def _write(handler: BaseHTTPRequestHandler, status: int, content_type: str, data: bytes):
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the bot hung up first (it stopped, or gave up waiting): no one is left to answer


@pytest.fixture
def tamper(api):
    proxy = Tamper(api)
    yield proxy
    proxy.close()


def requested(api: FakeBotAPI) -> Counter:
    """(chat, reminder) → how many requests for it the fake received, answered or not."""
    counts: Counter = Counter()
    for call in api.calls_of("sendMessage"):
        rid = reminder_of(str(call.params.get("text", "")))
        if rid:
            counts[(call.params["chat_id"], rid)] += 1
    return counts


# --- SIGKILL ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_sigkill_mid_conversation_and_mid_reset_loses_nothing(api, tmp_path):
    """Killed with a /register conversation half done and a password reset confirmed at the
    very moment of the kill: after a restart the finished registration is there, the
    half-done one goes on from its next button (and registered nothing), and the learner's
    reset is asked of the platform exactly once."""
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    code = invite(db_url)
    uid = 5151
    first = BotProcess(api, tmp_path, name="first", now="2022-09-14T10:00")
    try:
        first.wait_polling()
        assert "绑定成功" in say(api, f"/bind {code}", uid).params["text"]
        step = press(api, say(api, "/register", uid), 0, uid)  # round 1
        step = press(api, press(api, step, 2, uid), 5, uid)  # the third day, 15:30
        assert "已记下" in press(api, say(api, "2", uid), 0, uid).params["text"]
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
        # The half-done conversation resumes where it was (its draft is in the database): its
        # day button offers the sessions; nothing is registered before its 确认.
        mark = api.mark()
        api.press_button(half.result, day_button, user_id=uid)
        sessions = api.wait_for_call("editMessageText", after=mark, timeout=20)
        assert "请选择场次" in sessions.params["text"]
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
            ("zone1", "15:30", 2, "active")
        ]
        reset = select(PlatformTask).where(PlatformTask.kind == TaskKind.PASSWORD_RESET)
        assert [t.account for t in s.exec(reset)] == ["ly1zhang"]  # asked of the platform once
        resets = select(func.count()).select_from(AuditLog)
        assert s.exec(resets.where(AuditLog.action == "password.reset")).one() == 1
    ctx.db.dispose()


@pytest.mark.slow
def written_unanswered(row) -> bool:
    return row.status == "claimed" and row.written_at is not None


def test_sigkill_mid_broadcast_loses_no_message_that_never_left(api, tmp_path):
    """40 groups, two reminders due at start. After 20 messages the fake holds the next request
    for 15 s (written: it may have been sent; the fake delivers it when the bot is gone) and
    answers the one after it with a 429 of 30 s, on which the rate limiter holds every other
    claimed message before it is written; then the process is killed. The restart (20 minutes
    later by the bot's clock) sends every message that was claimed but never written, and not
    the one that was: no message that never left is lost, none arrives twice."""
    chats = groups(40)
    total = len(chats) * len(DUE)
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = write_config(tmp_path / "config.toml", telegram={"group_chat_ids": str(chats)})
    env = {"CONFIG_PATH": str(config)}
    first = BotProcess(api, tmp_path, name="first", now=DUE_AT, env=env)
    try:
        first.wait_until(lambda: sum(deliveries(api).values()) >= 20, 60, "20 reminders sent")
        mark = api.mark()
        api.delay_next("sendMessage", 15)  # read, held, answered too late
        api.fail_next("sendMessage", status=429, retry_after=30)
        api.wait_for_call(
            "sendMessage", lambda c: c.status == 429, after=mark, include_failed=True, timeout=30
        )
        # Requests already past the rate limiter are answered and recorded as sent: only the
        # held one stays written and unanswered (its answer comes 15 s after it was read: long
        # enough for a loaded machine to record the others first).
        first.wait_until(
            lambda: len([r for r in sends(db_url) if written_unanswered(r)]) == 1,
            12,
            "every answered request recorded",
        )
    finally:
        first.kill()
    before = deliveries(api)
    assert sum(before.values()) < total - 2, "the kill came too late to be mid-broadcast"
    claims = [r for r in sends(db_url) if r.status == "claimed"]
    assert len([r for r in claims if written_unanswered(r)]) == 1  # the held request
    assert len([r for r in claims if r.written_at is None]) >= 2  # waiting, never written

    second = BotProcess(api, tmp_path, name="second", now="2022-09-13T10:20", env=env)
    try:
        second.wait_until(lambda: settled(db_url, total), 60, "every reminder settled")
    finally:
        assert second.stop() == 0
    api.wait_for_call("sendMessage", lambda c: c.fault == "delay", timeout=30)  # delivered now
    after = deliveries(api)
    rows = {(r.chat_id, r.reminder_id): r for r in sends(db_url)}
    assert len(rows) == total
    (held,) = [key for key, row in rows.items() if row.status != "sent"]
    row = rows[held]
    assert row.status == "failed" and "interrupted" in row.error and row.written_at is not None
    assert requested(api)[held] == 1  # it left once, and was not sent again
    assert all(after[key] == 1 for key, row in rows.items() if row.status == "sent")
    assert len(after) == total and max(after.values()) == 1, "a reminder lost or sent twice"
    log = second.log()
    assert "never finished" in log and "never written" in log


# --- faults ---------------------------------------------------------------------------------------


def test_faults_keep_the_bot_serving_and_send_each_reminder_once(api, tmp_path):
    """Faults on sendMessage while reminders go out and on getUpdates while polling: a 429
    with retry_after, 502 and 500, a connection dropped after the request was read, an answer
    slower than the read timeout and a malformed (non-JSON) answer. No reminder is taken by
    Telegram twice: the error answers are retried; the dropped and the slow one are not
    (written and unanswered, they may have gone out: "may have been sent" — here the fake
    dropped one without delivering it and delivered the slow one); /health and /start answer
    afterwards."""
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
    assert len(counts) == total - 1 and set(counts.values()) == {1}, counts  # not the dropped one
    rows = sends(db_url)
    failed = [r for r in rows if r.status == "failed"]
    assert len(failed) == 2 and all("may have been sent" in r.error for r in failed)
    assert [r.error for r in rows if r.status == "sent" and r.error] == [
        "sent (HTTP 2xx), but the answer could not be read"
    ]
    assert re.search(r"retrying in", bot.log())


def test_an_answer_lost_after_delivery_is_not_sent_again(api, tamper, tmp_path):
    """Telegram takes a reminder and the connection closes before its answer (httpx's
    RemoteProtocolError, after the request was written): the message may be in the group, so
    it is not sent again — the group holds exactly one copy, and the sent-log says "may have
    been sent". Failures before the request is written (a refused connection, a connect
    timeout) and error answers are retried: tests/test_reminders.py."""
    chats = groups(2, base=-1001970000000)
    total = len(chats) * len(DUE)
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = write_config(
        tmp_path / "config.toml",
        telegram={"group_chat_ids": str(chats)},
        reminders={"retry_backoff_seconds": "0.2"},
    )
    tamper.lose_answer(chats[0])
    env = {"CONFIG_PATH": str(config), "TELEGRAM_API_BASE_URL": tamper.base_url}
    bot = BotProcess(api, tmp_path, now=DUE_AT, env=env)
    try:
        bot.wait_until(lambda: settled(db_url, total), 60, "every reminder settled")
    finally:
        assert bot.stop() == 0
    assert tamper.spoiled == [("lost", chats[0])]
    counts = deliveries(api)
    assert len(counts) == total and set(counts.values()) == {1}, counts
    (failed,) = [r for r in sends(db_url) if r.status != "sent"]
    assert failed.chat_id == chats[0] and failed.attempts == 1
    assert failed.status == "failed" and "may have been sent" in failed.error


# --- reminders after downtime, groups that move ------------------------------------------------


def test_a_late_start_sends_only_the_newest_reminder_of_each_series(api, tmp_path):
    """Started at 9/16 17:30 on a fresh database (the attack's run): of the zone round's
    registration reminders (opening, last day, closing soon) only "closing soon" goes out, of
    the centralized pre-registration only "last day" — nothing says "今天开始" three days late,
    and "last day" and "closing soon" do not arrive in the same minute; the older ones are
    recorded as skipped."""
    chats = groups(2, base=-1001980000000)
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    config = write_config(tmp_path / "config.toml", telegram={"group_chat_ids": str(chats)})
    series = {
        "zone1-registration-open": "skipped",
        "zone1-registration-last": "skipped",
        "zone1-registration-closing": "sent",
        "centralized-preregistration-open": "skipped",
        "centralized-preregistration-last": "sent",
    }

    def done() -> bool:
        try:
            found = sends(db_url, list(series))
        except DBAPIError:  # not migrated yet
            return False
        return len(found) == len(series) * len(chats) and all(r.status != "claimed" for r in found)

    bot = BotProcess(api, tmp_path, now="2022-09-16T17:30", env={"CONFIG_PATH": str(config)})
    try:
        bot.wait_until(done, 60, "the due reminders settled")
        bot.wait_polling()
    finally:
        assert bot.stop() == 0
    for row in sends(db_url, list(series)):
        assert row.status == series[row.reminder_id], (row.reminder_id, row.error)
    for chat in chats:
        texts = api.sent_texts(chat_id=chat)
        assert len(texts) == 2, texts
        assert any("第一次分众组考报名今天（9月16日）截止" in t for t in texts), texts
        assert any("今天（9月16日）是预报名最后一天" in t for t in texts), texts
        assert not any("今天开始" in t for t in texts), texts


@pytest.mark.slow
def test_an_upgraded_group_keeps_its_reminders_and_the_city_office_is_told(api, tamper, tmp_path):
    """Group A becomes a supergroup while the bot runs (Telegram's migrate_to_chat_id and
    migrate_from_chat_id service messages); group B's upgrade is learnt only when a reminder to
    it is answered ChatMigrated, the next start. Both move in the database — config still names
    the old ids — every reminder reaches each at its new id exactly once (B's is sent again to
    its new id at once, the next goes straight there), and the city office's administrator is
    told in private, once per group."""
    old_a, new_a, old_b, new_b = -4001, -1001990000001, -4002, -1001990000002
    city_uid = 9101
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    ctx = create_context(load_config(), db_url=db_url)
    factories.bind(ctx, "city", "city", city_uid)
    ctx.db.dispose()
    config = write_config(
        tmp_path / "config.toml", telegram={"group_chat_ids": f"[{old_a}, {old_b}]"}
    )
    env = {"CONFIG_PATH": str(config), "TELEGRAM_API_BASE_URL": tamper.base_url}
    member = {"id": 4242, "is_bot": False, "first_name": "群主"}

    def service(chat: dict, **fields) -> None:
        api.enqueue_update(
            {
                "message": {
                    "message_id": 1,
                    "date": int(time.time()),
                    "chat": chat,
                    "from": member,
                    **fields,
                }
            }
        )

    first = BotProcess(api, tmp_path, name="first", now="2022-09-13T08:00", env=env)
    try:
        first.wait_polling()
        service({"id": old_a, "type": "group", "title": "联络群A"}, migrate_to_chat_id=new_a)
        service({"id": new_a, "type": "supergroup", "title": "联络群A"}, migrate_from_chat_id=old_a)
        say(api, "/start", 4243)  # answered after both service messages were handled
    finally:
        assert first.stop() == 0
    (notice,) = api.sent_texts(chat_id=city_uid)
    assert "联络群“联络群A”已升级为超级群" in notice and str(new_a) in notice

    mark = api.mark()
    tamper.answer(
        old_b,
        400,
        description="Bad Request: group chat was upgraded to a supergroup chat",
        parameters={"migrate_to_chat_id": new_b},
    )
    second = BotProcess(api, tmp_path, name="second", now=DUE_AT, env=env)
    try:
        second.wait_until(lambda: settled(db_url, 4), 60, "the reminders settled at the new ids")
        api.wait_for_call("sendMessage", lambda c: c.params["chat_id"] == city_uid, after=mark)
    finally:
        assert second.stop() == 0
    counts = deliveries(api)
    assert counts == Counter({(chat, rid): 1 for chat in (new_a, new_b) for rid in DUE}), counts
    assert tamper.spoiled == [("answered", old_b)]  # one send to the old id, not two
    notices = api.sent_texts(chat_id=city_uid)
    assert len(notices) == 2 and str(new_b) in notices[1] and str(old_b) in notices[1]
    assert {r.chat_id for r in sends(db_url)} == {new_a, new_b}
    assert liaison_groups(db_url) == {old_a: new_a, new_a: None, old_b: new_b, new_b: None}


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
