"""HTTP plumbing: a threaded HTTP/1.0 server on 127.0.0.1:<free port> that reads each request
(plain or chunked body) and writes what an ``answer`` callable returns (None: drop the
connection without answering)."""

from __future__ import annotations

from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from harness.fakeapi.records import Answer, Request
from harness.serving import ServerThread

Responder = Callable[[Request], Answer | None]


class _Handler(BaseHTTPRequestHandler):
    server: HttpServer
    server_version = "FakeBotAPI/1.0"
    protocol_version = "HTTP/1.0"  # one request per connection: simple, and stop() is clean

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        while True:
            size_line = self.rfile.readline().split(b";")[0].strip()
            size = int(size_line or b"0", 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):  # the trailer
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        split = urlsplit(self.path)
        req = Request(
            http_method=self.command,
            path=unquote(split.path),
            headers=self.headers,
            body=self._read_body(),
            query=split.query,
        )
        answer = self.server.respond(req)
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


class HttpServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client went away (e.g. PTB cancelled a long poll): not interesting.
        pass

    @property
    def port(self) -> int:
        return int(self.server_address[1])


def serve(respond: Responder) -> ServerThread:
    """A HttpServer serving from a daemon thread until its ``stop``."""
    return ServerThread(HttpServer(respond), "FakeBotAPI")
