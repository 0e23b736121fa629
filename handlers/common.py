"""Helpers shared by the Telegram adapters: the app context, identity and replying."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from telegram import (
    CallbackQuery,
    Chat,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
    Update,
)
from telegram.ext import ContextTypes

from bot.context import AppContext
from bot.core.errors import Refused
from bot.core.render import render
from bot.core.uow import Origin, UnitOfWork
from bot.org.identity import Identity, identify
from bot.outgoing import HTML, NO_PREVIEW
from bot.roster.accounts import typed_form

T = TypeVar("T")
R = TypeVar("R")


def app_ctx(context: ContextTypes.DEFAULT_TYPE) -> AppContext:
    return context.application.bot_data["ctx"]


def is_private(update: Update) -> bool:
    return update.effective_chat is not None and update.effective_chat.type == Chat.PRIVATE


def sender_id(update: Update) -> int | None:
    """The person behind the message, or None for messages sent on behalf of a chat
    (anonymous group administrators, channels)."""
    message = update.effective_message
    if message is not None and message.sender_chat is not None:
        return None
    user = update.effective_user
    return user.id if user is not None else None


WHO_TTL = 60.0  # seconds a looked-up identity is reused for /start and /help


def forget_who(context: ContextTypes.DEFAULT_TYPE, *user_ids: int) -> None:
    """Drop cached identities after a binding changes in this process."""
    cache = context.application.bot_data.get("who_cache", {})
    if not user_ids:
        cache.clear()
    for uid in user_ids:
        cache.pop(uid, None)


async def who(update: Update, context: ContextTypes.DEFAULT_TYPE) -> Identity | None:
    """Who is speaking, for display only (/start, /help): cached for a minute. Every
    administrator action authorizes inside its own unit of work instead, uncached."""
    uid = sender_id(update)
    if uid is None:
        return None
    cache: dict[int, tuple[float, Identity | None]] = context.application.bot_data.setdefault(
        "who_cache", {}
    )
    hit = cache.get(uid)
    if hit is not None and time.monotonic() - hit[0] < WHO_TTL:
        return hit[1]
    identity = await act(update, context, lambda uow: identify(uow.session, uid))
    if len(cache) > 10000:
        cache.clear()
    cache[uid] = (time.monotonic(), identity)
    return identity


def topic_of(message: MaybeInaccessibleMessage | None) -> int | None:
    """The forum topic a message sits in, for an answer to stay there. None for a chat without
    topics and for a forum's General topic (which takes no ``message_thread_id``); a reply chain
    in a plain group has a ``message_thread_id`` too, but it is no topic."""
    if isinstance(message, Message) and message.is_topic_message:
        return message.message_thread_id
    return None


async def reply(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    template: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    **variables: Any,
) -> Message | None:
    """Render ``template`` and answer the update's message (as a reply in groups)."""
    ctx = app_ctx(context)
    text = render(template, c=ctx.config, now=ctx.now(), **variables)
    return await send_text(update, text, keyboard=keyboard)


async def send_text(
    update: Update,
    text: str,
    *,
    keyboard: InlineKeyboardMarkup | None = None,
    reply_to: int | None = None,
) -> Message | None:
    """Answer the update's message in its chat and in its forum topic, named (so the answer
    stays there even when the message it replies to is gone): in groups as a reply to the
    asker, or to ``reply_to`` (another message of the chat); in private chat plainly."""
    message = update.effective_message
    if message is None:
        return None
    elsewhere = (
        ReplyParameters(reply_to, allow_sending_without_reply=True)
        if reply_to is not None
        else None
    )
    return await message.reply_text(
        text,
        reply_markup=keyboard,
        do_quote=not is_private(update),
        reply_parameters=elsewhere,
        message_thread_id=topic_of(message),
        parse_mode=HTML,
        link_preview_options=NO_PREVIEW,
    )


async def edit_message(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Replace the pressed message's text (and its buttons: none unless ``markup``)."""
    await query.edit_message_text(
        text, reply_markup=markup, parse_mode=HTML, link_preview_options=NO_PREVIEW
    )


# --- administrator actions: private chat only, refusals rendered the same way everywhere ---

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, Any]]


async def refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, refusal: Refused) -> None:
    await send_text(update, refusal.render(c=app_ctx(context).config))


Callback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, R]]


def private_only(command: str) -> Callable[[Callback[R]], Callback[R | None]]:
    """In a group, say to use private chat, and reveal nothing else. A refusal the handler
    raises is rendered the same way everywhere (a conversation then ends: None). The command's
    arguments reach the handler in the form the parsers read (full-width letters and digits
    folded to ASCII: ``typed_form``), once, here."""

    def wrap(handler: Callback[R]) -> Callback[R | None]:
        @functools.wraps(handler)
        async def inner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> R | None:
            if not is_private(update):
                await refuse(update, context, Refused("private_only", command=f"/{command}"))
                return None
            if context.args:
                context.args = [typed_form(word) for word in context.args]
            try:
                return await handler(update, context)
            except Refused as refusal:
                await refuse(update, context, refusal)
                return None

        return inner

    return wrap


def chat_id_of(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat else None


def origin_of(update: Update) -> Origin:
    """The origin every unit of work of this update is stamped with."""
    return Origin.telegram(chat_id_of(update), sender_id(update))


async def act(
    update: Update, context: ContextTypes.DEFAULT_TYPE, work: Callable[[UnitOfWork], T]
) -> T:
    """Do ``work`` in one unit of work (one session, authorization inside, one commit) off the
    event loop, stamped with this update's origin. Refusals propagate to the caller."""
    return await app_ctx(context).run(work, origin_of(update))
