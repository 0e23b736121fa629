"""FAQ in the group and in private chat.

Group: answers `/faq 问题`, messages that mention or reply to the bot, and plain messages that are
clearly a question it can answer; everything else gets silence. Private: answers, or offers up to
three suggestions as buttons. The same answer in the same group within the repeat window gets a
pointer to the earlier one instead of a repeat.
"""

from __future__ import annotations

import datetime as dt
import hashlib

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, MessageEntity, Update
from telegram.constants import ParseMode
from telegram.ext import ContextTypes

from faq.engine import Result
from handlers.common import app_ctx, is_private, reply, send_text

REPEAT_WINDOW = dt.timedelta(minutes=10)
CALLBACK_PREFIX = "faq:"


def _addressed_text(message: Message, bot_id: int, username: str) -> tuple[bool, str]:
    """Whether the message speaks to the bot (mention or reply), and its text without the mention."""
    text = message.text or ""
    addressed = False
    if message.reply_to_message and message.reply_to_message.from_user:
        addressed = message.reply_to_message.from_user.id == bot_id
    for entity, value in message.parse_entities(
        [MessageEntity.MENTION, MessageEntity.TEXT_MENTION]
    ).items():
        if (
            entity.type == MessageEntity.MENTION and value.lstrip("@").lower() == username.lower()
        ) or (entity.user is not None and entity.user.id == bot_id):
            addressed = True
            text = text.replace(value, " ")
    return addressed, text.strip()


async def faq_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    question = " ".join(context.args or []).strip()
    if not question:
        await reply(update, context, "faq_usage")
        return
    await _answer(update, context, question, addressed=True)


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    if message.from_user is not None and message.from_user.is_bot:
        return
    if is_private(update):
        await _answer(update, context, message.text, addressed=True)
        return
    addressed, question = _addressed_text(message, context.bot.id, context.bot.username or "")
    if not addressed and (message.forward_origin is not None or message.via_bot is not None):
        return  # forwarded notices and inline-bot posts are not questions to us
    if addressed and not question:
        await reply(update, context, "faq_usage")
        return
    await _answer(update, context, question, addressed=addressed)


async def _answer(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str, *, addressed: bool
) -> None:
    ctx = app_ctx(context)
    private = is_private(update)
    now = ctx.now()
    result: Result = ctx.faq.decide(
        question, mode="private" if private else "group", addressed=addressed, now=now
    )
    if result.answer_html is None:
        return
    if (
        not private
        and result.kind == "answer"
        and await _point_to_earlier(update, context, result, now)
    ):
        return
    keyboard = None
    if private and result.kind == "suggest":
        keyboard = InlineKeyboardMarkup(
            [
                [InlineKeyboardButton(e.question[:60], callback_data=f"{CALLBACK_PREFIX}{e.id}")]
                for e in result.suggestions
            ]
        )
    sent = await send_text(update, result.answer_html, keyboard=keyboard)
    if sent is not None and not private and result.kind == "answer":
        recent = context.chat_data.setdefault("faq_recent", {})
        recent[_answer_key(result)] = (sent.message_id, now)


def _answer_key(result: Result) -> str:
    return hashlib.sha1((result.answer_html or "").encode()).hexdigest()


async def _point_to_earlier(
    update: Update, context: ContextTypes.DEFAULT_TYPE, result: Result, now: dt.datetime
) -> bool:
    recent: dict = context.chat_data.setdefault("faq_recent", {})
    for key, (_, at) in list(recent.items()):
        if now - at > REPEAT_WINDOW:
            del recent[key]
    earlier = recent.get(_answer_key(result))
    if earlier is None:
        return False
    message_id, at = earlier
    ctx = app_ctx(context)
    from bot.core.render import render

    text = render("faq_repeat", c=ctx.config, minutes=max(1, int((now - at).total_seconds() // 60)))
    await context.bot.send_message(
        chat_id=update.effective_chat.id,
        text=text,
        parse_mode=ParseMode.HTML,
        reply_to_message_id=message_id,
        allow_sending_without_reply=True,
    )
    return True


async def on_suggestion(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or not query.data:
        return
    ctx = app_ctx(context)
    entry = ctx.faq.by_id.get(query.data.removeprefix(CALLBACK_PREFIX))
    if entry is None:
        await query.answer("这个选项已失效，请重新提问。", show_alert=False)
        return
    await query.answer()
    text = ctx.faq.render(entry, entry.question, ctx.now())
    if query.message is not None:
        await context.bot.send_message(
            chat_id=query.message.chat.id,
            text=f"<b>{_escape(entry.question)}</b>\n{text}",
            parse_mode=ParseMode.HTML,
        )


def _escape(text: str) -> str:
    from html import escape

    return escape(text, quote=False)
