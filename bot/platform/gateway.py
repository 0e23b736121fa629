"""The gateway: how a task reaches the platform. One protocol, three adapters (``http``,
``operator``, ``sandbox``), chosen by ``[platform] gateway``.

A gateway answers each delivery with an ``Outcome``: applied (also when the platform says it
applied this id already), refused (permanently, with the platform's reason), or retry (a 5xx, a
429, a timeout, a dropped connection: the same task is sent again later, with the same key).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from bot.platform.models import PlatformTask
from bot.platform.tasks import fields_of

APPLIED = "applied"
REFUSED = "refused"
RETRY = "retry"


@dataclass(frozen=True)
class Outcome:
    kind: str  # APPLIED | REFUSED | RETRY
    reason: str = ""  # the platform's reason (refused) or what went wrong (retry)
    retry_after: float | None = None  # seconds the platform asked us to wait (429)

    @classmethod
    def applied(cls) -> Outcome:
        return cls(APPLIED)

    @classmethod
    def refused(cls, reason: str) -> Outcome:
        return cls(REFUSED, reason=reason)

    @classmethod
    def retry(cls, reason: str, after: float | None = None) -> Outcome:
        return cls(RETRY, reason=reason, retry_after=after)


def envelope(task: PlatformTask) -> dict[str, Any]:
    """The JSON body of a task as the platform receives it (docs/platform-api.md)."""
    requested_at = task.requested_at.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    return {
        **fields_of(task),
        "id": task.id,
        "kind": task.kind,
        "account": task.account,
        "unit_code": task.unit_code,
        "requested_by": task.requester_name,
        "requested_at": requested_at,
    }


class Gateway(Protocol):
    """Delivers tasks to the platform."""

    name: str
    # True: tasks wait in the queue for a person (the operator) instead of being delivered.
    queues_for_operator: bool

    async def deliver(self, body: Mapping[str, Any]) -> Outcome: ...

    async def close(self) -> None: ...
