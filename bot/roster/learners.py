"""Learners: password resets to the default and transfers into the receiving unit.

Both are two-step: ``prepare_*`` checks everything and records a pending action; the
administrator confirms with a button; ``confirm`` claims the pending action with a conditional
UPDATE (so a double press or two concurrent confirms apply it once), applies it and writes the
audit row in the same transaction.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.audit import AuditLog
from bot.core.config import Config
from bot.core.errors import Refused
from bot.org.admins import require_scope, require_unit_scope
from bot.org.identity import Identity
from bot.org.models import Unit
from bot.roster.models import Learner, PendingAction

ACCOUNT_RE = re.compile(r"^[A-Za-z0-9_.@\-]{3,64}$")
CONFIRM_WINDOW = dt.timedelta(minutes=5)
RESET = "password_reset"
TRANSFER = "transfer"

# scrypt parameters: 16 MiB of memory, fast enough for an interactive confirm.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${b64(salt)}${b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt), n=int(n), r=int(r), p=int(p)
    )
    return hmac.compare_digest(got, base64.b64decode(digest))


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


@dataclass(frozen=True)
class Preview:
    action_id: int
    kind: str
    masked_name: str
    unit_name: str
    target_unit_name: str | None = None


def _learner(session: Session, account: str) -> tuple[Learner, Unit]:
    row = session.exec(
        select(Learner, Unit)
        .join(Unit, Unit.id == Learner.unit_id)
        .where(Learner.account == account)
    ).first()
    if row is None:
        raise Refused("learner_unknown", account=account)
    return row


def _resets_last_hour(session: Session, admin_id: int, now: dt.datetime) -> int:
    return session.exec(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.action == "password.reset")
        .where(AuditLog.actor_admin_id == admin_id)
        .where(AuditLog.at >= now - dt.timedelta(hours=1))
    ).one()


def prepare_reset(
    session: Session, config: Config, identity: Identity, account_text: str | None, now: dt.datetime
) -> Preview:
    account = parse_account(account_text)
    learner, unit = _learner(session, account)
    require_scope(identity, unit)
    limit = config.admin.reset_limit_per_hour
    if _resets_last_hour(session, identity.admin_id, now) >= limit:
        raise Refused("reset_rate_limited", limit=limit)
    action = PendingAction(
        kind=RESET,
        admin_id=identity.admin_id,
        telegram_user_id=identity.telegram_user_id,
        learner_id=learner.id,
        created_at=now,
    )
    session.add(action)
    session.flush()
    return Preview(action.id, RESET, mask_name(learner.name), unit.name)


def prepare_transfer(
    session: Session,
    identity: Identity,
    account_text: str | None,
    now: dt.datetime,
    unit_code: str | None = None,
) -> Preview:
    """The receiving unit's administrator moves a learner into their unit (or, for a county or
    city administrator, into a named unit of their scope)."""
    account = parse_account(account_text)
    learner, current = _learner(session, account)
    if unit_code:
        target = session.exec(select(Unit).where(Unit.code == unit_code.strip())).first()
        if target is None:
            raise Refused("unit_unknown", code=unit_code)
        require_unit_scope(identity, target)
    else:
        target = session.get(Unit, identity.unit_id)
    if target is None:
        raise Refused("unit_unknown", code=unit_code or "")
    if target.id == current.id:
        raise Refused("transfer_same_unit", unit=target.name)
    action = PendingAction(
        kind=TRANSFER,
        admin_id=identity.admin_id,
        telegram_user_id=identity.telegram_user_id,
        learner_id=learner.id,
        target_unit_id=target.id,
        created_at=now,
    )
    session.add(action)
    session.flush()
    return Preview(action.id, TRANSFER, mask_name(learner.name), current.name, target.name)


@dataclass(frozen=True)
class Done:
    kind: str
    masked_name: str
    account: str
    unit_name: str
    default_password: str | None = None


def _claim(
    session: Session, action_id: int, identity: Identity, now: dt.datetime, status: str
) -> PendingAction:
    """Move a pending action of this administrator to ``status``, exactly once."""
    action = session.get(PendingAction, action_id)
    if action is None or action.telegram_user_id != identity.telegram_user_id:
        raise Refused("action_unknown")
    if action.status != "pending":
        raise Refused("action_done", status=action.status)
    if now - action.created_at > CONFIRM_WINDOW:
        raise Refused("action_expired", minutes=int(CONFIRM_WINDOW.total_seconds() // 60))
    claimed = session.execute(
        update(PendingAction)
        .where(col(PendingAction.id) == action_id, col(PendingAction.status) == "pending")
        .values(status=status, decided_at=now)
    )
    if claimed.rowcount != 1:
        raise Refused("action_done", status="done")
    return action


def confirm(
    session: Session,
    config: Config,
    identity: Identity,
    action_id: int,
    now: dt.datetime,
    chat_id: int | None = None,
) -> Done:
    action = _claim(session, action_id, identity, now, "done")
    learner = session.get(Learner, action.learner_id)
    unit = session.get(Unit, learner.unit_id)
    # The scope is checked again: the binding or the learner may have changed meanwhile.
    if action.kind == RESET:
        require_scope(identity, unit)
        if _resets_last_hour(session, identity.admin_id, now) >= config.admin.reset_limit_per_hour:
            raise Refused("reset_rate_limited", limit=config.admin.reset_limit_per_hour)
        learner.password_hash = hash_password(config.platform.default_password)
        learner.must_change_password = True
        learner.updated_at = now
        session.add(learner)
        audit.record_by(
            session,
            identity,
            at=now,
            action="password.reset",
            target=learner.account,
            detail={"unit": unit.code},
            chat_id=chat_id,
        )
        return Done(
            RESET,
            mask_name(learner.name),
            learner.account,
            unit.name,
            config.platform.default_password,
        )
    target = session.get(Unit, action.target_unit_id)
    require_unit_scope(identity, target)
    learner.unit_id = target.id
    learner.updated_at = now
    session.add(learner)
    audit.record_by(
        session,
        identity,
        at=now,
        action="learner.transfer",
        target=learner.account,
        detail={"from": unit.code, "to": target.code},
        chat_id=chat_id,
    )
    return Done(TRANSFER, mask_name(learner.name), learner.account, target.name)


def cancel(session: Session, identity: Identity, action_id: int, now: dt.datetime) -> None:
    _claim(session, action_id, identity, now, "cancelled")
