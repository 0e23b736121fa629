"""The moment a request is written, and which failures certainly came before it.

Whether a message may have reached Telegram is decided by one moment: the request being written.
Before it (the rate limiter's wait, a refused connection, a connect or pool timeout) nothing can
have arrived; after it (a dropped connection, a read timeout) the message may be in the group
already, whatever the answer was. That moment lies inside PTB, after ``AIORateLimiter`` has
let the call through, where only the Application's request object sees it: ``WatchedRequest``
wraps that object and tells the ``Watch`` of the task that sends (a context variable set around
one ``send_message``) just before the request goes out, and again when the answer proves it did
not arrive (any HTTP status outside 2xx, or a failure before the write). Calls made outside a
watch pass through untouched.

``retryable`` reads PTB's errors the same way: PTB wraps httpx's exceptions as
``NetworkError``/``TimedOut`` *from* the httpx exception (``telegram/request/_httpxrequest.py``),
and raises a bare ``NetworkError`` (no httpx cause) for an HTTP error status it received.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any, Protocol

import httpx
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

# Failures inside httpx before a single byte of the request was written.
BEFORE_WRITE = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


class NotWritten(TelegramError):
    """The watch refused the write (the claim is no longer this instance's): nothing went out."""


class Watch(Protocol):
    async def writing(self) -> None:
        """The request is about to be written; raise ``NotWritten`` to stop it."""

    async def not_sent(self) -> None:
        """The request certainly did not arrive."""


_WATCH: ContextVar[Watch | None] = ContextVar("reminders_write_watch", default=None)


@contextlib.contextmanager
def watching(watch: Watch) -> Iterator[None]:
    """Watch the requests this task makes inside the block (one ``send_message``)."""
    token = _WATCH.set(watch)
    try:
        yield
    finally:
        _WATCH.reset(token)


def before_write(exc: BaseException) -> bool:
    """The failure happened before the request was written (so it certainly did not arrive)."""
    return isinstance(exc.__cause__, BEFORE_WRITE)


def error_answer(exc: BaseException) -> bool:
    """PTB raised this for an HTTP error status it received (e.g. a 5xx): Telegram answered,
    and did not take the message. Timeouts and transport failures carry their httpx cause."""
    cause = exc.__cause__
    return (
        isinstance(exc, NetworkError)
        and not isinstance(exc, TimedOut)
        and (cause is None or isinstance(cause, TelegramError))
    )


def retryable(exc: BaseException) -> bool:
    """Sending again is safe: the first try certainly did not go out."""
    return before_write(exc) or error_answer(exc)


class WatchedRequest(BaseRequest):
    """The Application's request object, telling the current ``Watch`` when a request is
    written and when it certainly did not arrive."""

    def __init__(self, inner: BaseRequest) -> None:
        self.inner = inner

    @property
    def read_timeout(self) -> float | None:
        return self.inner.read_timeout

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        watch = _WATCH.get()
        timeouts = {
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "connect_timeout": connect_timeout,
            "pool_timeout": pool_timeout,
        }
        if watch is None:
            return await self.inner.do_request(url, method, request_data, **timeouts)
        await watch.writing()
        try:
            code, payload = await self.inner.do_request(url, method, request_data, **timeouts)
        except Exception as exc:
            if before_write(exc):
                await watch.not_sent()
            raise
        if not 200 <= code <= 299:  # Telegram answered, and did not take it
            await watch.not_sent()
        return code, payload


def watched(request: BaseRequest) -> WatchedRequest:
    """``request`` wrapped (once) so that sends can be watched."""
    return request if isinstance(request, WatchedRequest) else WatchedRequest(request)


def is_watched(request: BaseRequest) -> bool:
    return isinstance(request, WatchedRequest)
