"""Administrators: the organisation's entry points for the other capabilities and adapters.

Authorization and the scope checks live in ``bot.org.access`` and invites and binding in
``bot.org.invites``; this module re-exports what other capabilities use (``authorize`` is the
authorizer of every unit of work) and holds the city office's own actions on administrators:
revoking bindings (asked first on Telegram; never the city office's last one) and reading the
audit log.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, update
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
    unit_by_id_in_scope,
    unit_in_scope,
)
from bot.org.models import Administrator, Role, TelegramBinding, Unit

__all__ = [
    "BindingView",
    "RevokePreview",
    "RevokeRequest",
    "Revoked",
    "audit_trail",
    "authorize",
    "city_or_operator",
    "find_unit",
    "prepare_revoke",
    "require_city",
    "require_scope",
    "require_unit_scope",
    "revoke",
    "revoke_request",
    "unit_by_id_in_scope",
    "unit_in_scope",
]

# A Telegram user id is at most 52 bits; other text (and other digits: "²", "١") is a unit code.
USER_ID_RE = re.compile(r"-?[0-9]{1,16}")


# --- revoking -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RevokeRequest:
    """End the active bindings of one Telegram user, or of every account of one unit (by code
    as typed, or by id as a confirm button carries it).

    ``upto``: the newest binding the confirm may end (the preview's), so a button pressed again
    after someone was bound anew ends nothing new. ``force``: the server's operator may end the
    city office's last binding (a lost phone); a Telegram origin never can."""

    telegram_user_id: int | None = None
    unit_code: str | None = None
    unit_id: int | None = None
    upto: int | None = None
    force: bool = False

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
class BindingView:
    telegram_user_id: int
    telegram_name: str
    unit_name: str
    role: Role


@dataclass(frozen=True)
class RevokePreview:
    """Whose bindings a /revoke would end; ``button`` is what its confirm button carries."""

    target: str
    bindings: tuple[BindingView, ...]
    button: str

    @property
    def count(self) -> int:
        return len(self.bindings)


@dataclass(frozen=True)
class Revoked:
    telegram_user_ids: tuple[int, ...]
    target: str = ""

    @property
    def count(self) -> int:
        return len(self.telegram_user_ids)


def prepare_revoke(uow: UnitOfWork, request: RevokeRequest) -> RevokePreview:
    """The bindings /revoke would end, checked as ``revoke`` checks them; nothing changes."""
    city_or_operator(uow)
    rows = _targeted(uow, request)
    _refuse_lockout(uow, request, [binding for binding, _admin, _unit in rows])
    views = tuple(
        BindingView(b.telegram_user_id, b.telegram_name, unit.name, Role(admin.role))
        for b, admin, unit in rows
    )
    upto = max(_pk(b.id) for b, _admin, _unit in rows)
    if request.telegram_user_id is not None:
        button = f"{upto}:u{request.telegram_user_id}"
    else:
        button = f"{upto}:n{_pk(rows[0][2].id)}"
    return RevokePreview(target=_target_of(uow.session, request), bindings=views, button=button)


def revoke(uow: UnitOfWork, request: RevokeRequest) -> Revoked:
    """End the bindings the request names (the city office only, or the server's operator),
    once: each with a conditional UPDATE, so a second press of a confirm ends nothing."""
    city_or_operator(uow)
    bindings = [binding for binding, _admin, _unit in _targeted(uow, request)]
    _refuse_lockout(uow, request, bindings)
    ended: list[int] = []
    for binding in bindings:
        claimed = cast(
            CursorResult[Any],
            uow.session.execute(
                update(TelegramBinding)
                .where(
                    col(TelegramBinding.id) == binding.id,
                    col(TelegramBinding.revoked_at).is_(None),
                )
                .values(revoked_at=uow.now)
            ),
        )
        if claimed.rowcount == 1:
            ended.append(binding.telegram_user_id)
    if not ended:
        raise Refused("action_done", status="done")
    target = _target_of(uow.session, request)
    uow.audit("revoke", target=target, detail={"telegram_user_ids": ended})
    return Revoked(telegram_user_ids=tuple(ended), target=target)


def _targeted(
    uow: UnitOfWork, request: RevokeRequest
) -> list[tuple[TelegramBinding, Administrator, Unit]]:
    """The active bindings the request names (up to ``upto``), with their accounts and units;
    refused when there are none."""
    query = (
        select(TelegramBinding, Administrator, Unit)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .join(Unit, col(Unit.id) == Administrator.unit_id)
        .where(col(TelegramBinding.revoked_at).is_(None))
        .order_by(col(TelegramBinding.id))
    )
    if request.telegram_user_id is not None:
        query = query.where(TelegramBinding.telegram_user_id == request.telegram_user_id)
    elif request.unit_id is not None:
        query = query.where(Unit.id == request.unit_id)
    elif request.unit_code is not None:
        unit = find_unit(uow.session, request.unit_code)
        if unit is None:
            raise Refused("unit_unknown", code=request.unit_code)
        query = query.where(Unit.id == unit.id)
    else:
        raise Refused("revoke_usage")
    if request.upto is not None:
        query = query.where(col(TelegramBinding.id) <= request.upto)
    rows = [(b, a, u) for b, a, u in uow.session.exec(query)]
    if not rows:
        raise Refused("action_done" if request.upto is not None else "revoke_nothing")
    return rows


def _refuse_lockout(uow: UnitOfWork, request: RevokeRequest, ending: list[TelegramBinding]) -> None:
    """The city office may not end its own last binding: nobody could issue invites or revoke
    on Telegram any more. The server's operator may, with ``force`` (they can issue a new
    city invite on the server). The city's bindings are locked for the check, so two city
    administrators revoking each other at once cannot both succeed."""
    city = uow.session.exec(
        select(TelegramBinding)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .where(col(TelegramBinding.revoked_at).is_(None), Administrator.role == Role.CITY.value)
        .with_for_update()
    ).all()
    ids = {b.id for b in ending}
    if not city or any(b.id not in ids for b in city):
        return
    if uow.origin.kind != "cli":
        raise Refused("revoke_last_city")
    if not request.force:
        raise Refused("revoke_last_city_cli")


def _target_of(session: Session, request: RevokeRequest) -> str:
    """What the audit row and the message name: the Telegram user id or the unit's code."""
    if request.unit_id is not None:
        unit = session.get(Unit, request.unit_id)
        return unit.code if unit is not None else ""
    return request.target


def _pk(value: int | None) -> int:
    assert value is not None  # a stored row
    return value


# --- the audit log ------------------------------------------------------------------------------


def audit_trail(
    uow: UnitOfWork, *, since: dt.datetime | None = None, limit: int = 20
) -> list[AuditLog]:
    """The latest audit rows, newest first (the city office only, or the server's operator)."""
    city_or_operator(uow)
    return audit.recent(uow.session, since=since, limit=limit)
