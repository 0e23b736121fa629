"""Learners: password resets to the default and transfers into the receiving unit, asked of the
platform (如法网), where learners' accounts live.

Both are two-step: ``prepare_*`` checks everything and records a pending action; the
administrator confirms with a button; ``decide`` claims the pending action with a conditional
UPDATE (so a double press or two concurrent confirms submit it once) and writes a platform task
in the same transaction as the audit row (``bot.platform.tasks.submit``). Nothing is reset or
moved by the confirm itself: the requester hears the result when the platform has applied or
refused the task. The bot holds no passwords; the default one is a fact of config, for messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, update
from sqlmodel import col, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.access import require_scope, require_unit_scope, unit_in_scope
from bot.org.identity import Identity
from bot.org.models import Unit
from bot.platform.models import TaskKind
from bot.platform.tasks import TaskRequest, submit
from bot.roster import transfers
from bot.roster.accounts import ACCOUNT_RE as ACCOUNT_RE  # other capabilities import it here
from bot.roster.accounts import (
    learner_in_scope,
    learner_with_unit,
    mask_name,
    parse_account,
    pk,
)
from bot.roster.models import Learner, PendingAction

CONFIRM_WINDOW = dt.timedelta(minutes=5)
RESET = TaskKind.PASSWORD_RESET.value
TRANSFER = TaskKind.TRANSFER.value
RESET_AUDIT = "password.reset"  # a reset submitted; also what the hourly reset limit counts


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
    needs_approval: bool = False  # a transfer from another county: the origin must agree


@dataclass(frozen=True)
class Submitted:
    """A confirmed action, now a platform task: nothing has happened on the platform yet."""

    kind: str
    task_id: str
    masked_name: str
    account: str
    unit_name: str  # the learner's unit (a transfer's origin: they stay there until applied)
    target_unit_name: str | None = None
    awaiting_approval: bool = False
    notices: tuple[transfers.TransferNotice, ...] = ()


# --- step one: check and record the pending action ----------------------------------------------


def prepare_reset(uow: UnitOfWork, request: ResetRequest) -> Preview:
    """A reset of a learner of the administrator's scope, within their hourly limit."""
    identity: Identity = uow.authorize()
    account = parse_account(request.account)
    learner, unit = learner_in_scope(uow.session, identity, account)
    _check_reset_limit(uow, identity)
    action = _pending(uow, identity, RESET, learner)
    return Preview(pk(action.id), RESET, mask_name(learner.name), unit.name)


def prepare_transfer(uow: UnitOfWork, request: TransferRequest) -> Preview:
    """The receiving unit's administrator moves a learner into their unit (or, for a county or
    city administrator, into a named unit of their scope).

    The learner lies outside the asker's scope by nature, so here the account must simply
    exist: what comes back about them is the masked name and unit the confirm step shows, and
    nothing more (an open transfer is refused without naming its task)."""
    identity: Identity = uow.authorize()
    if not request.account:
        raise Refused("account_missing", command="/transfer")
    learner, current = learner_with_unit(uow.session, parse_account(request.account))
    target = unit_in_scope(uow.session, identity, request.unit_code)
    if target.id == current.id:
        raise Refused("transfer_same_unit", unit=target.name)
    transfers.refuse_if_open(uow.session, learner.account)
    action = _pending(uow, identity, TRANSFER, learner, target)
    return Preview(
        pk(action.id),
        TRANSFER,
        mask_name(learner.name),
        current.name,
        target.name,
        needs_approval=transfers.needs_approval(uow, identity, current),
    )


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
        learner_id=pk(learner.id),
        target_unit_id=target.id if target else None,
        created_at=uow.now,
    )
    uow.session.add(action)
    uow.session.flush()
    return action


# --- step two: the administrator's button -------------------------------------------------------


def decide(uow: UnitOfWork, decision: Decision) -> Submitted | None:
    """Submit or cancel a pending action of this administrator, exactly once. None: cancelled."""
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


def _reset(uow: UnitOfWork, identity: Identity, learner: Learner, unit: Unit) -> Submitted:
    """A reset to the platform's default password, asked of the platform; the bot stores none."""
    require_scope(identity, unit)
    _check_reset_limit(uow, identity)
    task = submit(
        uow, TaskRequest(TaskKind.PASSWORD_RESET, account=learner.account, unit_code=unit.code)
    )
    uow.audit(RESET_AUDIT, target=learner.account, detail={"unit": unit.code, "task": task.id})
    return Submitted(RESET, task.id, mask_name(learner.name), learner.account, unit.name)


def _transfer(
    uow: UnitOfWork, identity: Identity, action: PendingAction, learner: Learner, current: Unit
) -> Submitted:
    """A transfer asked of the platform; the learner stays where they are until it is applied."""
    target = uow.session.get(Unit, action.target_unit_id)
    if target is None:
        raise Refused("unit_unknown", code="")
    require_unit_scope(identity, target)
    if target.id == current.id:
        raise Refused("transfer_same_unit", unit=target.name)
    submitted = transfers.submit_transfer(uow, identity, learner, current, target)
    return Submitted(
        TRANSFER,
        submitted.task_id,
        mask_name(learner.name),
        learner.account,
        current.name,
        target.name,
        awaiting_approval=submitted.awaiting_approval,
        notices=submitted.notices,
    )
