"""A liveness endpoint: ``GET /health`` answers a small JSON document.

A tiny asyncio HTTP server on ``[telegram] health_port`` (PTB's webhook server has no clean way to
add a route), started after the bot is ready (so "up" means "serving") and closed at shutdown, in
polling and webhook mode alike::

    {"status": "ok", "version": "0.1.0", "mode": "webhook", "db": true, "scheduler": true,
     "uptime_seconds": 12.3}

200 when the database answers, 503 ("degraded") when it does not. Anything else is 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from importlib import metadata

from sqlalchemy import text
from telegram.ext import Application

from bot.context import AppContext

log = logging.getLogger(__name__)

PATHS = ("/health", "/healthz")
DB_TIMEOUT_SECONDS = 3.0
READ_TIMEOUT_SECONDS = 5.0
MAX_HEADER_LINES = 100


def version() -> str:
    try:
        return metadata.version("xuefa-admin-bot")
    except metadata.PackageNotFoundError:
        return "unknown"


class HealthServer:
    def __init__(self, app: Application, host: str, port: int, mode: str) -> None:
        self.app = app
        self.host = host
        self.port = port
        self.mode = mode
        self.started = time.monotonic()
        self._server: asyncio.Server | None = None

    @property
    def ctx(self) -> AppContext:
        return self.app.bot_data["ctx"]

    async def start(self) -> None:
        self.started = time.monotonic()
        self._server = await asyncio.start_server(self._handle, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("health endpoint: http://%s:%d/health", self.host, self.port)

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 2)

    def _db_ok(self) -> bool:
        with self.ctx.db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True

    async def report(self) -> tuple[int, dict]:
        try:
            db_ok = await asyncio.wait_for(asyncio.to_thread(self._db_ok), DB_TIMEOUT_SECONDS)
        except Exception as exc:
            log.warning("health: the database does not answer: %s", type(exc).__name__)
            db_ok = False
        from reminders.scheduler import scheduler_of

        scheduler = scheduler_of(self.app)
        body = {
            "status": "ok" if db_ok else "degraded",
            "version": version(),
            "mode": self.mode,
            "db": db_ok,
            "scheduler": bool(scheduler is not None and scheduler.running),
            "uptime_seconds": round(time.monotonic() - self.started, 1),
        }
        return (200 if db_ok else 503), body

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_SECONDS)
            for _ in range(MAX_HEADER_LINES):  # the headers are not needed, only consumed
                header = await asyncio.wait_for(reader.readline(), READ_TIMEOUT_SECONDS)
                if header in (b"\r\n", b"\n", b""):
                    break
            parts = line.decode("latin-1").split()
            method = parts[0] if parts else ""
            path = parts[1].split("?", 1)[0] if len(parts) > 1 else ""
            if method in ("GET", "HEAD") and path in PATHS:
                status, body = await self.report()
            else:
                status, body = 404, {"status": "not found"}
            payload = json.dumps(body, ensure_ascii=False).encode()
            reason = {200: "OK", 404: "Not Found", 503: "Service Unavailable"}[status]
            head = (
                f"HTTP/1.1 {status} {reason}\r\n"
                "Content-Type: application/json; charset=utf-8\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Cache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
            writer.write(head if method == "HEAD" else head + payload)
            await writer.drain()
        except (TimeoutError, ConnectionError, UnicodeError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


Hook = Callable[[Application], Awaitable[None]]


def attach(app: Application, host: str, port: int, mode: str) -> HealthServer:
    """Serve /health once the Application's own post_init has run; close it first at shutdown."""
    server = HealthServer(app, host, port, mode)
    before_init: Hook | None = app.post_init
    before_shutdown: Hook | None = app.post_shutdown

    async def post_init(application: Application) -> None:
        if before_init is not None:
            await before_init(application)
        await server.start()

    async def post_shutdown(application: Application) -> None:
        await server.close()
        if before_shutdown is not None:
            await before_shutdown(application)

    app.post_init = post_init
    app.post_shutdown = post_shutdown
    return server
