"""Serving a local fake HTTP server (the Bot API's, the platform's) from a daemon thread."""

from __future__ import annotations

import threading
from http.server import ThreadingHTTPServer


class ServerThread:
    """``server`` serving from a daemon thread until :meth:`stop`."""

    def __init__(self, server: ThreadingHTTPServer, name: str) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=self.server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{name}:{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=5)
