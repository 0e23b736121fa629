"""The action boundary: one unit of work per administrator action, alike for a Telegram update,
the command line and a test.

A unit of work is one database session (one transaction, committed once at the end, rolled back
on any error or refusal), one moment ``now`` taken from the injected clock when it begins, the
origin of the action (a Telegram chat and user, or the command line) and the actor, found by
``authorize()`` at most once. ``audit()`` writes an audit row stamped with that actor and origin,
in the same transaction as the change it records.

The composition root (``bot.context.AppContext``) opens units of work: ``run`` executes the work
in a worker thread so that database work never stalls the event loop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from sqlmodel import Session

from bot.core import audit as audit_log
from bot.core.config import Config
from bot.core.errors import Refused


class Actor(Protocol):
    """Who acts: a bound administrator (``bot.org.identity.Identity`` is one)."""

    @property
    def admin_id(self) -> int: ...
    @property
    def unit_name(self) -> str: ...
    @property
    def telegram_user_id(self) -> int: ...


@dataclass(frozen=True)
class Origin:
    """Where an action comes from: a Telegram chat (with the sender, None if anonymous), the
    command line on the server, or the bot itself (jobs)."""

    kind: str  # "telegram" | "cli" | "system"
    chat_id: int | None = None
    telegram_user_id: int | None = None
    label: str = ""

    @classmethod
    def telegram(cls, chat_id: int | None, telegram_user_id: int | None) -> Origin:
        return cls("telegram", chat_id=chat_id, telegram_user_id=telegram_user_id)

    @classmethod
    def cli(cls, label: str = "cli") -> Origin:
        return cls("cli", label=label)

    @classmethod
    def system(cls, label: str = "system") -> Origin:
        return cls("system", label=label)


Authorizer = Callable[[Session, int | None], Any]
"""Finds the administrator behind a Telegram user id, or raises ``Refused``."""


class UnitOfWork:
    def __init__(
        self,
        session: Session,
        *,
        config: Config,
        now: dt.datetime,
        origin: Origin,
        authorizer: Authorizer,
    ) -> None:
        self.session = session
        self.config = config
        self.now = now
        self.origin = origin
        self._authorizer = authorizer
        self._actor: Any = None

    @property
    def actor(self) -> Any:
        """The authorized administrator, or None before ``authorize()`` and on the CLI."""
        return self._actor

    @property
    def chat_id(self) -> int | None:
        return self.origin.chat_id

    def authorize(self) -> Any:
        """The administrator behind a Telegram origin (looked up once per unit of work);
        raises ``Refused`` (anonymous, not bound, revoked). The command line is the server's
        operator and has no administrator: ``authorize`` refuses it."""
        if self._actor is None:
            if self.origin.kind != "telegram":
                raise Refused("anonymous")
            self._actor = self._authorizer(self.session, self.origin.telegram_user_id)
        return self._actor

    def audit(
        self, action: str, *, target: str = "", detail: dict[str, Any] | None = None
    ) -> audit_log.AuditLog:
        """An audit row for this action, stamped with the actor (or the origin's label) and
        the chat, in this unit of work's transaction."""
        actor: Actor | None = self._actor
        if actor is not None:
            return audit_log.record(
                self.session,
                at=self.now,
                action=action,
                actor=actor.unit_name,
                target=target,
                detail=detail,
                actor_admin_id=actor.admin_id,
                actor_telegram_id=actor.telegram_user_id,
                chat_id=self.origin.chat_id,
            )
        return audit_log.record(
            self.session,
            at=self.now,
            action=action,
            actor=self.origin.label or self.origin.kind,
            target=target,
            detail=detail,
            actor_telegram_id=self.origin.telegram_user_id,
            chat_id=self.origin.chat_id,
        )
