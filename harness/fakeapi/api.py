"""FakeBotAPI: the object tests hold. It starts and stops the server, injects faults, shows
what the bot called and what Telegram now holds; the user side comes from UserSide."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable, Iterator
from typing import Any

from harness.fakeapi.dispatch import Dispatcher
from harness.fakeapi.faults import Fault, FaultQueue, error_fault
from harness.fakeapi.records import ApiCall
from harness.fakeapi.server import serve
from harness.fakeapi.users import UserSide
from harness.fakeapi.world import (
    BOT_FIRST_NAME,
    BOT_USERNAME,
    DEFAULT_TOKEN,
    Json,
    World,
    scope_key,
)
from harness.serving import ServerThread

CallPredicate = Callable[[ApiCall], bool]


class FakeBotAPI(UserSide):
    """Fake Telegram Bot API server on 127.0.0.1:<free port>. See the package docstring."""

    def __init__(
        self,
        token: str = DEFAULT_TOKEN,
        *,
        bot_first_name: str = BOT_FIRST_NAME,
        bot_username: str = BOT_USERNAME,
    ) -> None:
        self.world = World(token, bot_first_name, bot_username)
        self.faults = FaultQueue(self.world.cond)
        self._server: ServerThread | None = None

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FakeBotAPI:
        if self._server is None:
            self.world.stopping = False
            self._server = serve(Dispatcher(self.world, self.faults))
        return self

    def stop(self) -> None:
        """Wake pending long polls (they answer ``[]``), shut the server down, join it."""
        world = self.world
        with world.cond:
            world.stopping = True
            world.cond.notify_all()
        if self._server is None:
            return
        # give woken long polls a moment to write their (empty) answers
        deadline = time.monotonic() + 1.0
        with world.cond:
            while world.pending_polls and time.monotonic() < deadline:
                world.cond.wait(0.02)
        self._server.stop()
        self._server = None

    def __enter__(self) -> FakeBotAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- where and who

    @property
    def token(self) -> str:
        return self.world.token

    @property
    def bot_id(self) -> int:
        return self.world.bot_id

    @property
    def bot_user(self) -> Json:
        return self.world.bot_user

    @property
    def calls(self) -> list[ApiCall]:
        """Every request received, in order (read it with :meth:`calls_of` when threads run)."""
        return self.world.calls

    @property
    def webhook_url(self) -> str:
        return self.world.webhook_url

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not running")
        return self._server.port

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
        with self.world.cond:
            return self.world.pending_polls

    # ---------------------------------------------------------------- fault injection

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
        fault = error_fault(status, retry_after, description, parameters)
        self.faults.push(method, fault, times)

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Answer the next ``times`` calls of ``method`` normally, but after ``seconds``."""
        self.faults.push(method, Fault("delay", seconds=seconds), times)

    def drop_next(self, method: str, times: int = 1) -> None:
        """Close the connection of the next call(s) of ``method`` without any answer."""
        self.faults.push(method, Fault("drop"), times)

    def malformed_next(self, method: str, times: int = 1) -> None:
        """Answer the next call(s) of ``method`` with HTTP 200 and a body that is not JSON."""
        self.faults.push(method, Fault("malformed"), times)

    def clear_faults(self) -> None:
        self.faults.clear()

    # ---------------------------------------------------------------- inspecting calls

    def mark(self) -> int:
        """Current number of recorded calls; pass as ``after=`` to only see newer calls."""
        with self.world.cond:
            return len(self.world.calls)

    def calls_of(self, method: str, *, after: int = 0) -> list[ApiCall]:
        """All recorded calls of ``method`` (including failed ones)."""
        m = method.lower()
        with self.world.cond:
            return [c for c in self.world.calls[after:] if c.method.lower() == m]

    def sent_messages(self, *, chat_id: int | None = None, after: int = 0) -> list[Json]:
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
        predicate: CallPredicate | None = None,
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

        def matches(call: ApiCall) -> bool:
            if m is not None and call.method.lower() != m:
                return False
            if call.failed and not include_failed:
                return False
            return predicate is None or predicate(call)

        calls, cond = self.world.calls, self.world.cond
        deadline = time.monotonic() + timeout
        idx = after
        with cond:
            while True:
                while idx < len(calls):
                    call = calls[idx]
                    idx += 1
                    if matches(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [
                        f"{c.method}{' (failed)' if c.failed else ''} {c.params!r:.120}"
                        for c in calls[after:]
                        if c.method != "getUpdates"
                    ]
                    raise TimeoutError(
                        f"no {method or 'API'} call matching after index {after} within "
                        f"{timeout}s; calls seen: {seen}"
                    )
                cond.wait(remaining)

    def wait_for(self, predicate: CallPredicate, timeout: float = 10.0, after: int = 0) -> ApiCall:
        """Like :meth:`wait_for_call` with ``method=None``."""
        return self.wait_for_call(None, predicate, timeout=timeout, after=after)

    async def await_call(
        self,
        method: str | None = "sendMessage",
        predicate: CallPredicate | None = None,
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

    # ---------------------------------------------------------------- what Telegram holds

    def message(self, chat_id: int, message_id: int) -> Json | None:
        """Current state (after edits) of a stored message, or None if unknown/deleted."""
        with self.world.cond:
            msg = self.world.messages.get((chat_id, message_id))
            return copy.deepcopy(msg) if msg else None

    def commands(self, scope: Json | None = None, language_code: str = "") -> list[Json]:
        """Commands currently set via setMyCommands for ``scope`` (default scope if None)."""
        with self.world.cond:
            return copy.deepcopy(self.world.commands.get(scope_key(scope, language_code), []))

    def set_chat_member(
        self, chat_id: int, user_id: int, status: str = "member", **fields: Any
    ) -> None:
        """Configure what getChatMember answers (status: creator/administrator/member/...)."""
        with self.world.cond:
            self.world.members[(chat_id, user_id)] = {"status": status, **fields}

    def register_chat(self, chat_id: int, chat_type: str | None = None, **fields: Any) -> Json:
        """Register/override a chat (type, title, username ...) used in produced messages."""
        with self.world.cond:
            chat = self.world.chat(chat_id, chat_type)
            chat.update(fields)
            return copy.deepcopy(chat)

    def pending_updates(self) -> list[Json]:
        with self.world.cond:
            return copy.deepcopy(self.world.updates)


def fake_bot_api(token: str = DEFAULT_TOKEN) -> Iterator[FakeBotAPI]:
    """Generator for a pytest fixture: ``api = pytest.fixture(fake_bot_api)``."""
    api = FakeBotAPI(token)
    api.start()
    try:
        yield api
    finally:
        api.stop()
