"""The Bot API method table: method name (case-insensitive) → implementation, plus the
methods about the bot itself and how it receives updates (getMe, getUpdates, webhooks).

An implementation runs with the world's lock held and returns the ``result`` of the answer or
raises ApiError. Only getUpdates waits (on the world's condition, which releases the lock)."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from typing import Any

from harness.fakeapi import chats, messages
from harness.fakeapi.records import Files, Params
from harness.fakeapi.world import Json, World, int_param

Method = Callable[[World, Params, Files], Any]


def get_me(world: World, params: Params, files: Files) -> Any:
    return {
        **world.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


def _confirm(world: World, offset: int) -> None:
    """Forget what ``offset`` confirms (and what allowed_updates filters out), like Telegram."""
    if offset > 0:
        world.updates = [u for u in world.updates if u["update_id"] >= offset]
    elif offset < 0:
        world.updates = world.updates[offset:]
    if world.allowed_updates:
        allowed = set(world.allowed_updates)
        world.updates = [u for u in world.updates if set(u) - {"update_id"} & allowed]


def get_updates(world: World, params: Params, files: Files) -> Any:
    """Long poll: answer at once if updates are pending, else wait up to ``timeout`` seconds
    (a stopping server answers ``[]`` at once)."""
    offset = int_param(params, "offset", 0)
    limit = max(1, min(100, int_param(params, "limit", 100)))
    timeout = max(0.0, float(params.get("timeout") or 0))
    allowed = params.get("allowed_updates")
    if isinstance(allowed, list):
        world.allowed_updates = allowed or None
    deadline = time.monotonic() + timeout
    while True:
        _confirm(world, offset)
        if world.updates or world.stopping:
            break
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        world.cond.wait(remaining)
    if world.stopping:
        return []
    return copy.deepcopy(world.updates[:limit])


def set_webhook(world: World, params: Params, files: Files) -> Any:
    world.webhook_url = str(params.get("url") or "")
    return True


def delete_webhook(world: World, params: Params, files: Files) -> Any:
    world.webhook_url = ""
    if params.get("drop_pending_updates") is True:
        world.updates.clear()
    return True


def get_webhook_info(world: World, params: Params, files: Files) -> Json:
    return {
        "url": world.webhook_url,
        "has_custom_certificate": False,
        "pending_update_count": len(world.updates),
    }


def succeed(world: World, params: Params, files: Files) -> Any:
    """Methods the project calls whose answer carries nothing: ``true``."""
    return True


_TABLE: dict[str, Method] = {
    "getMe": get_me,
    "getUpdates": get_updates,
    "setWebhook": set_webhook,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "sendMessage": messages.send_message,
    "sendDocument": messages.send_document,
    "sendPhoto": messages.send_photo,
    "editMessageText": messages.edit_message_text,
    "editMessageCaption": messages.edit_message_caption,
    "editMessageReplyMarkup": messages.edit_message_reply_markup,
    "deleteMessage": messages.delete_message,
    "answerCallbackQuery": messages.answer_callback_query,
    "sendChatAction": chats.send_chat_action,
    "setMyCommands": chats.set_my_commands,
    "deleteMyCommands": chats.delete_my_commands,
    "getMyCommands": chats.get_my_commands,
    "getChatMember": chats.get_chat_member,
    "getChatAdministrators": chats.get_chat_administrators,
    "getChat": chats.get_chat,
    "getFile": chats.get_file,
    "close": succeed,
    "logOut": succeed,
    "pinChatMessage": succeed,
    "unpinChatMessage": succeed,
    "setChatMenuButton": succeed,
}
METHODS: dict[str, Method] = {name.lower(): impl for name, impl in _TABLE.items()}


def find_method(name: str) -> Method | None:
    """The implementation of a Bot API method (names are case-insensitive), None if unknown."""
    return METHODS.get(name.lower())
