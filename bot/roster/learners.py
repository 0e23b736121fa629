"""Learners: password resets to the default and transfers into the receiving unit.

Both are two-step: ``prepare_*`` checks everything and records a pending action; the
administrator confirms with a button; ``decide`` claims the pending action with a conditional
UPDATE (so a double press or two concurrent confirms apply it once), applies it and writes the
audit row in the same transaction.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, update
from sqlmodel import Session, col, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.access import require_scope, require_unit_scope, unit_in_scope
from bot.org.identity import Identity
from bot.org.models import Unit
from bot.roster.models import Learner, PendingAction
from bot.roster.passwords import hash_password

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_.@\-]{3,64}$")
CONFIRM_WINDOW = dt.timedelta(minutes=5)
RESET = "password_reset"
TRANSFER = "transfer"
RESET_AUDIT = "password.reset"  # also what the hourly reset limit counts


def mask_name(name: str) -> str:
    """张三 -> 张*, 欧阳娜娜 -> 欧**娜: enough to recognise, not enough to leak."""
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def parse_account(text: str | None) -> str:
    account = (text or "").strip()
    if not account:
        raise Refused("account_missing")
    if not ACCOUNT_RE.fullmatch(account):
        raise Refused("account_malformed")
    return account


# --- requests and results -----------------------------------------------------------------------


@dataclass(frozen=True)
class ResetRequest:
    account: str | None


@dataclass(frozen=True)
class TransferRequest:
    account: str | None
    unit_code: str | None = None

    @classmethod
    def from_words(cls, words: Sequence[str]) -> TransferRequest:
        """``ACCOUNT [UNIT]``; any other number of words is a request without an account."""
        if len(words) in (1, 2):
            return cls(words[0], words[1] if len(words) == 2 else None)
        return cls(None)


@dataclass(frozen=True)
class Decision:
    """The administrator's answer to a pending action: confirm (True) or cancel (False)."""

    action_id: int
    confirm: bool


@dataclass(frozen=True)
class Preview:
    action_id: int
    kind: str
    masked_name: str
    unit_name: str
    target_unit_name: str | None = None


@dataclass(frozen=True)
class Done:
    kind: str
    masked_name: str
    account: str
    unit_name: str
    default_password: str | None = None


# --- step one: check and record the pending action ----------------------------------------------


def prepare_reset(uow: UnitOfWork, request: ResetRequest) -> Preview:
    """A reset of a learner of the administrator's scope, within their hourly limit."""
    identity: Identity = uow.authorize()
    account = parse_account(request.account)
    learner, unit = _learner(uow.session, account)
    require_scope(identity, unit)
    _check_reset_limit(uow, identity)
    action = _pending(uow, identity, RESET, learner)
    return Preview(_id(action.id), RESET, mask_name(learner.name), unit.name)


def prepare_transfer(uow: UnitOfWork, request: TransferRequest) -> Preview:
    """The receiving unit's administrator moves a learner into their unit (or, for a county or
    city administrator, into a named unit of their scope)."""
    identity: Identity = uow.authorize()
    if not request.account:
        raise Refused("account_missing", command="/transfer")
    learner, current = _learner(uow.session, parse_account(request.account))
    target = unit_in_scope(uow.session, identity, request.unit_code)
    if target.id == current.id:
        raise Refused("transfer_same_unit", unit=target.name)
    action = _pending(uow, identity, TRANSFER, learner, target)
    return Preview(_id(action.id), TRANSFER, mask_name(learner.name), current.name, target.name)


def _learner(session: Session, account: str) -> tuple[Learner, Unit]:
    row = session.exec(
        select(Learner, Unit)
        .join(Unit, col(Unit.id) == Learner.unit_id)
        .where(Learner.account == account)
    ).first()
    if row is None:
        raise Refused("learner_unknown", account=account)
    return row


def _check_reset_limit(uow: UnitOfWork, identity: Identity) -> None:
    limit = uow.config.admin.reset_limit_per_hour
    done = uow.session.exec(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.action == RESET_AUDIT)
        .where(AuditLog.actor_admin_id == identity.admin_id)
        .where(AuditLog.at >= uow.now - dt.timedelta(hours=1))
    ).one()
    if done >= limit:
        raise Refused("reset_rate_limited", limit=limit)


def _pending(
    uow: UnitOfWork, identity: Identity, kind: str, learner: Learner, target: Unit | None = None
) -> PendingAction:
    action = PendingAction(
        kind=kind,
        admin_id=identity.admin_id,
        telegram_user_id=identity.telegram_user_id,
        learner_id=_id(learner.id),
        target_unit_id=target.id if target else None,
        created_at=uow.now,
    )
    uow.session.add(action)
    uow.session.flush()
    return action


def _id(value: int | None) -> int:
    """The primary key of a flushed row (always set once the row is in the database)."""
    assert value is not None
    return value


# --- step two: the administrator's button -------------------------------------------------------


def decide(uow: UnitOfWork, decision: Decision) -> Done | None:
    """Apply or cancel a pending action of this administrator, exactly once. None: cancelled."""
    identity: Identity = uow.authorize()
    if not decision.confirm:
        _claim(uow, identity, decision.action_id, "cancelled")
        return None
    action = _claim(uow, identity, decision.action_id, "done")
    learner = uow.session.get(Learner, action.learner_id)
    unit = uow.session.get(Unit, learner.unit_id) if learner else None
    if learner is None or unit is None:
        raise Refused("action_unknown")
    # The scope is checked again: the binding or the learner may have changed meanwhile.
    if action.kind == RESET:
        return _reset(uow, identity, learner, unit)
    return _transfer(uow, identity, action, learner, unit)


def _claim(uow: UnitOfWork, identity: Identity, action_id: int, status: str) -> PendingAction:
    """Move a pending action of this administrator to ``status``, exactly once."""
    action = uow.session.get(PendingAction, action_id)
    if action is None or action.telegram_user_id != identity.telegram_user_id:
        raise Refused("action_unknown")
    if action.status != "pending":
        raise Refused("action_done", status=action.status)
    if uow.now - action.created_at > CONFIRM_WINDOW:
        raise Refused("action_expired", minutes=int(CONFIRM_WINDOW.total_seconds() // 60))
    claimed = cast(
        CursorResult[Any],
        uow.session.execute(
            update(PendingAction)
            .where(col(PendingAction.id) == action_id, col(PendingAction.status) == "pending")
            .values(status=status, decided_at=uow.now)
        ),
    )
    if claimed.rowcount != 1:
        raise Refused("action_done", status="done")
    return action


def _reset(uow: UnitOfWork, identity: Identity, learner: Learner, unit: Unit) -> Done:
    require_scope(identity, unit)
    _check_reset_limit(uow, identity)
    default = uow.config.platform.default_password
    learner.password_hash = hash_password(default)
    learner.must_change_password = True
    learner.updated_at = uow.now
    uow.session.add(learner)
    uow.audit(RESET_AUDIT, target=learner.account, detail={"unit": unit.code})
    return Done(RESET, mask_name(learner.name), learner.account, unit.name, default)


def _transfer(
    uow: UnitOfWork, identity: Identity, action: PendingAction, learner: Learner, current: Unit
) -> Done:
    target = uow.session.get(Unit, action.target_unit_id)
    if target is None:
        raise Refused("unit_unknown", code="")
    require_unit_scope(identity, target)
    learner.unit_id = _id(target.id)
    learner.updated_at = uow.now
    uow.session.add(learner)
    uow.audit(
        "learner.transfer",
        target=learner.account,
        detail={"from": current.code, "to": target.code},
    )
    return Done(TRANSFER, mask_name(learner.name), learner.account, target.name)
