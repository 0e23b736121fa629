"""The Bot API methods about messages: send, edit, delete, answer a button press. Each checks
what the real API checks (HTML, lengths, keyboards, "message is not modified")."""

from __future__ import annotations

import copy
import time
from typing import Any

from bot.sandbox.telegram_text import utf16_len
from harness.fakeapi.records import ApiError, Files, Params, StoredFile
from harness.fakeapi.telegram_html import parse_html
from harness.fakeapi.world import Json, MessageKey, World, document_json, int_param

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
TEXT_LIMIT = 4096  # UTF-16 units of a message text
CAPTION_LIMIT = 1024  # UTF-16 units of a caption
CALLBACK_DATA_BYTES = 64
# An inline button without callback_data must have exactly one of these.
_BUTTON_ACTIONS = (
    "url",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "web_app",
    "callback_game",
    "pay",
)
_MEDIA = ("document", "photo", "video", "audio", "animation")


# ---------------------------------------------------------------- checks shared by the methods


def formatted(params: Params, text_key: str, entities_key: str) -> tuple[str, list[Json] | None]:
    """The text as Telegram stores it: HTML parsed into plain text plus entities."""
    text = params.get(text_key)
    text = "" if text is None else str(text)
    entities = params.get(entities_key)
    parse_mode = str(params.get("parse_mode") or "").lower()
    if entities is None and parse_mode == "html":
        text, entities = parse_html(text)
    return text, (entities or None)


def _check_button(button: Any) -> None:
    if not isinstance(button, dict) or not button.get("text"):
        raise ApiError('Bad Request: can\'t find field "text"')
    if "callback_data" in button:
        size = len(str(button["callback_data"]).encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_BYTES:
            raise ApiError("Bad Request: BUTTON_DATA_INVALID")
    elif not any(k in button for k in _BUTTON_ACTIONS):
        raise ApiError(
            "Bad Request: can't parse inline keyboard button: "
            "InlineKeyboardButton must have exactly one optional field"
        )


def check_markup(markup: Any) -> Json | None:
    """Validate reply_markup; return it if it belongs into the Message (inline only)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError("Bad Request: can't parse reply keyboard markup JSON object")
    rows = markup.get("inline_keyboard")
    if rows is None:
        return None  # reply keyboards / remove / force_reply are not echoed in Message
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(
            'Bad Request: field "inline_keyboard" of the InlineKeyboardMarkup '
            "must be an Array of Arrays"
        )
    for row in rows:
        for button in row:
            _check_button(button)
    return copy.deepcopy(markup) if rows else None


def _check_text(text: str) -> None:
    if not text.strip():
        raise ApiError("Bad Request: message text is empty")
    if utf16_len(text) > TEXT_LIMIT:
        raise ApiError("Bad Request: message is too long")


def _reply_to(world: World, chat_id: int, params: Params) -> Json | None:
    """The message a new one replies to (reply_parameters or the older reply_to_message_id)."""
    rp = params.get("reply_parameters")
    if isinstance(rp, dict):
        mid = rp.get("message_id")
        rchat = rp.get("chat_id", chat_id)
        allow = bool(rp.get("allow_sending_without_reply"))
    elif params.get("reply_to_message_id") is not None:
        mid, rchat = params["reply_to_message_id"], chat_id
        allow = bool(params.get("allow_sending_without_reply"))
    else:
        return None
    replied = None
    if isinstance(rchat, int) and isinstance(mid, int):
        replied = world.messages.get((rchat, mid))
    if replied is None:
        if allow:
            return None
        raise ApiError("Bad Request: message to be replied not found")
    replied = copy.deepcopy(replied)
    replied.pop("reply_to_message", None)
    return replied


def _bot_message(world: World, chat_id: int, params: Params, extra: Json) -> Json:
    """Store and return a new message from the bot (after checking markup and reply)."""
    markup = check_markup(params.get("reply_markup"))
    reply_to = _reply_to(world, chat_id, params)
    msg = {**world.new_message(chat_id, world.bot_user), **extra}
    if reply_to is not None:
        msg["reply_to_message"] = reply_to
    if markup is not None:
        msg["reply_markup"] = markup
    topic = _topic(params, reply_to)
    if topic is not None:
        msg["message_thread_id"], msg["is_topic_message"] = topic, True
    return world.store_message(msg)


def _topic(params: Params, reply_to: Json | None) -> int | None:
    """The forum topic a new message lands in: the one it names, else the topic of the message
    it replies to, else none (the General topic, or a chat without topics)."""
    if params.get("message_thread_id") is not None:
        return int_param(params, "message_thread_id")
    if reply_to is not None and reply_to.get("is_topic_message"):
        topic = reply_to.get("message_thread_id")
        return topic if isinstance(topic, int) else None
    return None


def _caption_extra(params: Params) -> Json:
    if params.get("caption") is None:
        return {}
    caption, entities = formatted(params, "caption", "caption_entities")
    if utf16_len(caption) > CAPTION_LIMIT:
        raise ApiError("Bad Request: message caption is too long")
    extra: Json = {"caption": caption}
    if entities:
        extra["caption_entities"] = entities
    return extra


def _input_file(world: World, params: Params, files: Files, name: str, folder: str) -> StoredFile:
    """The file a send method carries: uploaded, attach://, a known file_id or a URL."""
    if name in files:
        up = files[name]
        return world.store_file(up.content, up.filename, up.content_type, folder)
    raw = params.get(name)
    if isinstance(raw, str) and raw.startswith("attach://"):
        up_name = raw[len("attach://") :]
        if up_name not in files:
            raise ApiError(f"Bad Request: file must be non-empty: attach://{up_name}")
        up = files[up_name]
        return world.store_file(up.content, up.filename, up.content_type, folder)
    if isinstance(raw, str) and raw:
        if raw in world.files:
            return world.files[raw]
        if raw.startswith(("http://", "https://")):
            name_part = raw.rstrip("/").rsplit("/", 1)[-1] or None
            return world.store_file(b"", name_part, None, folder)
        raise ApiError("Bad Request: wrong file identifier/HTTP URL specified")
    raise ApiError(f"Bad Request: there is no {name} in the request")


def _find_message(world: World, params: Params, what: str) -> tuple[MessageKey, Json]:
    key = (world.chat_id_of(params), int_param(params, "message_id"))
    msg = world.messages.get(key)
    if msg is None:
        raise ApiError(f"Bad Request: message to {what} not found")
    return key, msg


def _editable(world: World, params: Params) -> tuple[MessageKey, Json] | None:
    """The bot's own message an edit addresses; None for inline messages (not stored)."""
    if params.get("inline_message_id"):
        return None
    key, msg = _find_message(world, params, "edit")
    if msg.get("from", {}).get("id") != world.bot_id:
        raise ApiError("Bad Request: message can't be edited")
    return key, copy.deepcopy(msg)


def _save_edit(world: World, key: MessageKey, msg: Json) -> Json:
    msg["edit_date"] = int(time.time())
    world.messages[key] = copy.deepcopy(msg)
    return copy.deepcopy(msg)


# ---------------------------------------------------------------- the methods


def send_message(world: World, params: Params, files: Files) -> Any:
    chat_id = world.chat_id_of(params)
    text, entities = formatted(params, "text", "entities")
    _check_text(text)
    extra: Json = {"text": text}
    if entities:
        extra["entities"] = entities
    if isinstance(params.get("link_preview_options"), dict):
        extra["link_preview_options"] = params["link_preview_options"]
    return _bot_message(world, chat_id, params, extra)


def send_document(world: World, params: Params, files: Files) -> Any:
    chat_id = world.chat_id_of(params)
    extra = _caption_extra(params)
    stored = _input_file(world, params, files, "document", "documents")
    extra["document"] = document_json(stored)
    return _bot_message(world, chat_id, params, extra)


def send_photo(world: World, params: Params, files: Files) -> Any:
    chat_id = world.chat_id_of(params)
    extra = _caption_extra(params)
    stored = _input_file(world, params, files, "photo", "photos")
    base = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
    extra["photo"] = [
        {**base, "file_id": stored.file_id + "s", "width": 90, "height": 90},
        {**base, "width": 800, "height": 800, "file_size": len(stored.content)},
    ]
    world.files[stored.file_id + "s"] = stored
    return _bot_message(world, chat_id, params, extra)


def edit_message_text(world: World, params: Params, files: Files) -> Any:
    text, entities = formatted(params, "text", "entities")
    _check_text(text)
    markup = check_markup(params.get("reply_markup"))
    found = _editable(world, params)
    if found is None:
        return True
    key, msg = found
    if "text" not in msg:
        raise ApiError("Bad Request: there is no text in the message to edit")
    if (
        msg.get("text") == text
        and msg.get("entities") == entities
        and msg.get("reply_markup") == markup
    ):
        raise ApiError(NOT_MODIFIED)
    msg["text"] = text
    msg.pop("entities", None)
    msg.pop("reply_markup", None)  # an edit without reply_markup removes the keyboard
    if entities:
        msg["entities"] = entities
    if markup is not None:
        msg["reply_markup"] = markup
    return _save_edit(world, key, msg)


def edit_message_caption(world: World, params: Params, files: Files) -> Any:
    extra = _caption_extra({**params, "caption": params.get("caption") or ""})
    markup = check_markup(params.get("reply_markup"))
    found = _editable(world, params)
    if found is None:
        return True
    key, msg = found
    if not any(k in msg for k in _MEDIA):
        raise ApiError("Bad Request: there is no caption in the message to edit")
    if (
        msg.get("caption", "") == extra.get("caption", "")
        and msg.get("caption_entities") == extra.get("caption_entities")
        and msg.get("reply_markup") == markup
    ):
        raise ApiError(NOT_MODIFIED)
    for k in ("caption", "caption_entities", "reply_markup"):
        msg.pop(k, None)
    if extra.get("caption"):
        msg.update(extra)
    if markup is not None:
        msg["reply_markup"] = markup
    return _save_edit(world, key, msg)


def edit_message_reply_markup(world: World, params: Params, files: Files) -> Any:
    markup = check_markup(params.get("reply_markup"))
    found = _editable(world, params)
    if found is None:
        return True
    key, msg = found
    if msg.get("reply_markup") == markup:
        raise ApiError(NOT_MODIFIED)
    msg.pop("reply_markup", None)
    if markup is not None:
        msg["reply_markup"] = markup
    return _save_edit(world, key, msg)


def delete_message(world: World, params: Params, files: Files) -> Any:
    key, _ = _find_message(world, params, "delete")
    del world.messages[key]
    return True


def answer_callback_query(world: World, params: Params, files: Files) -> Any:
    if not params.get("callback_query_id"):
        raise ApiError(
            "Bad Request: query is too old and response timeout expired or query ID is invalid"
        )
    if len(str(params.get("text") or "")) > 200:
        raise ApiError("Bad Request: MESSAGE_TOO_LONG")
    return True
