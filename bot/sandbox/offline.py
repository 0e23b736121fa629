"""An offline Telegram: a request object that answers Bot API calls locally and records them.

The sandbox runs the real Application on it, and handler tests use it as their Bot's transport
(bots are frozen objects, so the transport is the place to intercept). Nothing leaves the machine.
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from telegram.request import BaseRequest, RequestData

from bot.core import words

BOT_ID = 7000000001
BOT_USERNAME = "xuefa_sandbox_bot"
NAMES: dict[str, str] = words.beside(__file__, "offline.toml")


@dataclass
class ApiCall:
    method: str
    params: dict[str, Any]
    files: dict[str, Any] = field(default_factory=dict)


class OfflineRequest(BaseRequest):
    """Answers every Bot API method plausibly; ``calls`` records them in order."""

    def __init__(self, *, bot_id: int = BOT_ID, username: str = BOT_USERNAME) -> None:
        self.bot_id = bot_id
        self.username = username
        self.calls: list[ApiCall] = []
        self._ids = itertools.count(1)
        self.listeners: list[Callable[[ApiCall], None]] = []
        self.files: dict[str, bytes] = {}  # file_id -> content, served by getFile + download

    def add_file(self, file_id: str, content: bytes) -> None:
        """Make a file "uploaded by a user" available to getFile and its download."""
        self.files[file_id] = content

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    # --- what the tests and the sandbox read --------------------------------------------------
    def of(self, *methods: str) -> list[ApiCall]:
        return [c for c in self.calls if c.method in methods]

    def texts(self, since: int = 0) -> list[str]:
        return [
            str(c.params.get("text", c.params.get("caption", "")))
            for c in self.calls[since:]
            if c.method in ("sendMessage", "editMessageText", "sendDocument", "sendPhoto")
        ]

    def mark(self) -> int:
        return len(self.calls)

    # --- the transport -----------------------------------------------------------------------
    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": NAMES["bot_first_name"],
            "username": self.username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def message_for(self, params: dict[str, Any]) -> dict[str, Any]:
        """The Message Telegram would answer for a send/edit with these parameters."""
        chat_id = int(params.get("chat_id", 0))
        chat: dict[str, Any] = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"}
        if chat_id < 0:
            chat["title"] = NAMES["group_title"]
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._ids)),
            "date": int(time.time()),
            "chat": chat,
            "from": self._bot_user(),
        }
        if "text" in params:
            message["text"] = params["text"]
        if "caption" in params:
            message["caption"] = params["caption"]
        if "reply_markup" in params:
            message["reply_markup"] = params["reply_markup"]
        return message

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return self._bot_user()
        if method == "getUpdates":
            return []
        if method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            return self.message_for(params)
        if method == "sendDocument":
            message = self.message_for(params)
            message["document"] = {"file_id": f"doc{next(self._ids)}", "file_unique_id": "u"}
            return message
        if method == "getChatMember":
            return {
                "status": "member",
                "user": {"id": int(params["user_id"]), "is_bot": False, "first_name": "x"},
            }
        if method == "getMyCommands":
            return []
        if method == "getFile":
            file_id = str(params["file_id"])
            return {
                "file_id": file_id,
                "file_unique_id": f"u{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"documents/{file_id}",
            }
        return True

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
    ) -> tuple[int, bytes]:
        api_method = url.rsplit("/", 1)[-1]
        if method == "GET":  # a file download: serve what add_file registered
            self.calls.append(ApiCall("download", {"file_id": api_method}))
            if api_method in self.files:
                return 200, self.files[api_method]
            return 404, b'{"ok": false, "error_code": 404, "description": "Not Found"}'
        params = dict(request_data.parameters) if request_data else {}
        if api_method == "getFile" and str(params.get("file_id")) not in self.files:
            self.calls.append(ApiCall(api_method, params))
            body = {"ok": False, "error_code": 400, "description": "Bad Request: invalid file_id"}
            return 400, json.dumps(body).encode()
        files: dict[str, Any] = {}
        if request_data is not None and request_data.contains_files:
            files = {k: v for k, v in request_data.multipart_data.items()}
        call = ApiCall(api_method, params, files)
        self.calls.append(call)
        for listener in self.listeners:
            listener(call)
        body = {"ok": True, "result": self._answer(api_method, params)}
        return 200, json.dumps(body).encode()
