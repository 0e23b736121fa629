"""The http gateway: tasks as JSON over HTTP(S) to the platform's API (docs/platform-api.md).

``POST {PLATFORM_API_URL}/tasks`` with ``Authorization: Bearer $PLATFORM_API_TOKEN`` and
``Idempotency-Key: <task id>``. What an answer means:

- 2xx: applied. 409: this id was applied already, which counts as applied.
- 422 with ``{"error": "..."}``: the platform refused the action; the requester reads the reason.
- 429 (after ``Retry-After``), 5xx, a time-out, a refused or dropped connection, a garbled answer:
  not known to be applied, so the same task is sent again later with the same key.
- Any other answer (401/403: the token; 400/404/3xx: the URL or the contract) is a problem of
  this installation, not the platform's decision about the action: logged as an error and
  retried, never told to the requester as a refusal.

The token is never logged and never part of an exception's or an outcome's text.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx

from bot.core import config_errors
from bot.core.config import Config, ConfigError
from bot.platform.gateway import Outcome

log = logging.getLogger(__name__)

URL_VARIABLE = "PLATFORM_API_URL"
TOKEN_VARIABLE = "PLATFORM_API_TOKEN"
MAX_REASON = 200  # characters of the platform's refusal kept (the message quotes it)
_TOKEN_SHAPE = re.compile(r"^[\x21-\x7e]{1,4096}$")  # visible ASCII: what a header can carry
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_LOOPBACK = {"localhost", "127.0.0.1", "::1"}

WallClock = Callable[[], dt.datetime]


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def api_url(raw: str) -> str:
    """PLATFORM_API_URL checked: http(s)://host[:port][/path], without credentials (the token
    is the credential; httpx would turn them into a Basic header in place of the Bearer one),
    query or fragment. Returned without a trailing slash."""
    text = raw.strip()
    if not text:
        raise ConfigError(config_errors.message("no_platform_url"))
    try:
        parts = urlsplit(text)
        port_ok = parts.port is None or parts.port > 0
    except ValueError:  # an unreadable port or host
        raise ConfigError(config_errors.message("bad_platform_url")) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or "@" in parts.netloc
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in text)
    ):
        raise ConfigError(config_errors.message("bad_platform_url"))
    return text.rstrip("/")


def api_token(raw: str) -> str:
    """PLATFORM_API_TOKEN checked: present, and something a header can carry."""
    token = raw.strip()
    if not token:
        raise ConfigError(config_errors.message("no_platform_token"))
    if not _TOKEN_SHAPE.match(token):
        raise ConfigError(config_errors.message("bad_platform_token"))
    return token


def retry_after(value: str | None, server_date: str | None, wall_clock: WallClock) -> float | None:
    """Seconds a 429's ``Retry-After`` asks for: delta-seconds, or an HTTP date measured from
    the answer's own ``Date`` (the platform's clock) or, without one, from ours. None when
    absent or unreadable (the usual back-off applies)."""
    text = (value or "").strip()
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN is unreadable
    when = _http_date(text)
    if when is None:
        return None
    reference = _http_date(server_date or "") or wall_clock()
    return max((when - reference).total_seconds(), 0.0)


def _http_date(text: str) -> dt.datetime | None:
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=dt.UTC)


def refusal_reason(body: bytes) -> str:
    """The platform's reason from a 422's ``{"error": "..."}``: on one line, at most MAX_REASON
    characters. Empty when the answer has none (the message then says the reason was not
    given)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, str):
        return ""
    text = " ".join(_CONTROL.sub(" ", error).split())
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def _is_json_or_empty(body: bytes) -> bool:
    if not body.strip():
        return True
    try:
        json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return False
    return True


def _snippet(body: bytes) -> str:
    return " ".join(body[:200].decode("utf-8", "replace").split())


class HttpGateway:
    """Delivers each task with one POST; see the module docstring for what answers mean."""

    name = "http"
    queues_for_operator = False

    def __init__(
        self,
        url: str,
        token: str,
        *,
        timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        wall_clock: WallClock = _utc_now,
    ) -> None:
        self.url = url.rstrip("/")
        self.endpoint = f"{self.url}/tasks"
        self.timeout = timeout
        self._token = token
        self._transport = transport
        self._wall_clock = wall_clock
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def from_environment(cls, config: Config, environ: Mapping[str, str]) -> HttpGateway:
        """PLATFORM_API_URL and PLATFORM_API_TOKEN from the environment; ConfigError (exit 2)
        naming the variable that is missing or malformed."""
        url = api_url(environ.get(URL_VARIABLE, ""))
        token = api_token(environ.get(TOKEN_VARIABLE, ""))
        host = urlsplit(url).hostname or ""
        if url.startswith("http://") and host not in _LOOPBACK:
            log.warning("%s is plain http: the token crosses the network unencrypted", URL_VARIABLE)
        return cls(url, token, timeout=config.platform.request_timeout_seconds)

    def __repr__(self) -> str:  # never the token
        return f"HttpGateway({self.endpoint!r})"

    def _http(self) -> httpx.AsyncClient:
        """One client (a connection pool) per event loop: made on first use in the loop that
        delivers, as a pool cannot move between loops."""
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self.timeout),
                follow_redirects=False,  # a redirect is a wrong URL, and would drop the body
                transport=self._transport,
            )
            self._loop = loop
        return self._client

    def _headers(self, task_id: str) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self._token}",
            "Idempotency-Key": task_id,
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    async def deliver(self, body: Mapping[str, Any]) -> Outcome:
        task_id = str(body["id"])
        content = json.dumps(dict(body), ensure_ascii=False).encode("utf-8")
        try:
            async with asyncio.timeout(self.timeout):  # the whole exchange, not each read
                response = await self._http().post(
                    self.endpoint, content=content, headers=self._headers(task_id)
                )
        except (TimeoutError, httpx.TimeoutException):
            return Outcome.retry("timeout")
        except httpx.HTTPError as exc:  # refused, dropped, garbled: the text may name the URL
            return Outcome.retry(type(exc).__name__)
        return self.outcome(task_id, response)

    def outcome(self, task_id: str, response: httpx.Response) -> Outcome:
        """What one answer means (the module docstring)."""
        status = response.status_code
        if 200 <= status < 300:
            if _is_json_or_empty(response.content):
                return Outcome.applied()
            # Not the platform's answer (a proxy's page?): unknown, so sent again; a platform
            # that did apply it answers the repeat with 409.
            log.error("platform task %s: a %d answer that is not JSON, retried", task_id, status)
            return Outcome.retry(f"malformed answer (HTTP {status})")
        if status == 409:
            return Outcome.applied()
        if status == 422:
            return Outcome.refused(refusal_reason(response.content))
        if status == 429:
            after = retry_after(
                response.headers.get("Retry-After"), response.headers.get("Date"), self._wall_clock
            )
            return Outcome.retry("HTTP 429", after)
        if status >= 500:
            return Outcome.retry(f"HTTP {status}")
        return self._misconfigured(task_id, response)

    def _misconfigured(self, task_id: str, response: httpx.Response) -> Outcome:
        """401/403: the token; 3xx/400/404/…: the URL or the contract. The platform has not
        decided anything about the action, so it is retried (and works once fixed)."""
        status = response.status_code
        check = TOKEN_VARIABLE if status in (401, 403) else f"{URL_VARIABLE} / docs/platform-api.md"
        log.error(
            "platform task %s: the platform API answered %d (check %s): %s",
            task_id,
            status,
            check,
            _snippet(response.content),
        )
        return Outcome.retry(f"HTTP {status} (check {check})")

    async def close(self) -> None:
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()  # a client of a loop that has ended went with it
