"""Administrators: the organisation's entry points for the other capabilities and adapters.

Authorization and the scope checks live in ``bot.org.access`` and invites and binding in
``bot.org.invites``; this module re-exports what other capabilities use (``authorize`` is the
authorizer of every unit of work) and holds the city office's own actions on administrators:
revoking bindings and reading the audit log.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.access import (
    authorize,
    city_or_operator,
    find_unit,
    require_city,
    require_scope,
    require_unit_scope,
    unit_in_scope,
)
from bot.org.models import Administrator, TelegramBinding

__all__ = [
    "RevokeRequest",
    "Revoked",
    "audit_trail",
    "authorize",
    "city_or_operator",
    "find_unit",
    "require_city",
    "require_scope",
    "require_unit_scope",
    "revoke",
    "revoke_request",
    "unit_in_scope",
]

# A Telegram user id is at most 52 bits; other text (and other digits: "²", "١") is a unit code.
USER_ID_RE = re.compile(r"-?[0-9]{1,16}")


# --- revoking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevokeRequest:
    """End the active bindings of one Telegram user, or of every account of one unit."""

    telegram_user_id: int | None = None
    unit_code: str | None = None

    @property
    def target(self) -> str:
        if self.telegram_user_id is not None:
            return str(self.telegram_user_id)
        return self.unit_code or ""


def revoke_request(text: str) -> RevokeRequest:
    """What the argument of /revoke names: a Telegram user id or a unit code (empty: nothing,
    which ``revoke`` refuses with its usage once the administrator is known)."""
    target = text.strip()
    if not target:
        return RevokeRequest()
    if USER_ID_RE.fullmatch(target):
        return RevokeRequest(telegram_user_id=int(target))
    return RevokeRequest(unit_code=target)


@dataclass(frozen=True)
class Revoked:
    telegram_user_ids: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.telegram_user_ids)


def revoke(uow: UnitOfWork, request: RevokeRequest) -> Revoked:
    """End the bindings the request names (the city office only, or the server's operator)."""
    city_or_operator(uow)
    bindings = _active_bindings(uow.session, request)
    if not bindings:
        raise Refused("revoke_nothing")
    for binding in bindings:
        binding.revoked_at = uow.now
        uow.session.add(binding)
    ended = tuple(b.telegram_user_id for b in bindings)
    uow.audit("revoke", target=request.target, detail={"telegram_user_ids": list(ended)})
    return Revoked(telegram_user_ids=ended)


def _active_bindings(session: Session, request: RevokeRequest) -> list[TelegramBinding]:
    query = select(TelegramBinding).where(col(TelegramBinding.revoked_at).is_(None))
    if request.telegram_user_id is not None:
        query = query.where(TelegramBinding.telegram_user_id == request.telegram_user_id)
    elif request.unit_code is not None:
        unit = find_unit(session, request.unit_code)
        if unit is None:
            raise Refused("unit_unknown", code=request.unit_code)
        admin_ids = select(Administrator.id).where(Administrator.unit_id == unit.id)
        query = query.where(col(TelegramBinding.admin_id).in_(admin_ids))
    else:
        raise Refused("revoke_usage")
    return list(session.exec(query))


# --- the audit log ------------------------------------------------------------------------------


def audit_trail(
    uow: UnitOfWork, *, since: dt.datetime | None = None, limit: int = 20
) -> list[AuditLog]:
    """The latest audit rows, newest first (the city office only, or the server's operator)."""
    city_or_operator(uow)
    return audit.recent(uow.session, since=since, limit=limit)
