"""The user side of the fake: messages, documents and button presses from simulated users,
enqueued as updates for the bot's getUpdates."""

from __future__ import annotations

import copy
from typing import Any

from bot.sandbox.telegram_text import text_entities
from harness.fakeapi.records import ApiCall
from harness.fakeapi.world import DEFAULT_USER_FIRST_NAME, Json, World, document_json

DEFAULT_USER_ID = 1001


def _user_message(
    world: World,
    *,
    user_id: int,
    first_name: str,
    username: str | None,
    chat_id: int | None,
    chat_type: str | None,
    chat_title: str | None,
    reply_to: Json | None,
    extra: Json,
    topic: int | None = None,
) -> Json:
    """Store and return a message from a user (in its private chat unless ``chat_id``; in the
    forum topic ``topic`` of a supergroup, which then becomes a forum)."""
    user = world.user(user_id, first_name, username)
    cid = user_id if chat_id is None else chat_id
    chat = world.chat(cid, chat_type)
    if topic is not None:
        chat["is_forum"] = True
        extra = {**extra, "message_thread_id": topic, "is_topic_message": True}
    if chat["type"] == "private":
        chat.setdefault("first_name", first_name)
        if username:
            chat.setdefault("username", username)
    elif chat_title:
        chat["title"] = chat_title
    msg = {**world.new_message(cid, user, chat), **extra}
    if reply_to is not None:
        key = (reply_to["chat"]["id"], reply_to["message_id"])
        replied = copy.deepcopy(world.messages.get(key, reply_to))
        replied.pop("reply_to_message", None)
        msg["reply_to_message"] = replied
    return world.store_message(msg)


def _resolve_message_ref(calls: list[ApiCall], message: Any) -> Json:
    """A bot message from what a test holds: the Message, its ApiCall, the update, or the
    params dict of its sendMessage call."""
    if isinstance(message, ApiCall):
        if not isinstance(message.result, dict):
            raise ValueError(f"call {message.method} has no message result")
        message = message.result
    if isinstance(message, dict) and "message" in message and "update_id" in message:
        message = message["message"]
    if isinstance(message, dict) and "message_id" not in message:
        # params dict of a sendMessage call (e.g. from sent_messages()): find its result
        for call in reversed(calls):
            if call.params is message and isinstance(call.result, dict):
                return call.result
        for call in reversed(calls):
            if call.params == message and isinstance(call.result, dict):
                return call.result
        raise ValueError("could not find the message produced for these params")
    if not isinstance(message, dict):
        raise TypeError(f"expected a message dict or ApiCall, got {type(message)!r}")
    return message


class UserSide:
    """What simulated users do; mixed into FakeBotAPI."""

    world: World

    def enqueue_update(self, update: Json) -> Json:
        """Enqueue a raw update (``update_id`` is assigned) and return it."""
        return self.world.enqueue_update(update)

    def send_text(
        self,
        text: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = DEFAULT_USER_FIRST_NAME,
        chat_id: int | None = None,
        chat_type: str | None = None,
        reply_to: Json | None = None,
        username: str | None = None,
        chat_title: str | None = None,
        message_thread_id: int | None = None,
    ) -> Json:
        """Enqueue a text message from a user; returns the update dict.

        ``chat_id`` defaults to ``user_id`` (private chat); negative ids are supergroups unless
        ``chat_type`` says otherwise.  Leading ``/cmd`` / ``/cmd@bot`` gets a ``bot_command``
        entity and ``@username`` a ``mention`` entity (offsets in UTF-16 units).
        ``message_thread_id``: the message is posted in that topic of a forum supergroup.
        """
        extra: Json = {"text": text}
        entities = text_entities(text)
        if entities:
            extra["entities"] = entities
        with self.world.cond:
            msg = _user_message(
                self.world,
                user_id=user_id,
                first_name=first_name,
                username=username,
                chat_id=chat_id,
                chat_type=chat_type,
                chat_title=chat_title,
                reply_to=reply_to,
                extra=extra,
                topic=message_thread_id,
            )
            return self.world.enqueue_update({"message": msg})

    def send_command(self, command: str, *args: str, **kwargs: Any) -> Json:
        """``send_command("start")`` / ``send_command("/bind", "123")`` → :meth:`send_text`."""
        text = command if command.startswith("/") else f"/{command}"
        if args:
            text = " ".join([text, *args])
        return self.send_text(text, **kwargs)

    def send_document(
        self,
        filename: str,
        content: bytes,
        *,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = DEFAULT_USER_FIRST_NAME,
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str | None = None,
        username: str | None = None,
        mime_type: str | None = None,
        reply_to: Json | None = None,
    ) -> Json:
        """Enqueue a document message from a user; the file is served via getFile/download."""
        with self.world.cond:
            stored = self.world.store_file(content, filename, mime_type, "documents")
            extra: Json = {"document": document_json(stored)}
            if caption is not None:
                extra["caption"] = caption
                entities = text_entities(caption)
                if entities:
                    extra["caption_entities"] = entities
            msg = _user_message(
                self.world,
                user_id=user_id,
                first_name=first_name,
                username=username,
                chat_id=chat_id,
                chat_type=chat_type,
                chat_title=None,
                reply_to=reply_to,
                extra=extra,
            )
            return self.world.enqueue_update({"message": msg})

    def press_button(
        self,
        message: Json | ApiCall,
        data: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        first_name: str = DEFAULT_USER_FIRST_NAME,
        username: str | None = None,
        check: bool = True,
    ) -> Json:
        """Enqueue a callback_query pressing the button ``data`` on a bot message.

        ``message`` may be a Message dict (e.g. ``call.result``), the ApiCall of the
        sendMessage/edit, or the params dict from :meth:`sent_messages`.  The current (edited)
        state of the message is used.  With ``check`` a ValueError is raised if the message has
        no inline button with that callback_data (a real user could not press it).
        """
        world = self.world
        with world.cond:
            msg = _resolve_message_ref(world.calls, message)
            key = (msg["chat"]["id"], msg["message_id"])
            current = copy.deepcopy(world.messages.get(key, msg))
            if check:
                rows = (current.get("reply_markup") or {}).get("inline_keyboard") or []
                datas = [b.get("callback_data") for row in rows for b in row]
                if data not in datas:
                    raise ValueError(
                        f"message {key} has no inline button with callback_data {data!r}; "
                        f"buttons: {datas}"
                    )
            query = {
                "id": f"{next(world.callback_seq)}{user_id}",
                "from": world.user(user_id, first_name, username),
                "message": current,
                "chat_instance": str(abs(hash((key[0], world.bot_id))) % 10**18),
                "data": data,
            }
            return world.enqueue_update({"callback_query": query})
