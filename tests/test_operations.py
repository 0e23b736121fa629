"""Operations: webhook mode with its secret token, the /health endpoint, structured logs with
no secrets in them. Subprocesses against the fake Bot API, like tests/test_e2e.py."""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import urllib.error
import urllib.request

import pytest

from bot.context import create_context
from bot.core.config import load_config
from bot.core.logging_setup import REDACT, setup_logging
from harness.fakeapi import FakeBotAPI
from tests import factories
from tests.botproc import BotProcess, free_port, write_config

SECRET = "s3cret-Webhook_token-1234567890"
GROUP = -1001888000001
ADMIN = 6102


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


def _post(url: str, body: dict | bytes, secret: str | None) -> int:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _get_json(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@pytest.mark.parametrize(
    ("secret", "expected"),
    [(None, "TELEGRAM_WEBHOOK_SECRET is required"), ("has space", "must be 1-256 characters")],
)
def test_webhook_mode_refuses_to_start_without_a_good_secret(tmp_path, secret, expected):
    env = {"TELEGRAM_BOT_TOKEN": "123:abc", "TELEGRAM_WEBHOOK_URL": "https://bot.example/tg"}
    if secret is not None:
        env["TELEGRAM_WEBHOOK_SECRET"] = secret
    proc = BotProcess(None, tmp_path, env=env)
    assert proc.proc.wait(60) == 2
    proc.stop()
    lines = proc.log().strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]
    assert re.search("[\u4e00-\u9fff]", lines[0])  # Chinese first, English after
    assert not (tmp_path / "bot.db").exists()  # refused before the database was touched


def test_webhook_mode_checks_the_secret_serves_health_and_logs_no_secrets(api, tmp_path):
    """Webhook mode end to end, with JSON debug logs: updates are only taken with the secret
    header; a run that binds, resets a password and sends reminders leaves no token, webhook
    secret or default password in its logs."""
    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    ctx = create_context(load_config(), db_url=db_url)
    factories.tree(ctx)
    code = factories.invite(ctx, "LY-JY", "unit")
    ctx.db.dispose()
    default_password = ctx.config.platform.default_password
    port, health_port = free_port(), free_port()
    config = write_config(
        tmp_path / "config.toml",
        telegram={
            "group_chat_ids": f"[{GROUP}]",
            "webhook_url": '"https://bot.example/tg/hook"',
            "webhook_port": str(port),
            "health_port": str(health_port),
        },
        platform={"gateway": '"sandbox"'},  # the stand-in platform resets at once
    )
    bot = BotProcess(
        api,
        tmp_path,
        now="2022-09-13T10:00",  # two reminders are due at start
        env={
            "CONFIG_PATH": str(config),
            "TELEGRAM_WEBHOOK_SECRET": SECRET,
            "LOG_FORMAT": "json",
            "LOG_LEVEL": "DEBUG",
        },
    )
    hook = f"http://127.0.0.1:{port}/tg/hook"
    try:
        bot.wait_until(lambda: api.calls_of("setWebhook"), 60, "setWebhook")
        (registered,) = api.calls_of("setWebhook")
        assert registered.params["url"] == "https://bot.example/tg/hook"
        assert registered.params["secret_token"] == SECRET

        def health_up() -> bool:
            """Serving, and the reminders started (after the unit mapping, once it polls)."""
            try:
                status, body = _get_json(f"http://127.0.0.1:{health_port}/health")
            except OSError:
                return False
            return status == 200 and body["scheduler"] is True

        bot.wait_until(health_up, 60, "/health")
        status, body = _get_json(f"http://127.0.0.1:{health_port}/health")
        assert status == 200 and body["status"] == "ok" and body["db"] is True
        assert body["mode"] == "webhook" and body["scheduler"] is True
        assert body["version"] and body["uptime_seconds"] >= 0
        assert _get_json(f"http://127.0.0.1:{health_port}/nothing")[0] == 404

        # The two reminders due at start go out through the fake Bot API (both, before what
        # follows counts the messages sent).
        def to_group() -> int:
            return len([c for c in api.calls_of("sendMessage") if c.params["chat_id"] == GROUP])

        bot.wait_until(lambda: to_group() >= 2, 20, "the two reminders due at start")

        def send(text: str, secret: str | None = SECRET) -> int:
            update = api.send_text(text, user_id=ADMIN)
            return _post(hook, update, secret)

        # Without the secret, or with a wrong one: refused, nothing answered.
        mark = api.mark()
        assert send("/start", secret=None) == 403
        assert send("/start", secret="wrong") == 403
        assert _post(hook, b"{not json", SECRET) >= 400  # PTB: 500, and it keeps serving
        # With it: taken and answered.
        assert send("/start") == 200
        reply = api.wait_for_call("sendMessage", lambda c: c.params["chat_id"] == ADMIN, after=mark)
        assert "学法考法管理员助手" in reply.params["text"]
        assert len(api.calls_of("sendMessage", after=mark)) == 1  # the refused ones: nothing

        mark = api.mark()
        assert send(f"/bind {code}") == 200
        bound = api.wait_for_call("sendMessage", lambda c: c.params["chat_id"] == ADMIN, after=mark)
        assert "绑定成功" in bound.params["text"]
        mark = api.mark()
        assert send("/resetpw ly1zhang") == 200
        preview = api.wait_for_call("sendMessage", after=mark)
        data = preview.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        mark = api.mark()
        assert _post(hook, api.press_button(preview.result, data, user_id=ADMIN), SECRET) == 200
        done = api.wait_for_call("editMessageText", after=mark)
        assert "已提交" in done.params["text"]  # submitted; the result comes once reset:
        result = api.wait_for_call(
            "sendMessage",
            lambda c: c.params["chat_id"] == ADMIN and "已重置" in c.params["text"],
            after=mark,
        )
        assert default_password in result.params["text"]  # the administrator sees it ...
    finally:
        assert bot.stop() == 0
    text = bot.log()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert all({"ts", "level", "logger", "msg"} <= set(e) for e in entries)
    assert any(e["level"] == "DEBUG" for e in entries)
    # ... the logs do not: not the token, not the webhook secret, not the default password.
    assert api.token not in text and SECRET not in text
    assert not re.search(rf"(?<![0-9A-Za-z]){re.escape(default_password)}(?![0-9A-Za-z])", text)
    assert "***" in text  # they were there to redact (PTB logs requests at debug level)
    assert any("reminder" in e["msg"] and "sent to chat" in e["msg"] for e in entries)


def test_json_logs_redact_messages_extras_and_tracebacks(monkeypatch):
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "987654321:AAExampleExampleExampleExample_1")
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", "hook-secret-xyz")
    stream = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stream)
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        setup_logging("INFO", fmt="json")
        REDACT.add("000000", word=True)
        log = logging.getLogger("test.ops")
        log.info(
            "token %s", "987654321:AAExampleExampleExampleExample_1", extra={"chat": -1000000123}
        )
        log.warning("reset", extra={"detail": {"password": "000000", "secret": "hook-secret-xyz"}})
        try:
            raise RuntimeError("failed with hook-secret-xyz")
        except RuntimeError:
            log.exception("boom")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [e["msg"] for e in lines] == ["token ***", "reset", "boom"]
    assert lines[0]["chat"] == -1000000123  # a number that merely contains 000000 is kept
    assert lines[1]["detail"] == {"password": "***", "secret": "***"}
    assert "RuntimeError: failed with ***" in lines[2]["exc"]
    assert lines[0]["level"] == "INFO" and lines[0]["logger"] == "test.ops"
