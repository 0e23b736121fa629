"""A fake Telegram Bot API HTTP server for tests (standard library only).

Usage::

    with FakeBotAPI() as api:
        bot = telegram.Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url)
        ...
        api.send_text("/start")                      # enqueue an update for getUpdates
        call = await api.await_call("sendMessage")   # wait for the bot's reply
        assert call.params["text"] == "你好"

The server speaks the subset of the Bot API that the project uses (see ``_METHODS``), records
every request in :attr:`FakeBotAPI.calls` and supports fault injection (:meth:`fail_next`,
:meth:`delay_next`, :meth:`drop_next`, :meth:`malformed_next`).

Behaviour modelled on the real API (so that tests catch real mistakes):

* ``parse_mode="HTML"`` text/captions are validated like Telegram does (unsupported tags,
  unbalanced tags → ``400 Bad Request: can't parse entities: ...``); the returned Message holds
  the plain text plus entities.  MarkdownV2 is *not* validated (text is stored as sent).
* ``editMessageText`` without ``reply_markup`` removes the inline keyboard; an edit that changes
  nothing answers ``400 Bad Request: message is not modified: ...``.
* Editing/deleting an unknown message answers ``message to edit not found`` /
  ``message to delete not found``; ``callback_data`` longer than 64 bytes answers
  ``BUTTON_DATA_INVALID``; text longer than 4096 UTF-16 units answers ``message is too long``.
* ``getUpdates`` confirms (forgets) updates with ``update_id < offset``, like Telegram.
"""

from __future__ import annotations

import asyncio
import copy
import html
import itertools
import json
import mimetypes
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = ["ApiCall", "ApiError", "FakeBotAPI", "UploadedFile", "fake_bot_api"]

DEFAULT_TOKEN = "123:abc"
BOT_FIRST_NAME = "学法考法助手"
BOT_USERNAME = "xuefa_test_bot"
DEFAULT_GROUP_TITLE = "学法考法测试群"

# Parameters that are always strings, even if they look like JSON ("42", "true", "[x]").
STRING_FIELDS = frozenset(
    {
        "text",
        "caption",
        "parse_mode",
        "callback_query_id",
        "url",
        "query",
        "inline_message_id",
        "file_id",
        "title",
        "description",
        "short_description",
        "name",
        "short_name",
        "language_code",
        "action",
        "emoji",
        "question",
        "explanation",
        "explanation_parse_mode",
        "question_parse_mode",
        "payload",
        "currency",
        "provider_token",
        "start_parameter",
        "secret_token",
        "ip_address",
        "first_name",
        "last_name",
        "phone_number",
        "vcard",
        "address",
        "foursquare_id",
        "foursquare_type",
        "google_place_id",
        "google_place_type",
        "custom_title",
        "invite_link",
        "sticker_set_name",
        "business_connection_id",
        "game_short_name",
        "message_effect_id",
        "switch_pm_text",
        "switch_pm_parameter",
        "next_offset",
        "error_message",
        "shipping_query_id",
        "pre_checkout_query_id",
        "cache_time_text",
        # file inputs passed as file_id / URL / attach:// strings
        "document",
        "photo",
        "audio",
        "video",
        "animation",
        "voice",
        "video_note",
        "sticker",
        "thumbnail",
        "cover",
        "certificate",
    }
)

_NUMBER_RE = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?")
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9_@/])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")
_BOT_COMMAND_NAME_RE = re.compile(r"[a-z0-9_]{1,32}")

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)


# --------------------------------------------------------------------------------------------
# records


@dataclass
class UploadedFile:
    """One file part of a multipart request."""

    field: str
    filename: str | None
    content: bytes
    content_type: str | None = None


@dataclass
class ApiCall:
    """One request the fake server received.

    ``params`` holds the decoded parameters (JSON fields decoded, string fields raw), ``files``
    the uploaded file parts by field name.  ``failed`` is True when the call did not get a
    successful answer (injected fault, API error, bad token); ``fault`` names the injected
    fault kind ("error", "drop", "malformed", "delay") if any; ``response`` is the JSON body
    sent back (None for dropped/malformed answers).
    """

    method: str
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    at: float
    failed: bool = False
    fault: str | None = None
    status: int = 200
    response: dict[str, Any] | None = None
    http_method: str = "POST"

    @property
    def result(self) -> Any:
        """The ``result`` of a successful answer (e.g. the Message dict), else None."""
        if self.response and self.response.get("ok"):
            return self.response.get("result")
        return None

    @property
    def ok(self) -> bool:
        return not self.failed


class ApiError(Exception):
    """Raised by method implementations; turned into an error answer."""

    def __init__(
        self,
        description: str,
        status: int = 400,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.description = description
        self.status = status
        self.parameters = parameters


@dataclass
class _Fault:
    kind: str  # "error" | "delay" | "drop" | "malformed"
    status: int = 200
    description: str | None = None
    parameters: dict[str, Any] | None = None
    seconds: float = 0.0


@dataclass
class _StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    content: bytes
    filename: str | None = None
    mime_type: str | None = None


@dataclass
class _Request:
    http_method: str
    path: str
    headers: Any
    body: bytes
    query: str
    arrived: float = field(default_factory=time.time)


# --------------------------------------------------------------------------------------------
# helpers


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_value(name: str, raw: str) -> Any:
    if name in STRING_FIELDS:
        return raw
    s = raw.strip()
    if not s:
        return raw
    looks_json = s[0] in "{[" or s in ("true", "false") or _NUMBER_RE.fullmatch(s) is not None
    if not looks_json:
        return raw
    try:
        return json.loads(s)
    except ValueError:
        return raw


def _decode_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    return {name: _decode_value(name, raw) for name, raw in pairs}


_HEADER_PARAM_RE = re.compile(r';\s*([\w*.-]+)\s*=\s*("(?:[^"\\]|\\.)*"|[^;]*)')


def _header_params(value: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, raw in _HEADER_PARAM_RE.findall(value):
        v = raw.strip()
        if v.startswith('"') and v.endswith('"') and len(v) >= 2:
            v = v[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        key = key.lower()
        if key.endswith("*"):  # RFC 5987: utf-8''percent-encoded
            _, _, encoded = v.partition("''")
            out[key[:-1]] = unquote(encoded, encoding="utf-8")
        else:
            # httpx escapes a few characters HTML5-style (%22 for ", %0A, %0D).
            out.setdefault(key, v.replace("%22", '"').replace("%0A", "\n").replace("%0D", "\r"))
    return out


def _parse_multipart(
    body: bytes, content_type: str
) -> tuple[list[tuple[str, str]], dict[str, UploadedFile]]:
    boundary = _header_params(content_type).get("boundary")
    if not boundary:
        raise ApiError("Bad Request: invalid multipart/form-data: no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    fields: list[tuple[str, str]] = []
    files: dict[str, UploadedFile] = {}
    chunks = body.split(delimiter)
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            break
        part = chunk[2:] if chunk.startswith(b"\r\n") else chunk
        if part.endswith(b"\r\n"):
            part = part[:-2]
        head, sep, data = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").split("\r\n"):
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = _header_params(headers.get("content-disposition", ""))
        name = disposition.get("name")
        if name is None:
            continue
        if "filename" in disposition or (
            headers.get("content-type", "text/plain").split(";")[0].strip().lower()
            not in ("text/plain", "")
        ):
            files[name] = UploadedFile(
                field=name,
                filename=disposition.get("filename"),
                content=data,
                content_type=headers.get("content-type"),
            )
        else:
            fields.append((name, data.decode("utf-8", "replace")))
    return fields, files


_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}


class _TelegramHTML(HTMLParser):
    """Validates/strips Telegram-flavoured HTML, producing plain text and entities."""

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=False)
        self.source = source
        self.out: list[str] = []
        self.length = 0  # utf-16 units emitted so far
        self.stack: list[tuple[str, dict[str, Any], int]] = []
        self.entities: list[dict[str, Any]] = []
        self._line_starts = [0]
        for m in re.finditer("\n", source):
            self._line_starts.append(m.end())

    def _byte_offset(self) -> int:
        line, col = self.getpos()
        idx = self._line_starts[line - 1] + col
        return len(self.source[:idx].encode("utf-8"))

    def _fail(self, message: str) -> None:
        raise ApiError(f"Bad Request: can't parse entities: {message}")

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += _utf16_len(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: (v or "") for k, v in attrs}
        entity: dict[str, Any] | None
        if tag in _SIMPLE_TAGS:
            entity = {"type": _SIMPLE_TAGS[tag]}
            if tag == "blockquote" and "expandable" in a:
                entity["type"] = "expandable_blockquote"
            if tag == "code" and a.get("class", "").startswith("language-"):
                entity["language"] = a["class"][len("language-") :]
        elif tag == "span":
            if a.get("class") != "tg-spoiler":
                self._fail(f'Unsupported start tag "span" at byte offset {self._byte_offset()}')
            entity = {"type": "spoiler"}
        elif tag == "a":
            href = a.get("href", "")
            m = re.fullmatch(r"tg://user\?id=(\d+)", href)
            if m:
                entity = {
                    "type": "text_mention",
                    "user": {"id": int(m.group(1)), "is_bot": False, "first_name": "User"},
                }
            else:
                entity = {"type": "text_link", "url": href}
        elif tag == "tg-emoji":
            entity = {"type": "custom_emoji", "custom_emoji_id": a.get("emoji-id", "")}
        else:
            self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')
            return
        self.stack.append((tag, entity, self.length))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._fail(f'Unsupported start tag "{tag}" at byte offset {self._byte_offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            self._fail(f"Unexpected end tag at byte offset {self._byte_offset()}")
        open_tag, entity, start = self.stack.pop()
        if open_tag != tag:
            self._fail(
                f"Unmatched end tag at byte offset {self._byte_offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
        length = self.length - start
        if length <= 0:
            return
        if open_tag == "code" and self.stack and self.stack[-1][0] == "pre":
            # <pre><code class="language-x"> → language of the enclosing pre entity
            if "language" in entity:
                self.stack[-1][1]["language"] = entity["language"]
            return
        if open_tag == "code":
            entity.pop("language", None)
        self.entities.append({**entity, "offset": start, "length": length})

    def handle_data(self, data: str) -> None:
        if "<" in data:
            self._fail(f'Unsupported start tag "" at byte offset {self._byte_offset()}')
        self._emit(data)

    def handle_entityref(self, name: str) -> None:
        if name in ("lt", "gt", "amp", "quot"):
            self._emit(html.unescape(f"&{name};"))
        else:  # Telegram leaves unsupported named entities as literal text
            self._emit(f"&{name};")

    def handle_charref(self, name: str) -> None:
        self._emit(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        self._fail(f'Unsupported start tag "!--" at byte offset {self._byte_offset()}')

    def handle_decl(self, decl: str) -> None:
        self._fail(f'Unsupported start tag "!" at byte offset {self._byte_offset()}')

    def unknown_decl(self, data: str) -> None:
        self.handle_decl(data)

    def handle_pi(self, data: str) -> None:
        self._fail(f'Unsupported start tag "?" at byte offset {self._byte_offset()}')

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        self.feed(self.source)
        self.close()
        if self.stack:
            self._fail(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return "".join(self.out), self.entities


def parse_html(text: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML like the Bot API: returns (plain_text, entities) or raises ApiError."""
    return _TelegramHTML(text).run()


def _text_entities(text: str) -> list[dict[str, Any]]:
    """Entities Telegram's client/server would attach to a user's message text."""
    entities: list[dict[str, Any]] = []
    covered_until = 0
    m = _COMMAND_RE.match(text)
    if m:
        entities.append({"type": "bot_command", "offset": 0, "length": _utf16_len(m.group())})
        covered_until = m.end()
    for mm in _MENTION_RE.finditer(text):
        if mm.start() < covered_until:
            continue
        entities.append(
            {
                "type": "mention",
                "offset": _utf16_len(text[: mm.start()]),
                "length": _utf16_len(mm.group()),
            }
        )
    return entities


# --------------------------------------------------------------------------------------------
# HTTP plumbing


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeBotAPI/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection: simple, and stop() is clean

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size_line = self.rfile.readline().split(b";")[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    # trailer
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        req = _Request(
            http_method=self.command,
            path=unquote(split.path),
            headers=self.headers,
            body=self._read_body(),
            query=split.query,
        )
        api: FakeBotAPI = self.server.api  # type: ignore[attr-defined]
        answer = api._handle_request(req)
        if answer is None:  # drop the connection without answering
            self.close_connection = True
            return
        status, content_type, payload = answer
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = _handle
    do_POST = _handle


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, api: FakeBotAPI) -> None:
        self.api = api
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client went away (e.g. PTB cancelled a long poll): not interesting.
        pass


# --------------------------------------------------------------------------------------------
# the fake API


class FakeBotAPI:
    """Fake Telegram Bot API server on 127.0.0.1:<free port>. See module docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_first_name: str = BOT_FIRST_NAME,
        bot_username: str = BOT_USERNAME,
    ) -> None:
        self.token = token
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123
        self.bot_first_name = bot_first_name
        self.bot_username = bot_username

        self.calls: list[ApiCall] = []
        self._cond = threading.Condition(threading.RLock())
        self._stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._pending_polls = 0

        self._faults: dict[str, deque[_Fault]] = {}
        self._updates: list[dict[str, Any]] = []
        self._next_update_id = 1
        self._allowed_updates: list[str] | None = None
        self._messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._message_counters: dict[int, int] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._users: dict[int, dict[str, Any]] = {}
        self._files: dict[str, _StoredFile] = {}
        self._files_by_path: dict[str, _StoredFile] = {}
        self._file_seq = itertools.count(1)
        self._callback_seq = itertools.count(1)
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._members: dict[tuple[int, int], dict[str, Any]] = {}
        self.webhook_url = ""

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotAPI:
        if self._server is not None:
            return self
        self._stopping = False
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FakeBotAPI:{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Wake pending long polls (they answer ``[]``), shut the server down, join it."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        server, thread = self._server, self._thread
        if server is None:
            return
        # give woken long polls a moment to write their (empty) answers
        deadline = time.monotonic() + 1.0
        with self._cond:
            while self._pending_polls and time.monotonic() < deadline:
                self._cond.wait(0.02)
        server.shutdown()
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not running")
        return self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)`` / ``ApplicationBuilder().base_url(...)``."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``Bot(base_file_url=...)`` / ``ApplicationBuilder().base_file_url(...)``."""
        return f"{self.url}/file/bot"

    file_base_url = base_file_url

    @property
    def pending_polls(self) -> int:
        """Number of getUpdates requests currently blocked in a long poll."""
        with self._cond:
            return self._pending_polls

    @property
    def bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # ---------------------------------------------------------------- fault injection

    def _push_fault(self, method: str, fault: _Fault, times: int = 1) -> None:
        with self._cond:
            queue = self._faults.setdefault(method.lower(), deque())
            for _ in range(times):
                queue.append(copy.copy(fault))

    def fail_next(
        self,
        method: str,
        status: int = 500,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
        parameters: dict[str, Any] | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` with an HTTP error.

        429 answers ``Too Many Requests: retry after N`` with ``parameters.retry_after``
        (N defaults to 1).  ``parameters`` (e.g. ``{"migrate_to_chat_id": -100...}``) is
        merged into the answer's ``parameters``.
        """
        params = dict(parameters or {})
        if status == 429 and retry_after is None:
            retry_after = 1
        if retry_after is not None:
            params["retry_after"] = retry_after
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
        self._push_fault(
            method,
            _Fault("error", status=status, description=description, parameters=params or None),
            times,
        )

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` normally, but after ``seconds``."""
        self._push_fault(method, _Fault("delay", seconds=seconds), times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection of the next call(s) of ``method`` without any answer."""
        self._push_fault(method, _Fault("drop"), times)

    def malformed_next(self, method: str, times: int = 1) -> None:
        """Answer the next call(s) of ``method`` with HTTP 200 and a body that is not JSON."""
        self._push_fault(method, _Fault("malformed"), times)

    def clear_faults(self) -> None:
        with self._cond:
            self._faults.clear()

    # ---------------------------------------------------------------- inspecting calls

    def mark(self) -> int:
        """Current number of recorded calls; pass as ``after=`` to only see newer calls."""
        with self._cond:
            return len(self.calls)

    def calls_of(self, method: str, *, after: int = 0) -> list[ApiCall]:
        """All recorded calls of ``method`` (including failed ones)."""
        m = method.lower()
        with self._cond:
            return [c for c in self.calls[after:] if c.method.lower() == m]

    def sent_messages(self, *, chat_id: int | None = None, after: int = 0) -> list[dict]:
        """Params of the *successful* sendMessage calls (optionally only to ``chat_id``)."""
        return [
            c.params
            for c in self.calls_of("sendMessage", after=after)
            if not c.failed and (chat_id is None or c.params.get("chat_id") == chat_id)
        ]

    def sent_texts(self, *, chat_id: int | None = None, after: int = 0) -> list[str]:
        return [p.get("text", "") for p in self.sent_messages(chat_id=chat_id, after=after)]

    def wait_for_call(
        self,
        method: str | None = "sendMessage",
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
        after: int = 0,
        *,
        include_failed: bool = False,
    ) -> ApiCall:
        """Block until a call at index >= ``after`` matches; return it.

        ``method=None`` matches any method.  Failed calls (injected faults, API errors) are
        skipped unless ``include_failed``.  Raises ``TimeoutError`` listing what was seen.
        """
        m = method.lower() if method else None
        deadline = time.monotonic() + timeout
        idx = after
        with self._cond:
            while True:
                while idx < len(self.calls):
                    call = self.calls[idx]
                    idx += 1
                    if m is not None and call.method.lower() != m:
                        continue
                    if call.failed and not include_failed:
                        continue
                    if predicate is None or predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        f"{c.method}{' (failed)' if c.failed else ''} {c.params!r:.120}"
                        for c in self.calls[after:]
                        if c.method != "getUpdates"
                    ]
                    raise TimeoutError(
                        f"no {method or 'API'} call matching after index {after} within "
                        f"{timeout}s; calls seen: {seen}"
                    )
                self._cond.wait(remaining)

    def wait_for(
        self, predicate: Callable[[ApiCall], bool], timeout: float = 10.0, after: int = 0
    ) -> ApiCall:
        """Like :meth:`wait_for_call` with ``method=None``."""
        return self.wait_for_call(None, predicate, timeout=timeout, after=after)

    async def await_call(
        self,
        method: str | None = "sendMessage",
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 10.0,
        after: int = 0,
        *,
        include_failed: bool = False,
    ) -> ApiCall:
        """Async wrapper of :meth:`wait_for_call` (runs it in a worker thread)."""
        return await asyncio.to_thread(
            self.wait_for_call,
            method,
            predicate,
            timeout,
            after,
            include_failed=include_failed,
        )

    # ---------------------------------------------------------------- state helpers

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Current state (after edits) of a stored message, or None if unknown/deleted."""
        with self._cond:
            msg = self._messages.get((chat_id, message_id))
            return copy.deepcopy(msg) if msg else None

    def commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """Commands currently set via setMyCommands for ``scope`` (default scope if None)."""
        with self._cond:
            return copy.deepcopy(self._commands.get(self._scope_key(scope, language_code), []))

    def set_chat_member(
        self, chat_id: int, user_id: int, status: str = "member", **fields: Any
    ) -> None:
        """Configure what getChatMember answers (status: creator/administrator/member/...)."""
        with self._cond:
            self._members[(chat_id, user_id)] = {"status": status, **fields}

    def register_chat(self, chat_id: int, chat_type: str | None = None, **fields: Any) -> dict:
        """Register/override a chat (type, title, username ...) used in produced messages."""
        with self._cond:
            chat = self._chat(chat_id, chat_type)
            chat.update(fields)
            return copy.deepcopy(chat)

    def pending_updates(self) -> list[dict[str, Any]]:
        with self._cond:
            return copy.deepcopy(self._updates)

    # ---------------------------------------------------------------- update builders

    def enqueue_update(self, update: dict[str, Any]) -> dict[str, Any]:
        """Enqueue a raw update (``update_id`` is assigned) and return it."""
        with self._cond:
            upd = copy.deepcopy(update)
            upd["update_id"] = self._next_update_id
            self._next_update_id += 1
            self._updates.append(upd)
            self._cond.notify_all()
            return copy.deepcopy(upd)

    def _user(
        self, user_id: int, first_name: str, username: str | None, last_name: str | None = None
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": False,
            "first_name": first_name,
            "language_code": "zh-hans",
        }
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        self._users[user_id] = user
        return dict(user)

    def _chat(self, chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
        chat = self._chats.get(chat_id)
        if chat is None:
            if chat_type is None:
                chat_type = "supergroup" if chat_id < 0 else "private"
            chat = {"id": chat_id, "type": chat_type}
            if chat_type != "private":
                chat["title"] = DEFAULT_GROUP_TITLE
            else:
                user = self._users.get(chat_id)
                if user:
                    chat["first_name"] = user["first_name"]
                    if "username" in user:
                        chat["username"] = user["username"]
            self._chats[chat_id] = chat
        elif chat_type is not None and chat["type"] != chat_type:
            chat["type"] = chat_type
            if chat_type != "private":
                chat.setdefault("title", DEFAULT_GROUP_TITLE)
        return chat

    def _next_message_id(self, chat_id: int) -> int:
        n = self._message_counters.get(chat_id, 0) + 1
        self._message_counters[chat_id] = n
        return n

    def _store_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        self._messages[(msg["chat"]["id"], msg["message_id"])] = copy.deepcopy(msg)
        return copy.deepcopy(msg)

    def _user_message(
        self,
        *,
        user_id: int,
        first_name: str,
        username: str | None,
        chat_id: int | None,
        chat_type: str | None,
        chat_title: str | None,
        reply_to: dict[str, Any] | None,
        extra: dict[str, Any],
    ) -> dict[str, Any]:
        user = self._user(user_id, first_name, username)
        cid = user_id if chat_id is None else chat_id
        chat = self._chat(cid, chat_type)
        if chat["type"] == "private":
            chat.setdefault("first_name", first_name)
            if username:
                chat.setdefault("username", username)
        elif chat_title:
            chat["title"] = chat_title
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(cid),
            "date": int(time.time()),
            "chat": copy.deepcopy(chat),
            "from": user,
            **extra,
        }
        if reply_to is not None:
            replied = self._messages.get((reply_to["chat"]["id"], reply_to["message_id"]), reply_to)
            replied = copy.deepcopy(replied)
            replied.pop("reply_to_message", None)
            msg["reply_to_message"] = replied
        return self._store_message(msg)

    def send_text(
        self,
        text: str,
        *,
        user_id: int = 1001,
        first_name: str = "张三",
        chat_id: int | None = None,
        chat_type: str | None = None,
        reply_to: dict[str, Any] | None = None,
        username: str | None = None,
        chat_title: str | None = None,
    ) -> dict[str, Any]:
        """Enqueue a text message from a user; returns the update dict.

        ``chat_id`` defaults to ``user_id`` (private chat); negative ids are supergroups unless
        ``chat_type`` says otherwise.  Leading ``/cmd`` / ``/cmd@bot`` gets a ``bot_command``
        entity and ``@username`` a ``mention`` entity (offsets in UTF-16 units).
        """
        extra: dict[str, Any] = {"text": text}
        entities = _text_entities(text)
        if entities:
            extra["entities"] = entities
        with self._cond:
            msg = self._user_message(
                user_id=user_id,
                first_name=first_name,
                username=username,
                chat_id=chat_id,
                chat_type=chat_type,
                chat_title=chat_title,
                reply_to=reply_to,
                extra=extra,
            )
            return self.enqueue_update({"message": msg})

    def send_command(self, command: str, *args: str, **kwargs: Any) -> dict[str, Any]:
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
        user_id: int = 1001,
        first_name: str = "张三",
        caption: str | None = None,
        chat_id: int | None = None,
        chat_type: str | None = None,
        username: str | None = None,
        mime_type: str | None = None,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Enqueue a document message from a user; the file is served via getFile/download."""
        with self._cond:
            stored = self._store_file(content, filename, mime_type, "documents")
            extra: dict[str, Any] = {"document": self._document_json(stored)}
            if caption is not None:
                extra["caption"] = caption
                entities = _text_entities(caption)
                if entities:
                    extra["caption_entities"] = entities
            msg = self._user_message(
                user_id=user_id,
                first_name=first_name,
                username=username,
                chat_id=chat_id,
                chat_type=chat_type,
                chat_title=None,
                reply_to=reply_to,
                extra=extra,
            )
            return self.enqueue_update({"message": msg})

    def _resolve_message_ref(self, message: Any) -> dict[str, Any]:
        if isinstance(message, ApiCall):
            if not isinstance(message.result, dict):
                raise ValueError(f"call {message.method} has no message result")
            message = message.result
        if isinstance(message, dict) and "message" in message and "update_id" in message:
            message = message["message"]
        if isinstance(message, dict) and "message_id" not in message:
            # params dict of a sendMessage call (e.g. from sent_messages()): find its result
            for call in reversed(self.calls):
                if call.params is message and isinstance(call.result, dict):
                    return call.result
            for call in reversed(self.calls):
                if call.params == message and isinstance(call.result, dict):
                    return call.result
            raise ValueError("could not find the message produced for these params")
        if not isinstance(message, dict):
            raise TypeError(f"expected a message dict or ApiCall, got {type(message)!r}")
        return message

    def press_button(
        self,
        message: dict[str, Any] | ApiCall,
        data: str,
        *,
        user_id: int = 1001,
        first_name: str = "张三",
        username: str | None = None,
        check: bool = True,
    ) -> dict[str, Any]:
        """Enqueue a callback_query pressing the button ``data`` on a bot message.

        ``message`` may be a Message dict (e.g. ``call.result``), the ApiCall of the
        sendMessage/edit, or the params dict from :meth:`sent_messages`.  The current (edited)
        state of the message is used.  With ``check`` a ValueError is raised if the message has
        no inline button with that callback_data (a real user could not press it).
        """
        with self._cond:
            msg = self._resolve_message_ref(message)
            key = (msg["chat"]["id"], msg["message_id"])
            current = copy.deepcopy(self._messages.get(key, msg))
            if check:
                rows = (current.get("reply_markup") or {}).get("inline_keyboard") or []
                datas = [b.get("callback_data") for row in rows for b in row]
                if data not in datas:
                    raise ValueError(
                        f"message {key} has no inline button with callback_data {data!r}; "
                        f"buttons: {datas}"
                    )
            user = self._user(user_id, first_name, username)
            query = {
                "id": f"{next(self._callback_seq)}{user_id}",
                "from": user,
                "message": current,
                "chat_instance": str(abs(hash((key[0], self.bot_id))) % 10**18),
                "data": data,
            }
            return self.enqueue_update({"callback_query": query})

    # ---------------------------------------------------------------- request handling

    def _pop_fault(self, method: str) -> _Fault | None:
        with self._cond:
            queue = self._faults.get(method.lower())
            if queue:
                return queue.popleft()
            return None

    def _record(self, call: ApiCall) -> None:
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()

    @staticmethod
    def _json(status: int, body: dict[str, Any]) -> tuple[int, str, bytes]:
        return status, "application/json", json.dumps(body, ensure_ascii=False).encode("utf-8")

    @staticmethod
    def _error_body(
        status: int, description: str, parameters: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
        if parameters:
            body["parameters"] = parameters
        return body

    def _handle_request(self, req: _Request) -> tuple[int, str, bytes] | None:
        if req.path.startswith("/file/bot"):
            return self._handle_download(req)
        if not req.path.startswith("/bot"):
            return self._json(404, self._error_body(404, "Not Found"))
        token, _, method = req.path[len("/bot") :].partition("/")
        method = method.strip("/")

        try:
            params, files = self._parse_request(req)
        except ApiError as exc:
            call = ApiCall(method, {}, {}, req.arrived, failed=True, status=exc.status)
            call.response = self._error_body(exc.status, exc.description)
            self._record(call)
            return self._json(exc.status, call.response)

        call = ApiCall(method, params, files, req.arrived, http_method=req.http_method)
        if token != self.token:
            call.failed, call.status = True, 401
            call.response = self._error_body(401, "Unauthorized")
            self._record(call)
            return self._json(401, call.response)

        fault = self._pop_fault(method)
        if fault is not None:
            call.fault = fault.kind
            if fault.kind == "delay":
                with self._cond:
                    self._cond.wait_for(lambda: self._stopping, timeout=fault.seconds)
            elif fault.kind == "drop":
                call.failed, call.status = True, 0
                self._record(call)
                return None
            elif fault.kind == "malformed":
                call.failed = True
                self._record(call)
                return 200, "application/json", b'{"ok": true, "result": {"message_id": 1,'
            else:
                call.failed, call.status = True, fault.status
                call.response = self._error_body(
                    fault.status, fault.description or "", fault.parameters
                )
                self._record(call)
                return self._json(fault.status, call.response)

        impl = _METHODS.get(method.lower())
        if impl is None:
            call.failed, call.status = True, 400
            call.response = self._error_body(400, "Bad Request: method not found")
            self._record(call)
            return self._json(400, call.response)

        poll = method.lower() == "getupdates"
        try:
            with self._cond:
                if poll:
                    self._pending_polls += 1
                try:
                    result = impl(self, params, files)
                finally:
                    if poll:
                        self._pending_polls -= 1
                        self._cond.notify_all()
        except ApiError as exc:
            call.failed, call.status = True, exc.status
            call.response = self._error_body(exc.status, exc.description, exc.parameters)
        except Exception as exc:  # bug in the fake: answer 500 but make it visible
            call.failed, call.status = True, 500
            call.response = self._error_body(500, f"Internal Server Error: fake API bug: {exc!r}")
        else:
            call.response = {"ok": True, "result": result}
        self._record(call)
        return self._json(call.status, call.response)

    def _parse_request(self, req: _Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        pairs = parse_qsl(req.query, keep_blank_values=True)
        params = _decode_params(pairs)
        files: dict[str, UploadedFile] = {}
        ctype = req.headers.get("Content-Type", "") or ""
        base = ctype.split(";")[0].strip().lower()
        if not req.body:
            return params, files
        if base == "application/json":
            try:
                body = json.loads(req.body.decode("utf-8"))
            except ValueError as exc:
                raise ApiError("Bad Request: can't parse JSON object") from exc
            if isinstance(body, dict):
                params.update(body)
        elif base == "multipart/form-data":
            fields, files = _parse_multipart(req.body, ctype)
            params.update(_decode_params(fields))
        else:  # application/x-www-form-urlencoded (PTB's default)
            text = req.body.decode("utf-8", "replace")
            params.update(_decode_params(parse_qsl(text, keep_blank_values=True)))
        return params, files

    def _handle_download(self, req: _Request) -> tuple[int, str, bytes]:
        rest = req.path[len("/file/bot") :]
        token, _, file_path = rest.partition("/")
        with self._cond:
            stored = self._files_by_path.get(file_path)
        if token != self.token or stored is None:
            return self._json(404, self._error_body(404, "Not Found"))
        return 200, stored.mime_type or "application/octet-stream", stored.content

    # ---------------------------------------------------------------- method helpers

    def _chat_id(self, params: dict[str, Any], name: str = "chat_id") -> int:
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
            for cid, chat in self._chats.items():
                if str(chat.get("username", "")).lower() == uname:
                    return cid
        raise ApiError("Bad Request: chat not found")

    @staticmethod
    def _int(params: dict[str, Any], name: str, default: int | None = None) -> int:
        raw = params.get(name, default)
        if raw is None:
            raise ApiError(f"Bad Request: {name} is empty")
        try:
            return int(raw)
        except (TypeError, ValueError) as exc:
            raise ApiError(f"Bad Request: invalid {name} specified") from exc

    @staticmethod
    def _formatted(
        params: dict[str, Any], text_key: str, entities_key: str
    ) -> tuple[str, list[dict[str, Any]] | None]:
        text = params.get(text_key)
        text = "" if text is None else str(text)
        entities = params.get(entities_key)
        parse_mode = str(params.get("parse_mode") or "").lower()
        if entities is None and parse_mode == "html":
            text, entities = parse_html(text)
        return text, (entities or None)

    @staticmethod
    def _check_markup(markup: Any) -> dict[str, Any] | None:
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
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError('Bad Request: can\'t find field "text"')
                if "callback_data" in button:
                    size = len(str(button["callback_data"]).encode("utf-8"))
                    if not 1 <= size <= 64:
                        raise ApiError("Bad Request: BUTTON_DATA_INVALID")
                elif not any(
                    k in button
                    for k in (
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
                ):
                    raise ApiError(
                        "Bad Request: can't parse inline keyboard button: "
                        "InlineKeyboardButton must have exactly one optional field"
                    )
        return copy.deepcopy(markup) if rows else None

    def _reply_to(self, chat_id: int, params: dict[str, Any]) -> dict[str, Any] | None:
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
        replied = self._messages.get((rchat, mid)) if isinstance(rchat, int) else None
        if replied is None:
            if allow:
                return None
            raise ApiError("Bad Request: message to be replied not found")
        replied = copy.deepcopy(replied)
        replied.pop("reply_to_message", None)
        return replied

    def _bot_message(
        self, chat_id: int, params: dict[str, Any], extra: dict[str, Any]
    ) -> dict[str, Any]:
        markup = self._check_markup(params.get("reply_markup"))
        reply_to = self._reply_to(chat_id, params)
        chat = self._chat(chat_id)
        msg: dict[str, Any] = {
            "message_id": self._next_message_id(chat_id),
            "date": int(time.time()),
            "chat": copy.deepcopy(chat),
            "from": self.bot_user,
            **extra,
        }
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        if markup is not None:
            msg["reply_markup"] = markup
        if params.get("message_thread_id") is not None:
            msg["message_thread_id"] = params["message_thread_id"]
        return self._store_message(msg)

    def _caption_extra(self, params: dict[str, Any]) -> dict[str, Any]:
        if params.get("caption") is None:
            return {}
        caption, entities = self._formatted(params, "caption", "caption_entities")
        if _utf16_len(caption) > 1024:
            raise ApiError("Bad Request: message caption is too long")
        extra: dict[str, Any] = {"caption": caption}
        if entities:
            extra["caption_entities"] = entities
        return extra

    def _store_file(
        self, content: bytes, filename: str | None, mime_type: str | None, folder: str
    ) -> _StoredFile:
        n = next(self._file_seq)
        ext = ""
        if filename and "." in filename:
            ext = "." + filename.rsplit(".", 1)[1]
        if mime_type is None and filename:
            mime_type = mimetypes.guess_type(filename, strict=False)[0]
        stored = _StoredFile(
            file_id=f"FAKE{folder[:3].upper()}{n:06d}AgADfileid",
            file_unique_id=f"AgAD{n:06d}",
            file_path=f"{folder}/file_{n}{ext}",
            content=bytes(content),
            filename=filename,
            mime_type=mime_type or "application/octet-stream",
        )
        self._files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    @staticmethod
    def _document_json(stored: _StoredFile) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
        }
        if stored.filename:
            doc["file_name"] = stored.filename
        if stored.mime_type:
            doc["mime_type"] = stored.mime_type
        return doc

    def _input_file(
        self, params: dict[str, Any], files: dict[str, UploadedFile], name: str, folder: str
    ) -> _StoredFile:
        if name in files:
            up = files[name]
            return self._store_file(up.content, up.filename, up.content_type, folder)
        raw = params.get(name)
        if isinstance(raw, str) and raw.startswith("attach://"):
            up_name = raw[len("attach://") :]
            if up_name not in files:
                raise ApiError(f"Bad Request: file must be non-empty: attach://{up_name}")
            up = files[up_name]
            return self._store_file(up.content, up.filename, up.content_type, folder)
        if isinstance(raw, str) and raw:
            if raw in self._files:
                return self._files[raw]
            if raw.startswith(("http://", "https://")):
                name_part = raw.rstrip("/").rsplit("/", 1)[-1] or None
                return self._store_file(b"", name_part, None, folder)
            raise ApiError("Bad Request: wrong file identifier/HTTP URL specified")
        raise ApiError(f"Bad Request: there is no {name} in the request")

    def _find_message(self, params: dict[str, Any], what: str) -> tuple[tuple[int, int], dict]:
        chat_id = self._chat_id(params)
        message_id = self._int(params, "message_id")
        key = (chat_id, message_id)
        msg = self._messages.get(key)
        if msg is None:
            raise ApiError(f"Bad Request: message to {what} not found")
        return key, msg

    def _editable(self, params: dict[str, Any]) -> tuple[tuple[int, int], dict] | None:
        if params.get("inline_message_id"):
            return None
        key, msg = self._find_message(params, "edit")
        if msg.get("from", {}).get("id") != self.bot_id:
            raise ApiError("Bad Request: message can't be edited")
        return key, msg

    def _save_edit(self, key: tuple[int, int], msg: dict[str, Any]) -> dict[str, Any]:
        msg["edit_date"] = int(time.time())
        self._messages[key] = copy.deepcopy(msg)
        return copy.deepcopy(msg)

    @staticmethod
    def _scope_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope if isinstance(scope, dict) else {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # ---------------------------------------------------------------- API methods

    def api_get_me(self, params: dict, files: dict) -> Any:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def api_get_updates(self, params: dict, files: dict) -> Any:
        offset = self._int(params, "offset", 0)
        limit = max(1, min(100, self._int(params, "limit", 100)))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = allowed or None
        deadline = time.monotonic() + timeout
        while True:
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            if self._allowed_updates:
                allowed_set = set(self._allowed_updates)
                self._updates = [u for u in self._updates if set(u) - {"update_id"} & allowed_set]
            if self._updates or self._stopping:
                break
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            self._cond.wait(remaining)
        if self._stopping:
            return []
        return copy.deepcopy(self._updates[:limit])

    def api_send_message(self, params: dict, files: dict) -> Any:
        chat_id = self._chat_id(params)
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise ApiError("Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise ApiError("Bad Request: message is too long")
        extra: dict[str, Any] = {"text": text}
        if entities:
            extra["entities"] = entities
        if isinstance(params.get("link_preview_options"), dict):
            extra["link_preview_options"] = params["link_preview_options"]
        return self._bot_message(chat_id, params, extra)

    def api_send_document(self, params: dict, files: dict) -> Any:
        chat_id = self._chat_id(params)
        extra = self._caption_extra(params)
        stored = self._input_file(params, files, "document", "documents")
        extra["document"] = self._document_json(stored)
        return self._bot_message(chat_id, params, extra)

    def api_send_photo(self, params: dict, files: dict) -> Any:
        chat_id = self._chat_id(params)
        extra = self._caption_extra(params)
        stored = self._input_file(params, files, "photo", "photos")
        base = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        extra["photo"] = [
            {**base, "file_id": stored.file_id + "s", "width": 90, "height": 90},
            {**base, "width": 800, "height": 800, "file_size": len(stored.content)},
        ]
        self._files[stored.file_id + "s"] = stored
        return self._bot_message(chat_id, params, extra)

    def api_edit_message_text(self, params: dict, files: dict) -> Any:
        text, entities = self._formatted(params, "text", "entities")
        if not text.strip():
            raise ApiError("Bad Request: message text is empty")
        if _utf16_len(text) > 4096:
            raise ApiError("Bad Request: message is too long")
        markup = self._check_markup(params.get("reply_markup"))
        found = self._editable(params)
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
        msg = copy.deepcopy(msg)
        msg["text"] = text
        msg.pop("entities", None)
        msg.pop("reply_markup", None)
        if entities:
            msg["entities"] = entities
        if markup is not None:
            msg["reply_markup"] = markup
        return self._save_edit(key, msg)

    def api_edit_message_caption(self, params: dict, files: dict) -> Any:
        extra = self._caption_extra({**params, "caption": params.get("caption") or ""})
        markup = self._check_markup(params.get("reply_markup"))
        found = self._editable(params)
        if found is None:
            return True
        key, msg = found
        if not any(k in msg for k in ("document", "photo", "video", "audio", "animation")):
            raise ApiError("Bad Request: there is no caption in the message to edit")
        if (
            msg.get("caption", "") == extra.get("caption", "")
            and msg.get("caption_entities") == extra.get("caption_entities")
            and msg.get("reply_markup") == markup
        ):
            raise ApiError(NOT_MODIFIED)
        msg = copy.deepcopy(msg)
        for k in ("caption", "caption_entities", "reply_markup"):
            msg.pop(k, None)
        if extra.get("caption"):
            msg.update(extra)
        if markup is not None:
            msg["reply_markup"] = markup
        return self._save_edit(key, msg)

    def api_edit_message_reply_markup(self, params: dict, files: dict) -> Any:
        markup = self._check_markup(params.get("reply_markup"))
        found = self._editable(params)
        if found is None:
            return True
        key, msg = found
        if msg.get("reply_markup") == markup:
            raise ApiError(NOT_MODIFIED)
        msg = copy.deepcopy(msg)
        msg.pop("reply_markup", None)
        if markup is not None:
            msg["reply_markup"] = markup
        return self._save_edit(key, msg)

    def api_delete_message(self, params: dict, files: dict) -> Any:
        key, _ = self._find_message(params, "delete")
        del self._messages[key]
        return True

    def api_answer_callback_query(self, params: dict, files: dict) -> Any:
        if not params.get("callback_query_id"):
            raise ApiError(
                "Bad Request: query is too old and response timeout expired or query ID is invalid"
            )
        if len(str(params.get("text") or "")) > 200:
            raise ApiError("Bad Request: MESSAGE_TOO_LONG")
        return True

    def api_send_chat_action(self, params: dict, files: dict) -> Any:
        self._chat_id(params)
        return True

    def api_set_my_commands(self, params: dict, files: dict) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise ApiError("Bad Request: can't parse commands JSON object")
        if len(commands) > 100:
            raise ApiError("Bad Request: too many commands specified")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _BOT_COMMAND_NAME_RE.fullmatch(
                str(cmd.get("command", ""))
            ):
                raise ApiError("Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", "")).strip()) <= 256:
                raise ApiError("Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        self._commands[key] = copy.deepcopy(commands)
        return True

    def api_delete_my_commands(self, params: dict, files: dict) -> Any:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        self._commands.pop(key, None)
        return True

    def api_get_my_commands(self, params: dict, files: dict) -> Any:
        key = self._scope_key(params.get("scope"), params.get("language_code"))
        return copy.deepcopy(self._commands.get(key, []))

    def _member_json(self, chat_id: int, user_id: int) -> dict[str, Any]:
        if user_id == self.bot_id:
            user: dict[str, Any] = self.bot_user
        else:
            user = copy.deepcopy(
                self._users.get(user_id)
                or {"id": user_id, "is_bot": False, "first_name": f"用户{user_id}"}
            )
        configured = self._members.get((chat_id, user_id))
        if configured is not None:
            status = configured["status"]
            overrides = {k: v for k, v in configured.items() if k != "status"}
        else:
            status = "administrator" if user_id == self.bot_id and chat_id < 0 else "member"
            overrides = {}
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_pin_messages": True,
                }
            )
        elif status == "restricted":
            member.update(
                {
                    "is_member": True,
                    "until_date": 0,
                    **{
                        k: False
                        for k in (
                            "can_change_info",
                            "can_invite_users",
                            "can_pin_messages",
                            "can_send_messages",
                            "can_send_polls",
                            "can_send_other_messages",
                            "can_add_web_page_previews",
                            "can_manage_topics",
                            "can_send_audios",
                            "can_send_documents",
                            "can_send_photos",
                            "can_send_videos",
                            "can_send_video_notes",
                            "can_send_voice_notes",
                            "can_edit_tag",
                        )
                    },
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        member.update(overrides)
        return member

    def api_get_chat_member(self, params: dict, files: dict) -> Any:
        chat_id = self._chat_id(params)
        user_id = self._int(params, "user_id")
        return self._member_json(chat_id, user_id)

    def api_get_chat_administrators(self, params: dict, files: dict) -> Any:
        chat_id = self._chat_id(params)
        ids = [
            uid
            for (cid, uid), m in self._members.items()
            if cid == chat_id and m["status"] in ("creator", "administrator")
        ]
        if chat_id < 0 and self.bot_id not in ids and (chat_id, self.bot_id) not in self._members:
            ids.append(self.bot_id)
        return [self._member_json(chat_id, uid) for uid in ids]

    def api_get_chat(self, params: dict, files: dict) -> Any:
        chat_id = self._chat_id(params)
        chat = copy.deepcopy(self._chat(chat_id))
        chat.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return chat

    def api_get_file(self, params: dict, files: dict) -> Any:
        stored = self._files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise ApiError("Bad Request: invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": len(stored.content),
            "file_path": stored.file_path,
        }

    def api_set_webhook(self, params: dict, files: dict) -> Any:
        self.webhook_url = str(params.get("url") or "")
        return True

    def api_delete_webhook(self, params: dict, files: dict) -> Any:
        self.webhook_url = ""
        if params.get("drop_pending_updates") is True:
            self._updates.clear()
        return True

    def api_get_webhook_info(self, params: dict, files: dict) -> Any:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }

    def api_true(self, params: dict, files: dict) -> Any:
        return True


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p.capitalize() for p in rest)


_METHODS: dict[str, Callable[[FakeBotAPI, dict, dict], Any]] = {
    _camel(name[len("api_") :]).lower(): func
    for name, func in vars(FakeBotAPI).items()
    if name.startswith("api_") and name != "api_true"
}
for _name in ("close", "logOut", "pinChatMessage", "unpinChatMessage", "setChatMenuButton"):
    _METHODS[_name.lower()] = FakeBotAPI.api_true


def fake_bot_api(token: str = DEFAULT_TOKEN) -> Iterator[FakeBotAPI]:
    """Generator for a pytest fixture: ``api = pytest.fixture(fake_bot_api)``."""
    api = FakeBotAPI(token)
    api.start()
    try:
        yield api
    finally:
        api.stop()
