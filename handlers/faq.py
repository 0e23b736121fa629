"""FAQ in the group and in private chat (the Telegram side of ``faq.engine``).

Group: answers `/faq 问题`, messages that mention or reply to the bot, and plain messages that are
clearly a question it can answer (or, when the notice does not answer it, says where to ask);
everything else gets silence. Private: answers, or offers up to three suggestions as buttons; a
follow-up ("那第二次呢") is read against the chat's question before (the engine keeps it, by chat
id). The engine decides; this adapter finds the question in the update,
keeps each group's recent answers (for the engine's repeat rule, per forum topic) in
``chat_data`` and sends what the engine wrote, in the asker's topic.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    Update,
)
from telegram.ext import ContextTypes

from bot.core.render import render
from bot.outgoing import send
from faq.modes import GROUP, PRIVATE
from faq.repeats import RecentAnswers
from handlers.common import app_ctx, is_private, reply, send_text, topic_of

if TYPE_CHECKING:  # the engine itself loads in a worker thread (bot.app)
    from faq.decision import Result

CALLBACK_PREFIX = "faq:"
RECENT_KEY = "faq_recent"  # chat_data: the group's recent answers (faq.repeats)
BUTTON_CHARS = 60  # a suggestion's button shows the start of its question


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
    now = ctx.now()
    mode = PRIVATE if is_private(update) else GROUP
    if not ctx.faq_ready:  # still warming up (bot.app): a plain group message gets silence
        if mode == GROUP and not addressed:
            return
        await asyncio.to_thread(lambda: ctx.faq)  # an asker waits for it rather than guess
    recent = _recent(context)
    topic = topic_of(update.effective_message)
    # In private chat the engine reads a follow-up ("那第二次呢") against the chat's last question.
    chat = update.effective_chat.id if mode == PRIVATE and update.effective_chat else None
    result = ctx.faq.decide(
        question, mode=mode, addressed=addressed, now=now, recent=recent, topic=topic, chat=chat
    )
    if result.answer_html is None:
        return
    # A repeat points at the earlier answer (in the same topic) instead of the asker.
    sent = await send_text(
        update, result.answer_html, keyboard=_keyboard(result), reply_to=result.reply_to
    )
    if sent is not None:
        ctx.faq.remember(recent, result, sent.message_id, now, topic)


def _recent(context: ContextTypes.DEFAULT_TYPE) -> RecentAnswers:
    """This chat's recent answers, kept by PTB with the chat's other data."""
    if context.chat_data is None:
        return {}
    recent: RecentAnswers = context.chat_data.setdefault(RECENT_KEY, {})
    return recent


def _keyboard(result: Result) -> InlineKeyboardMarkup | None:
    if not result.choices:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(e.question[:BUTTON_CHARS], callback_data=CALLBACK_PREFIX + e.id)]
            for e in result.choices
        ]
    )


async def on_suggestion(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None or not query.data:
        return
    ctx = app_ctx(context)
    # Built already, unless the bot has just restarted (then wait for the warm-up).
    engine = ctx.faq if ctx.faq_ready else await asyncio.to_thread(lambda: ctx.faq)
    now = ctx.now()
    # The question the buttons were offered for: its yes or no, its facts, in the answer.
    chat = query.message.chat.id if query.message is not None else None
    asked = engine.followups.last(chat, now) if chat is not None else None
    result = engine.chosen(query.data.removeprefix(CALLBACK_PREFIX), now, asked or "")
    if result is None or result.answer_html is None:
        await query.answer(render("faq_stale", c=ctx.config), show_alert=False)
        return
    await query.answer()
    if query.message is not None:
        await send(
            context.bot,
            query.message.chat.id,
            result.answer_html,
            message_thread_id=topic_of(query.message),
        )
