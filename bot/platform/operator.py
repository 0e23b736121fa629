"""The operator gateway, for a city office whose platform has no API: tasks are not delivered
by the bot but wait in the queue, and the platform operator (by default the city office) carries
them out on the platform and marks each done or failed (``/tasks``, ``python -m bot platform``;
the queue's services are ``bot.platform.queue``). Exam registrations are not queued in this mode:
units complete 报考 on the platform themselves."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from bot.platform.gateway import Outcome


class OperatorGateway:
    name = "operator"
    queues_for_operator = True

    async def deliver(self, body: Mapping[str, Any]) -> Outcome:
        """Never called: the worker leaves operator tasks to the operator."""
        return Outcome.retry("operator tasks are worked by a person")

    async def close(self) -> None:
        return None
