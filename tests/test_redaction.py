"""Logs (issue 14, item 9): at ``LOG_LEVEL=DEBUG`` python-telegram-bot logs every request's
parameters and every update. Invite codes and learner accounts travel in message texts, button
data and the texts the bot sends; none of them may reach the log, at any level. Ids and method
names stay, so that the log is still good for following what happened.

The real process against the fake Bot API, like tests/test_operations.py, with JSON logs.
"""

from __future__ import annotations

import json
import logging

import pytest

from bot.context import create_context
from bot.core.config import load_config
from bot.core.logging_setup import MASK, JsonFormatter, Redactor, RedactSecrets, TextFormatter
from harness.fakeapi import FakeBotAPI
from tests import factories
from tests.botproc import BotProcess, say

ADMIN = 6201
STRANGER = 6202
GROUP = -1001888000002
ACCOUNTS = ("ly1zhang", "lyjyli", "hdzhao", "sfjwang")  # the learners of factories.tree


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


def test_debug_logs_carry_no_invite_code_and_no_learner_account(api, tmp_path):
    ctx = create_context(load_config(), db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    factories.tree(ctx)
    codes = [factories.invite(ctx, "LY-JY", "unit") for _ in range(3)]
    ctx.db.dispose()
    bot = BotProcess(api, tmp_path, env={"LOG_FORMAT": "json", "LOG_LEVEL": "DEBUG"})
    try:
        bot.wait_polling()
        # An invite code as a command argument, inside a sentence, and posted in a group.
        assert "绑定成功" in say(api, f"/bind {codes[0]}", ADMIN).params["text"]
        say(api, f"我的邀请码是 {codes[1]}，怎么绑定？", STRANGER)
        mark = api.mark()
        api.send_text(f"/bind {codes[2]}", user_id=STRANGER, chat_id=GROUP)
        api.wait_for_call("sendMessage", lambda c: c.params["chat_id"] == GROUP, after=mark)
        # Learner accounts as arguments, in the bot's previews, in button data and in the
        # texts it sends after a button press.
        preview = say(api, f"/resetpw {ACCOUNTS[0]}", ADMIN)
        buttons = preview.params["reply_markup"]["inline_keyboard"]
        mark = api.mark()
        api.press_button(preview.result, buttons[0][0]["callback_data"], user_id=ADMIN)
        api.wait_for_call("editMessageText", after=mark, timeout=20)
        say(api, f"/transfer {ACCOUNTS[1]}", ADMIN)
        say(api, f"/exempt {ACCOUNTS[2]} 退休 2022-10-01", ADMIN)
        say(api, f"/resetpw {ACCOUNTS[3]}", ADMIN)
    finally:
        assert bot.stop() == 0
    text = bot.log()
    entries = [json.loads(line) for line in text.splitlines() if line.strip()]
    assert any(e["level"] == "DEBUG" and "getUpdates" in e["msg"] for e in entries)
    for secret in (*codes, *ACCOUNTS):
        leaks = [e["msg"][:300] for e in entries if secret in json.dumps(e, ensure_ascii=False)]
        assert not leaks, (secret, leaks[:3])
    # Still a log to follow: method names, chat ids and the commands used are there.
    requests = [e["msg"] for e in entries if "sendMessage" in e["msg"]]
    assert requests and any(str(ADMIN) in m for m in requests)
    assert any("/resetpw" in e["msg"] for e in entries)


# --- the rule, record by record ----------------------------------------------------------------


class Message:
    """Stands in for a Telegram object in a log call's arguments (PTB logs Update objects)."""

    def __init__(self, data: dict) -> None:
        self.data = data

    def to_dict(self, recursive: bool = True) -> dict:
        return self.data

    def __repr__(self) -> str:
        return f"Message({self.data!r})"


def _formatted(msg: str, *args: object, json_lines: bool = False) -> str:
    redactor = Redactor()
    record = logging.LogRecord("telegram.Bot", logging.DEBUG, __file__, 1, msg, args, None)
    assert RedactSecrets(redactor=redactor).filter(record)
    formatter = JsonFormatter(redactor) if json_lines else TextFormatter(redactor)
    return formatter.format(record)


def test_requests_and_updates_lose_their_texts_but_keep_ids_and_methods():
    params = {
        "chat_id": 6201,
        "text": "学员 ly1zhang 的密码已重置",
        "reply_markup": {
            "inline_keyboard": [[{"text": "确认", "callback_data": "pw:ok:ly1zhang"}]]
        },
    }
    line = _formatted("Calling Bot API endpoint `%s` with parameters `%s`", "sendMessage", params)
    assert "ly1zhang" not in line and "确认" not in line
    assert "sendMessage" in line and "6201" in line and MASK in line

    update = Message({"update_id": 7, "message": {"message_id": 3, "text": "/bind AB12-CD34"}})
    line = _formatted("Processing update %s", update, json_lines=True)
    assert "AB12-CD34" not in line and "/bind" in line and "'update_id': 7" in line

    body = json.dumps({"update_id": 8, "callback_query": {"id": "1", "data": "pw:ok:hdzhao"}})
    line = _formatted("Webhook received data: %s", body)
    assert "hdzhao" not in line and "update_id" in line


def test_sensitive_command_arguments_are_cut_from_any_text():
    redactor = Redactor()
    assert redactor("got /bind AB12-CD34 from 6201") == f"got /bind {MASK}"
    assert redactor("/resetpw@xuefa_bot ly1zhang") == f"/resetpw@xuefa_bot {MASK}"
    assert redactor("/exempt hdzhao 退休 2022-10-01") == f"/exempt {MASK}"
    assert redactor("/start") == "/start" and redactor("/help me") == "/help me"
