"""Helpers for the hostile-input tests (test_fuzz.py, test_authorization.py): Telegram-shaped
updates from chosen senders, a snapshot of every table, and a checker for what the bot sent
(valid Telegram HTML, within Telegram's limits, no markup from the input rendered as markup)."""

from __future__ import annotations

import html
import itertools
import re
import time
import weakref
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect, text
from telegram.ext import CallbackQueryHandler, CommandHandler, ConversationHandler

from bot.context import AppContext
from bot.sandbox.offline import BOT_ID, BOT_USERNAME
from bot.sandbox.telegram_text import text_entities, utf16_len
from harness.fakeapi import ApiError, check_markup, parse_html

ANONYMOUS_ADMIN_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "学法考法助手", "username": BOT_USERNAME}

_ids = itertools.count(5_000_000)


@dataclass(frozen=True)
class Sender:
    """Who speaks: a sandbox user name (None with ``anonymous``) and where."""

    name: str | None
    group: bool = False
    anonymous: bool = False  # an anonymous group administrator (sender_chat is the group)


def _chat(bot, sender: Sender) -> dict[str, Any]:
    if sender.group or sender.anonymous:
        return {"id": bot.group_id, "type": "supergroup", "title": "学法考法管理员联络群"}
    return {"id": bot.user_id(sender.name), "type": "private", "first_name": sender.name}


def _from(bot, sender: Sender) -> dict[str, Any]:
    if sender.anonymous:
        return dict(ANONYMOUS_ADMIN_BOT)
    return {"id": bot.user_id(sender.name), "is_bot": False, "first_name": sender.name}


def message_update(
    bot,
    value: str,
    sender: Sender,
    *,
    kind: str = "message",
    reply_to_bot: bool = False,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A text message (or ``kind="edited_message"``) as Telegram would deliver it."""
    message: dict[str, Any] = {
        "message_id": next(_ids),
        "date": int(time.time()),
        "chat": _chat(bot, sender),
        "from": _from(bot, sender),
    }
    if sender.anonymous:
        message["sender_chat"] = dict(message["chat"])
    if value:
        message["text"] = value
        found = text_entities(value)
        if found:
            message["entities"] = found
    if kind == "edited_message":
        message["edit_date"] = int(time.time())
    if reply_to_bot:
        message["reply_to_message"] = {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": message["chat"],
            "from": dict(BOT_USER),
            "text": "上一条回答",
        }
    message.update(extra or {})
    return {"update_id": next(_ids), kind: message}


def callback_update(bot, data: str, sender: Sender, *, where: str = "chat") -> dict[str, Any]:
    """A button press. ``where``: "chat" (a bot message in the sender's chat), "inline" (no
    message, an inline_message_id) or "inaccessible" (a message too old to be delivered)."""
    query: dict[str, Any] = {
        "id": str(next(_ids)),
        "from": _from(bot, sender),
        "chat_instance": "fuzz",
        "data": data,
    }
    chat = _chat(bot, sender)
    if where == "chat":
        query["message"] = {
            "message_id": next(_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": dict(BOT_USER),
            "text": "带按钮的旧消息",
        }
    elif where == "inaccessible":
        query["message"] = {"message_id": next(_ids), "date": 0, "chat": chat}
    else:
        query["inline_message_id"] = f"inline-{next(_ids)}"
    return {"update_id": next(_ids), "callback_query": query}


# --- what the handlers listen for ---------------------------------------------------------------


def _walk(handlers):
    for handler in handlers:
        if isinstance(handler, ConversationHandler):
            yield from _walk(handler.entry_points)
            for state_handlers in handler.states.values():
                yield from _walk(state_handlers)
            yield from _walk(handler.fallbacks)
        else:
            yield handler


def all_handlers(app) -> list[Any]:
    return [h for group in sorted(app.handlers) for h in _walk(app.handlers[group])]


def registered_commands(app) -> set[str]:
    """Every command some CommandHandler answers (conversation entry points included)."""
    names: set[str] = set()
    for handler in all_handlers(app):
        if isinstance(handler, CommandHandler):
            names.update(handler.commands)
    return names


def callback_patterns(app) -> list[re.Pattern]:
    """The data patterns of every CallbackQueryHandler (None: one that takes any data)."""
    return [
        handler.pattern
        for handler in all_handlers(app)
        if isinstance(handler, CallbackQueryHandler)
    ]


# --- the database ---------------------------------------------------------------------------------


_TABLES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
# Not the data an update may be said to have changed: Alembic's bookkeeping, and conversation
# state (/register's drafts, bot.registration.drafts), which PTB kept in memory before.
UNWATCHED = {"alembic_version", "registration_drafts"}


def snapshot(ctx: AppContext) -> dict[str, list[tuple]]:
    """Every row of every table (alembic's own bookkeeping aside), in id order. Read through
    the driver directly: thousands of snapshots per test run."""
    engine = ctx.db.engine
    tables = _TABLES.get(engine)
    if tables is None:
        tables = [t for t in inspect(engine).get_table_names() if t not in UNWATCHED]
        _TABLES[engine] = tables
    conn = engine.raw_connection()
    try:
        cursor = conn.cursor()
        rows = {}
        for table in tables:
            cursor.execute(f'SELECT * FROM "{table}" ORDER BY 1')
            rows[table] = [tuple(row) for row in cursor.fetchall()]
        cursor.close()
        conn.rollback()
        return rows
    finally:
        conn.close()


def counts(ctx: AppContext) -> dict[str, int]:
    return {table: len(rows) for table, rows in snapshot(ctx).items()}


def audit_actions(ctx: AppContext, since_id: int) -> list[str]:
    with ctx.db.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT action FROM audit_log WHERE id > :since ORDER BY id"), {"since": since_id}
        )
        return [r[0] for r in rows]


def changes(before: dict[str, list[tuple]], after: dict[str, list[tuple]]) -> dict[str, Any]:
    """Tables whose rows differ: {table: (rows gone, rows new)}."""
    diff = {}
    for table in sorted(set(before) | set(after)):
        old, new = before.get(table, []), after.get(table, [])
        if old != new:
            diff[table] = ([r for r in old if r not in new], [r for r in new if r not in old])
    return diff


# --- what the bot sent ------------------------------------------------------------------------


@dataclass
class Payload:
    """A hostile text and what to look for in replies: ``fragments`` are (sentinel, markup)
    pairs placed as sentinel+markup in the text; ``products`` are the values of the
    ``{{ a*b }}`` expressions in it, which must never appear (a template evaluated them)."""

    text: str = ""
    fragments: list[tuple[str, str]] = field(default_factory=list)
    products: list[str] = field(default_factory=list)

    def __add__(self, other: Payload) -> Payload:
        return Payload(
            self.text + other.text,
            self.fragments + other.fragments,
            self.products + other.products,
        )


@dataclass
class Sent:
    method: str
    raw: str
    plain: str
    html: bool


TEXT_METHODS = ("sendMessage", "editMessageText")
CAPTION_METHODS = ("sendDocument", "sendPhoto")


def check_calls(calls, payloads: list[Payload] = ()) -> list[Sent]:
    """Every Bot API call is one Telegram would accept, and no input markup is live in it."""
    sent: list[Sent] = []
    for call in calls:
        p = call.params
        if call.method == "answerCallbackQuery":
            assert utf16_len(str(p.get("text") or "")) <= 200, p
            continue
        if call.method in TEXT_METHODS:
            key, limit = "text", 4096
        elif call.method in CAPTION_METHODS:
            key, limit = "caption", 1024
            if p.get(key) is None:
                continue
        else:
            continue
        raw = str(p.get(key) or "")
        is_html = str(p.get("parse_mode") or "").lower() == "html"
        try:
            plain = parse_html(raw)[0] if is_html else raw
        except ApiError as exc:  # what Telegram answers: the message is never delivered
            raise AssertionError(f"{call.method}: {exc}\n{raw!r}") from None
        if key == "text":
            assert plain.strip(), f"{call.method}: empty text"
        assert utf16_len(plain) <= limit, f"{call.method}: {utf16_len(plain)} > {limit}"
        check_markup(p.get("reply_markup"))
        for entity in parse_html(raw)[1] if is_html else []:
            assert "evil.example" not in str(entity.get("url", "")), (raw, entity)
        for payload in payloads:
            check_not_injected(raw, plain, payload, is_html=is_html)
        sent.append(Sent(call.method, raw, plain, is_html))
    return sent


def check_not_injected(raw: str, plain: str, payload: Payload, *, is_html: bool) -> None:
    for product in payload.products:
        assert product not in plain, f"template expression evaluated ({product}): {raw!r}"
    if not is_html:
        return
    for sentinel, markup in payload.fragments:
        if "<" in markup:
            # escaped, the markup reads "&lt;…"; live, it reads as it was typed
            assert sentinel + markup not in raw, f"live markup {markup!r} in {raw!r}"
        if "&" in markup:
            decoded = html.unescape(markup)
            start = plain.find(sentinel)
            while start >= 0:
                after = plain[start + len(sentinel) :]
                assert not (
                    decoded != markup and after.startswith(decoded) and not after.startswith(markup)
                ), f"entity {markup!r} decoded in {raw!r}"
                start = plain.find(sentinel, start + 1)
