"""Tests proving harness.fakeapi works with the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter, TelegramError
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
)

from bot.sandbox.telegram_text import text_entities, utf16_len
from harness.fakeapi import ApiError, FakeBotAPI, check_markup, fake_bot_api, parse_html

api = pytest.fixture(fake_bot_api)


def make_bot(api: FakeBotAPI, token: str | None = None) -> Bot:
    return Bot(token or api.token, base_url=api.base_url, base_file_url=api.base_file_url)


async def test_get_me(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        me = await bot.get_me()
    assert me.id == 123
    assert me.is_bot
    assert me.username == "xuefa_test_bot"
    assert me.first_name == "学法考法助手"
    assert me.can_read_all_group_messages is False
    assert api.calls_of("getMe")


async def test_wrong_token_is_invalid_token(api: FakeBotAPI) -> None:
    with pytest.raises(InvalidToken):
        async with make_bot(api, token="999:wrong"):
            pass
    call = api.calls[-1]
    assert call.failed and call.status == 401


async def test_send_message_params_are_decoded(api: FakeBotAPI) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("确认", callback_data="ok")]])
    async with make_bot(api) as bot:
        msg = await bot.send_message(1001, "42", reply_markup=markup)
        msg2 = await bot.send_message(-100200, "第二条")
    params = api.sent_messages()[0]
    assert params["text"] == "42" and isinstance(params["text"], str)
    assert params["chat_id"] == 1001 and isinstance(params["chat_id"], int)
    assert params["reply_markup"] == {
        "inline_keyboard": [[{"text": "确认", "callback_data": "ok"}]]
    }
    assert msg.text == "42" and msg.chat.type == "private" and msg.from_user.is_bot
    assert msg.reply_markup == markup
    assert msg2.chat.type == "supergroup" and msg2.chat.title
    assert msg2.message_id == 1 and msg.message_id == 1  # counters are per chat


async def test_html_validation_and_edit_semantics(api: FakeBotAPI) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("下一题", callback_data="next")]])
    async with make_bot(api) as bot:
        msg = await bot.send_message(
            1001, "<b>你好</b> &lt;x&gt;", parse_mode="HTML", reply_markup=markup
        )
        assert msg.text == "你好 <x>"
        assert msg.entities[0].type == "bold" and msg.entities[0].length == 2
        with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
            await bot.send_message(1001, "a<br>b", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)not modified"):
            await bot.edit_message_text(
                "<b>你好</b> &lt;x&gt;",
                chat_id=1001,
                message_id=msg.message_id,
                parse_mode="HTML",
                reply_markup=markup,
            )
        edited = await bot.edit_message_text("done", chat_id=1001, message_id=msg.message_id)
        assert edited.text == "done" and edited.reply_markup is None  # keyboard removed
        with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
            await bot.edit_message_text("x", chat_id=1001, message_id=999)


async def test_get_updates_long_poll(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        timer = threading.Timer(0.3, api.send_text, args=("/start@xuefa_test_bot 你好 @someone",))
        timer.start()
        t0 = time.monotonic()
        updates = await bot.get_updates(offset=0, timeout=2)
        elapsed = time.monotonic() - t0
        assert 0.2 < elapsed < 1.5
        assert len(updates) == 1
        message = updates[0].message
        assert message.text.startswith("/start")
        assert message.chat.id == 1001 and message.from_user.first_name == "张三"
        entities = message.parse_entities()
        assert list(entities.values()) == ["/start@xuefa_test_bot", "@someone"]

        t0 = time.monotonic()
        nothing = await bot.get_updates(offset=updates[0].update_id + 1, timeout=1)
        elapsed = time.monotonic() - t0
        assert nothing == ()
        assert 0.9 < elapsed < 2
        assert api.pending_updates() == []  # confirmed by the offset


async def test_stop_wakes_pending_poll() -> None:
    api = FakeBotAPI().start()
    try:
        async with make_bot(api) as bot:
            task = asyncio.create_task(bot.get_updates(timeout=10))
            for _ in range(100):
                if api.pending_polls:
                    break
                await asyncio.sleep(0.01)
            assert api.pending_polls == 1
            t0 = time.monotonic()
            await asyncio.to_thread(api.stop)
            result = await asyncio.wait_for(task, 2)
            assert result == ()
            assert time.monotonic() - t0 < 1
    finally:
        api.stop()


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_fault_injection(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        api.fail_next("sendMessage", 429, retry_after=3)
        with pytest.raises(RetryAfter) as exc_info:
            await bot.send_message(1001, "x")
        assert exc_info.value.retry_after == 3  # int unless PTB_TIMEDELTA is set

        api.fail_next("sendMessage", 500)
        with pytest.raises(NetworkError) as net_info:
            await bot.send_message(1001, "x")
        assert type(net_info.value) is NetworkError  # PTB maps 5xx to plain NetworkError
        assert "Internal Server Error" in str(net_info.value)

        api.fail_next("sendMessage", 502, description="Bad Gateway")
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "x")

        api.drop_next("sendMessage")
        with pytest.raises(NetworkError, match="httpx"):
            await bot.send_message(1001, "x")

        api.malformed_next("sendMessage")
        with pytest.raises(TelegramError, match="Invalid server response"):
            await bot.send_message(1001, "x")

        api.delay_next("sendMessage", 0.3)
        t0 = time.monotonic()
        await bot.send_message(1001, "slow")
        assert time.monotonic() - t0 >= 0.3

        with pytest.raises(BadRequest, match=r"(?i)method not found"):
            await bot.do_api_request("noSuchMethod")

    calls = api.calls_of("sendMessage")
    assert [c.fault for c in calls] == ["error", "error", "error", "drop", "malformed", "delay"]
    assert [c.failed for c in calls] == [True] * 5 + [False]
    assert api.sent_texts() == ["slow"]
    assert api.calls_of("noSuchMethod")[0].failed


async def test_documents_round_trip(api: FakeBotAPI) -> None:
    async with make_bot(api) as bot:
        sent = await bot.send_document(
            1001, b"hello \x00 world", filename="报告.txt", caption="<i>月报</i>", parse_mode="HTML"
        )
        call = api.calls_of("sendDocument")[-1]
        upload = call.files["document"]
        assert upload.filename == "报告.txt"
        assert upload.content == b"hello \x00 world"
        assert call.params["chat_id"] == 1001 and call.params["caption"] == "<i>月报</i>"
        assert sent.document.file_name == "报告.txt" and sent.caption == "月报"

        update = api.send_document("名单.xlsx", b"PK\x03\x04 data", caption="名单")
        doc = update["message"]["document"]
        file = await bot.get_file(doc["file_id"])
        assert file.file_path.startswith(api.base_file_url)
        data = await file.download_as_bytearray()
        assert bytes(data) == b"PK\x03\x04 data"

        # the bot can re-send a stored document by file_id
        again = await bot.send_document(-100300, doc["file_id"])
        assert again.document.file_unique_id == doc["file_unique_id"]
        with pytest.raises(BadRequest, match=r"(?i)invalid file_id"):
            await bot.get_file("nope")


async def test_commands_and_chat_member(api: FakeBotAPI) -> None:
    from telegram import BotCommand, BotCommandScopeAllGroupChats, ChatMemberAdministrator

    async with make_bot(api) as bot:
        await bot.set_my_commands([BotCommand("start", "开始")])
        await bot.set_my_commands(
            [BotCommand("stats", "统计")], scope=BotCommandScopeAllGroupChats()
        )
        assert [c.command for c in await bot.get_my_commands()] == ["start"]
        assert api.commands({"type": "all_group_chats"}) == [
            {"command": "stats", "description": "统计"}
        ]
        await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
        with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand("Bad-Cmd", "x")])

        api.set_chat_member(-100500, 1001, "administrator")
        member = await bot.get_chat_member(-100500, 1001)
        assert isinstance(member, ChatMemberAdministrator)
        assert (await bot.get_chat_member(-100500, 1002)).status == "member"
        chat = await bot.get_chat(-100500)
        assert chat.type == "supergroup"
        assert await bot.send_chat_action(1001, "typing") is True
        assert await bot.delete_webhook() is True


async def test_application_end_to_end(api: FakeBotAPI) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        markup = InlineKeyboardMarkup([[InlineKeyboardButton("答题", callback_data="quiz")]])
        await update.effective_message.reply_text("你好", reply_markup=markup)

    async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        await update.callback_query.answer("收到")
        await update.callback_query.edit_message_text(f"按了 {update.callback_query.data}")

    app = (
        ApplicationBuilder()
        .token(api.token)
        .base_url(api.base_url)
        .base_file_url(api.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(on_button))

    await app.initialize()
    await app.start()
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        mark = api.mark()
        api.send_text("/start")
        reply = await api.await_call("sendMessage", after=mark, timeout=5)
        assert reply.params["text"] == "你好"
        assert reply.params["chat_id"] == 1001

        mark = api.mark()
        api.press_button(api.sent_messages()[-1], "quiz")
        answered = await api.await_call("answerCallbackQuery", after=mark, timeout=5)
        assert answered.params["text"] == "收到"
        edit = await api.await_call("editMessageText", after=mark, timeout=5)
        assert edit.params["text"] == "按了 quiz"
        assert api.message(1001, reply.result["message_id"])["text"] == "按了 quiz"
    finally:
        t0 = time.monotonic()
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        assert time.monotonic() - t0 < 3


def test_text_entities_count_utf16_units() -> None:
    """The one copy of Telegram's entity rules, shared by the fake server and the sandbox."""
    text = "/bind@xuefa_test_bot 😀编号 @zhang_san a@not_a_mention"
    assert utf16_len("😀编号") == 4
    assert text_entities(text) == [
        {"type": "bot_command", "offset": 0, "length": 20},
        {"type": "mention", "offset": 26, "length": 10},
    ]
    assert text_entities("/<b>x</b>") == []  # Telegram marks no command here
    lenient = text_entities("/<b>x</b> @zhang_san", lenient_command=True)
    assert lenient == [
        {"type": "bot_command", "offset": 0, "length": 9},
        {"type": "mention", "offset": 10, "length": 10},
    ]


def test_html_checker_and_markup_check() -> None:
    plain, entities = parse_html(
        '<a href="tg://user?id=7">张</a><pre><code class="language-py">x</code></pre>'
    )
    assert plain == "张x"
    assert [e["type"] for e in entities] == ["text_mention", "pre"]
    assert entities[1]["language"] == "py"
    with pytest.raises(ApiError, match="Unmatched end tag"):
        parse_html("<b>x</i>")
    with pytest.raises(ApiError, match="BUTTON_DATA_INVALID"):
        check_markup({"inline_keyboard": [[{"text": "x", "callback_data": "d" * 65}]]})
    assert check_markup({"inline_keyboard": []}) is None
