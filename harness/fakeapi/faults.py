"""Fault injection: per method, a queue of the next answers to spoil (an HTTP error, a delay,
a dropped connection, a body that is not JSON)."""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass
from typing import Any

DEFAULT_DESCRIPTIONS = {
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
MALFORMED_BODY = b'{"ok": true, "result": {"message_id": 1,'


@dataclass
class Fault:
    kind: str  # "error" | "delay" | "drop" | "malformed"
    status: int = 200
    description: str | None = None
    parameters: dict[str, Any] | None = None
    seconds: float = 0.0


def error_fault(
    status: int,
    retry_after: int | None,
    description: str | None,
    parameters: dict[str, Any] | None,
) -> Fault:
    """An HTTP error answer. 429 says ``Too Many Requests: retry after N`` with
    ``parameters.retry_after`` (N defaults to 1); ``parameters`` is merged in."""
    params = dict(parameters or {})
    if status == 429 and retry_after is None:
        retry_after = 1
    if retry_after is not None:
        params["retry_after"] = retry_after
    if description is None:
        if status == 429:
            description = f"Too Many Requests: retry after {retry_after}"
        else:
            description = DEFAULT_DESCRIPTIONS.get(status, f"Error {status}")
    return Fault("error", status=status, description=description, parameters=params or None)


class FaultQueue:
    """The faults still to inject, by method name (case-insensitive)."""

    def __init__(self, lock: threading.Condition) -> None:
        self._lock = lock
        self._faults: dict[str, deque[Fault]] = {}

    def push(self, method: str, fault: Fault, times: int = 1) -> None:
        with self._lock:
            queue = self._faults.setdefault(method.lower(), deque())
            for _ in range(times):
                queue.append(copy.copy(fault))

    def pop(self, method: str) -> Fault | None:
        with self._lock:
            queue = self._faults.get(method.lower())
            return queue.popleft() if queue else None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()
