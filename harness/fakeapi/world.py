"""The Telegram side of the fake: the bot, chats, users, messages, files, pending updates and
the record of calls, behind one lock (the HTTP threads, the test and the bot share it)."""

from __future__ import annotations

import copy
import itertools
import json
import mimetypes
import re
import threading
import time
import tomllib
from pathlib import Path
from typing import Any

from harness.fakeapi.records import ApiCall, ApiError, Params, StoredFile

# Display names (Chinese, like the real users') live in a data file, not in code.
NAMES: dict[str, str] = tomllib.loads(Path(__file__).with_name("names.toml").read_text("utf-8"))
DEFAULT_TOKEN = "123:abc"
BOT_FIRST_NAME = NAMES["bot_first_name"]
BOT_USERNAME = "xuefa_test_bot"
DEFAULT_GROUP_TITLE = NAMES["group_title"]
DEFAULT_USER_FIRST_NAME = NAMES["user_first_name"]

Json = dict[str, Any]
MessageKey = tuple[int, int]  # (chat_id, message_id)


def scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
    """Where setMyCommands stores a command list: its scope (default if none) and language."""
    scope = scope if isinstance(scope, dict) else {"type": "default"}
    return json.dumps(scope, sort_keys=True), str(language_code or "")


def int_param(params: Params, name: str, default: int | None = None) -> int:
    """An integer parameter, answering like the Bot API when it is missing or malformed."""
    raw = params.get(name, default)
    if raw is None:
        raise ApiError(f"Bad Request: {name} is empty")
    try:
        return int(raw)
    except (TypeError, ValueError) as exc:
        raise ApiError(f"Bad Request: invalid {name} specified") from exc


def document_json(stored: StoredFile) -> Json:
    """The Document object of a stored file."""
    doc: Json = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.content),
    }
    if stored.filename:
        doc["file_name"] = stored.filename
    if stored.mime_type:
        doc["mime_type"] = stored.mime_type
    return doc


class World:
    """All state of the fake Telegram. Hold ``cond`` while reading or changing it."""

    def __init__(self, token: str, bot_first_name: str, bot_username: str) -> None:
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username

        self.cond = threading.Condition(threading.RLock())
        self.calls: list[ApiCall] = []
        self.stopping = False
        self.pending_polls = 0

        self.updates: list[Json] = []
        self.next_update_id = 1
        self.allowed_updates: list[str] | None = None
        self.messages: dict[MessageKey, Json] = {}
        self.message_counters: dict[int, int] = {}
        self.chats: dict[int, Json] = {}
        self.users: dict[int, Json] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.file_seq = itertools.count(1)
        self.callback_seq = itertools.count(1)
        self.commands: dict[tuple[str, str], list[Json]] = {}
        self.members: dict[MessageKey, Json] = {}
        self.webhook_url = ""

    @property
    def bot_user(self) -> Json:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- calls and updates

    def record(self, call: ApiCall) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    def enqueue_update(self, update: Json) -> Json:
        """Enqueue a raw update (``update_id`` is assigned) and return it."""
        with self.cond:
            upd = copy.deepcopy(update)
            upd["update_id"] = self.next_update_id
            self.next_update_id += 1
            self.updates.append(upd)
            self.cond.notify_all()
            return copy.deepcopy(upd)

    def sleep_unless_stopping(self, seconds: float) -> None:
        """Wait ``seconds`` (an injected delay), but no longer than until the server stops."""
        with self.cond:
            self.cond.wait_for(lambda: self.stopping, timeout=seconds)

    # ---------------------------------------------------------------- users and chats

    def user(
        self, user_id: int, first_name: str, username: str | None, last_name: str | None = None
    ) -> Json:
        """Register (or refresh) a human user; returns its User object."""
        user: Json = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "zh-hans",
        }
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        self.users[user_id] = user
        return dict(user)

    def chat(self, chat_id: int, chat_type: str | None = None) -> Json:
        """The stored Chat object, created on first use (negative ids are supergroups)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            chat = self._new_chat(chat_id, chat_type)
            self.chats[chat_id] = chat
        elif chat_type is not None and chat["type"] != chat_type:
            chat["type"] = chat_type
            if chat_type != "private":
                chat.setdefault("title", DEFAULT_GROUP_TITLE)
        return chat

    def _new_chat(self, chat_id: int, chat_type: str | None) -> Json:
        if chat_type is None:
            chat_type = "supergroup" if chat_id < 0 else "private"
        chat: Json = {"id": chat_id, "type": chat_type}
        if chat_type != "private":
            chat["title"] = DEFAULT_GROUP_TITLE
            return chat
        user = self.users.get(chat_id)
        if user:
            chat["first_name"] = user["first_name"]
            if "username" in user:
                chat["username"] = user["username"]
        return chat

    def chat_id_of(self, params: Params, name: str = "chat_id") -> int:
        """The chat a method addresses: a numeric id or a known ``@username``."""
        raw = params.get(name)
        if raw is None or raw == "":
            raise ApiError("Bad Request: chat_id is empty")
        if isinstance(raw, bool):
            raise ApiError("Bad Request: chat not found")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, str):
            if re.fullmatch(r"-?\d+", raw.strip()):
                return int(raw)
            uname = raw.lstrip("@").lower()
            for cid, chat in self.chats.items():
                if str(chat.get("username", "")).lower() == uname:
                    return cid
        raise ApiError("Bad Request: chat not found")

    # ---------------------------------------------------------------- messages and files

    def next_message_id(self, chat_id: int) -> int:
        n = self.message_counters.get(chat_id, 0) + 1
        self.message_counters[chat_id] = n
        return n

    def store_message(self, msg: Json) -> Json:
        self.messages[(msg["chat"]["id"], msg["message_id"])] = copy.deepcopy(msg)
        return copy.deepcopy(msg)

    def new_message(self, chat_id: int, sender: Json, chat: Json | None = None) -> Json:
        """The common head of a new message in ``chat_id`` from ``sender``."""
        return {
            "message_id": self.next_message_id(chat_id),
            "date": int(time.time()),
            "chat": copy.deepcopy(chat if chat is not None else self.chat(chat_id)),
            "from": sender,
        }

    def store_file(
        self, content: bytes, filename: str | None, mime_type: str | None, folder: str
    ) -> StoredFile:
        """Keep a file so getFile and the download URL can serve it."""
        n = next(self.file_seq)
        ext = ""
        if filename and "." in filename:
            ext = "." + filename.rsplit(".", 1)[1]
        if mime_type is None and filename:
            mime_type = mimetypes.guess_type(filename, strict=False)[0]
        stored = StoredFile(
            file_id=f"FAKE{folder[:3].upper()}{n:06d}AgADfileid",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{folder}/file_{n}{ext}",
            content=bytes(content),
            filename=filename,
            mime_type=mime_type or "application/octet-stream",
        )
        self.files[stored.file_id] = stored
        self.files_by_path[stored.file_path] = stored
        return stored
