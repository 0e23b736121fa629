"""End to end, as a hostile group member would try it: an invite code posted in a group.

`python -m bot run` as a subprocess against the fake Bot API (harness/fakeapi). A code seen in a
group is void at once: the message is deleted where the bot may (and the group told when it may
not), the city office is told privately to issue a new one, and /bind with it in private chat is
refused afterwards.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlmodel import func, select

from harness.fakeapi import FakeBotAPI
from tests.botproc import BotProcess, say

GROUP = -100555
CITY_UID, MEMBER_UID = 7001, 8001


def world(tmp_path: Path) -> tuple[str, list[str]]:
    """The test unit tree in the bot's database, the city office bound, two invite codes for
    耒阳市教育局 issued on the server."""
    from bot.context import create_context
    from bot.core.config import load_config
    from tests import factories

    db_url = f"sqlite:///{tmp_path / 'bot.db'}"
    ctx = create_context(load_config(), db_url=db_url)
    factories.tree(ctx)
    factories.bind(ctx, "city", "city", CITY_UID)
    codes = [factories.invite(ctx, "LY-JY", "unit") for _ in range(2)]
    ctx.db.dispose()
    return db_url, codes


def bindings(db_url: str) -> int:
    from bot.core.db import Database
    from bot.org.models import TelegramBinding

    db = Database(db_url)
    try:
        with db.session() as s:
            return s.exec(select(func.count()).select_from(TelegramBinding)).one()
    finally:
        db.dispose()


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


def test_an_invite_code_posted_in_a_group_is_void_at_once(api, tmp_path):
    db_url, (first, second) = world(tmp_path)
    before = bindings(db_url)
    bot = BotProcess(api, tmp_path, now="2022-09-14T10:00")
    try:
        bot.wait_polling()

        # A plain group message that carries the code: deleted, the group warned, the city
        # office told in private.
        mark = api.mark()
        posted = api.send_text(f"邀请码：{first}，请尽快绑定", user_id=MEMBER_UID, chat_id=GROUP)
        message_id = posted["message"]["message_id"]
        deleted = api.wait_for_call(
            "deleteMessage", lambda c: int(c.params["chat_id"]) == GROUP, after=mark, timeout=20
        )
        assert int(deleted.params["message_id"]) == message_id
        warning = api.wait_for_call(
            "sendMessage", lambda c: int(c.params["chat_id"]) == GROUP, after=mark, timeout=20
        )
        told = api.wait_for_call(
            "sendMessage", lambda c: int(c.params["chat_id"]) == CITY_UID, after=mark, timeout=20
        )
        text = warning.params["text"]
        assert "作废" in text and "私聊" in text
        assert first not in text and first.replace("-", "") not in text
        assert "作废" in told.params["text"] and "耒阳市教育局" in told.params["text"]
        assert first not in told.params["text"]

        # The group member binds it first in private: refused, as a void code.
        refused = say(api, f"/bind {first}", MEMBER_UID)
        assert "作废" in refused.params["text"]

        # /bind CODE sent in the group by mistake, lower case, where the bot is no admin: void
        # too; the group is told the message could not be deleted.
        api.fail_next("deleteMessage", 400, description="Bad Request: message can't be deleted")
        mark = api.mark()
        api.send_text(f"/bind {second.lower()}", user_id=CITY_UID, chat_id=GROUP)
        warning = api.wait_for_call(
            "sendMessage", lambda c: int(c.params["chat_id"]) == GROUP, after=mark, timeout=20
        )
        assert "无法删除" in warning.params["text"] and second.lower() not in warning.params["text"]
        refused = say(api, f"/bind {second}", MEMBER_UID)
        assert "作废" in refused.params["text"]

        # Ordinary group talk is still answered (the FAQ), and nothing was deleted for it.
        mark = api.mark()
        api.send_text("补考什么时候报名", user_id=MEMBER_UID, chat_id=GROUP)
        answer = api.wait_for_call(
            "sendMessage", lambda c: int(c.params["chat_id"]) == GROUP, after=mark, timeout=20
        )
        assert "10月25日" in answer.params["text"]
        assert api.calls_of("deleteMessage", after=mark) == []
    finally:
        bot.stop()
    assert bindings(db_url) == before  # nobody became an administrator
    log = bot.log()
    assert first not in log and second not in log and second.lower() not in log
