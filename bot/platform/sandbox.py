"""The sandbox gateway: an in-process stand-in for the platform, for ``make run`` without a
token and the demo. It applies every task at once (a task id seen before counts as applied), so a
new user sees the whole path: submitted, then the result."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.platform.gateway import Outcome


class SandboxGateway:
    name = "sandbox"
    queues_for_operator = False

    def __init__(self) -> None:
        self.applied: dict[str, Mapping[str, Any]] = {}

    async def deliver(self, body: Mapping[str, Any]) -> Outcome:
        self.applied.setdefault(str(body["id"]), dict(body))
        return Outcome.applied()

    async def close(self) -> None:
        return None
