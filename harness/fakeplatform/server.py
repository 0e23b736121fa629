"""HTTP plumbing: a threaded HTTP/1.0 server on 127.0.0.1 (a free port, or the one it had
before a restart) that reads each request and writes what a ``respond`` callable returns. None
closes the connection without an answer (a dropped connection; the responder may first keep it
waiting, as a platform that hangs does)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from harness.serving import ServerThread


@dataclass(frozen=True)
class Incoming:
    """One request as the server thread read it (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


Responder = Callable[[Incoming], Answer | None]


class _Handler(BaseHTTPRequestHandler):
    server: PlatformHttpServer
    server_version = "FakePlatform/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection: restarts and drops stay simple

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        incoming = Incoming(
            method=self.command,
            path=self.path.split("?", 1)[0],
            headers={k.lower(): v for k, v in self.headers.items()},
            body=self.rfile.read(length) if length else b"",
        )
        answer = self.server.respond(incoming)
        if answer is None:  # drop the connection without answering
            self.close_connection = True
            return
        self.send_response(answer.status)  # with Date: the platform's clock
        headers = {"Content-Type": "application/json", **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = _handle
    do_POST = _handle
    do_PUT = _handle


class PlatformHttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, respond: Responder, port: int = 0) -> None:
        self.respond = respond
        super().__init__(("127.0.0.1", port), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the client went away (a killed bot, a time-out): not interesting

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def serve(respond: Responder, port: int = 0) -> ServerThread:
    """A PlatformHttpServer serving from a daemon thread until its ``stop``."""
    return ServerThread(PlatformHttpServer(respond, port), "FakePlatform")
