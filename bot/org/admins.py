"""Administrator identity: invites issued by the city office, binding a Telegram user to an
administrator account, revoking, and the one authorization entry point.

Identity is the active binding alone. A Telegram account is nobody until the city office's
invite code, sent by that account in private chat, binds it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.audit import AuditLog
from bot.core.config import Config
from bot.core.errors import Refused
from bot.org.identity import Identity, identify
from bot.org.models import Administrator, Invite, Role, TelegramBinding, Unit, UnitKind

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 10

# Which roles an administrator account of each kind of unit may hold.
ROLE_FOR_KIND = {
    UnitKind.CITY: {Role.CITY},
    UnitKind.COUNTY: {Role.COUNTY},
    UnitKind.PARK: {Role.COUNTY},
    UnitKind.UNIT: {Role.UNIT},
    UnitKind.SUB: {Role.UNIT},
}


def normalise_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def find_unit(session: Session, code: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.code == code.strip())).first()


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    unit_name: str
    role: Role
    expires_at: dt.datetime


def issue_invite(
    session: Session,
    config: Config,
    *,
    unit_code: str,
    role: str,
    now: dt.datetime,
    actor: str = "cli",
) -> IssuedInvite:
    """Create the unit's administrator account if needed and a one-time code for it."""
    unit = find_unit(session, unit_code)
    if unit is None:
        raise Refused("unit_unknown", code=unit_code)
    try:
        wanted = Role(role)
    except ValueError as exc:
        raise Refused("role_unknown", role=role) from exc
    if wanted not in ROLE_FOR_KIND[UnitKind(unit.kind)]:
        raise Refused("role_mismatch", role=wanted.value, unit=unit.name, kind=unit.kind)
    admin = session.exec(
        select(Administrator).where(Administrator.unit_id == unit.id, Administrator.role == wanted)
    ).first()
    if admin is None:
        admin = Administrator(unit_id=unit.id, role=wanted, name=unit.name, created_at=now)
        session.add(admin)
        session.flush()
    code = new_code()
    expires = now + dt.timedelta(hours=config.admin.invite_valid_hours)
    session.add(
        Invite(code_hash=hash_code(code), admin_id=admin.id, created_at=now, expires_at=expires)
    )
    audit.record(
        session,
        at=now,
        action="invite.issue",
        actor=actor,
        target=unit.code,
        detail={"role": wanted.value, "expires_at": expires.isoformat()},
    )
    return IssuedInvite(code=code, unit_name=unit.name, role=wanted, expires_at=expires)


@dataclass(frozen=True)
class BindResult:
    identity: Identity
    replaced_other_person: bool  # the account had another Telegram user, now revoked


def _failed_binds(session: Session, telegram_user_id: int, since: dt.datetime) -> int:
    return session.exec(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.action == "bind.refused")
        .where(AuditLog.actor_telegram_id == telegram_user_id)
        .where(AuditLog.at >= since)
    ).one()


def bind(
    session: Session,
    config: Config,
    *,
    code: str,
    telegram_user_id: int,
    telegram_name: str,
    chat_id: int | None,
    now: dt.datetime,
) -> BindResult:
    """Bind the Telegram user to the invite's administrator account.

    Wrong codes are counted (in the audit log) and refused once the hourly limit is reached.
    The code is claimed with a conditional UPDATE, so it binds exactly one account even when two
    people send it at the same moment.
    """
    limit = config.admin.bind_attempts_per_hour
    if _failed_binds(session, telegram_user_id, now - dt.timedelta(hours=1)) >= limit:
        raise Refused("bind_rate_limited", limit=limit)
    invite = session.exec(select(Invite).where(Invite.code_hash == hash_code(code))).first()
    reason = None
    if invite is None:
        reason = "invite_unknown"
    elif invite.used_at is not None:
        reason = "invite_used"
    elif invite.expires_at <= now:
        reason = "invite_expired"
    if reason is not None:
        raise Refused(reason)
    claimed = session.execute(
        update(Invite)
        .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
        .values(used_at=now, used_by=telegram_user_id)
    )
    if claimed.rowcount != 1:
        raise Refused("invite_used")
    # One person, one account: an earlier binding of this Telegram user ends.
    # One account, one person: the notice's "new person takes over the account".
    active = session.exec(
        select(TelegramBinding).where(
            col(TelegramBinding.revoked_at).is_(None),
            (TelegramBinding.telegram_user_id == telegram_user_id)
            | (TelegramBinding.admin_id == invite.admin_id),
        )
    ).all()
    replaced_other = any(b.telegram_user_id != telegram_user_id for b in active)
    for binding in active:
        binding.revoked_at = now
        session.add(binding)
    session.flush()
    session.add(
        TelegramBinding(
            admin_id=invite.admin_id,
            telegram_user_id=telegram_user_id,
            telegram_name=telegram_name[:128],
            bound_at=now,
        )
    )
    session.flush()
    identity = identify(session, telegram_user_id)
    assert identity is not None
    audit.record(
        session,
        at=now,
        action="bind",
        actor=identity.unit_name,
        target=identity.unit_code,
        detail={"role": identity.role.value, "replaced": [b.telegram_user_id for b in active]},
        actor_admin_id=identity.admin_id,
        actor_telegram_id=telegram_user_id,
        chat_id=chat_id,
    )
    return BindResult(identity=identity, replaced_other_person=replaced_other)


def record_failed_bind(
    session: Session, *, telegram_user_id: int, chat_id: int | None, reason: str, now: dt.datetime
) -> None:
    """Count a refused /bind towards the hourly limit (in its own transaction)."""
    audit.record(
        session,
        at=now,
        action="bind.refused",
        actor="",
        actor_telegram_id=telegram_user_id,
        chat_id=chat_id,
        detail={"reason": reason},
    )


def revoke(
    session: Session,
    *,
    now: dt.datetime,
    telegram_user_id: int | None = None,
    unit_code: str | None = None,
    actor: Identity | None = None,
    actor_name: str = "cli",
    chat_id: int | None = None,
) -> list[TelegramBinding]:
    """End the active bindings of a Telegram user, or of every account of a unit."""
    if actor is not None:
        require_city(actor)
    query = select(TelegramBinding).where(col(TelegramBinding.revoked_at).is_(None))
    if telegram_user_id is not None:
        query = query.where(TelegramBinding.telegram_user_id == telegram_user_id)
    elif unit_code is not None:
        unit = find_unit(session, unit_code)
        if unit is None:
            raise Refused("unit_unknown", code=unit_code)
        admin_ids = select(Administrator.id).where(Administrator.unit_id == unit.id)
        query = query.where(col(TelegramBinding.admin_id).in_(admin_ids))
    else:
        raise Refused("revoke_usage")
    bindings = list(session.exec(query))
    if not bindings:
        raise Refused("revoke_nothing")
    for binding in bindings:
        binding.revoked_at = now
        session.add(binding)
    audit.record(
        session,
        at=now,
        action="revoke",
        actor=actor.unit_name if actor else actor_name,
        target=str(telegram_user_id or unit_code),
        detail={"telegram_user_ids": [b.telegram_user_id for b in bindings]},
        actor_admin_id=actor.admin_id if actor else None,
        actor_telegram_id=actor.telegram_user_id if actor else None,
        chat_id=chat_id,
    )
    return bindings


# --- authorization: the one entry point ---------------------------------------------------------


def authorize(session: Session, telegram_user_id: int | None) -> Identity:
    """The administrator behind a Telegram user, or a refusal explaining why there is none."""
    if telegram_user_id is None:
        raise Refused("anonymous")
    identity = identify(session, telegram_user_id)
    if identity is None:
        raise Refused("not_bound")
    return identity


def require_city(identity: Identity) -> None:
    if identity.role != Role.CITY:
        raise Refused("city_only")


def require_scope(identity: Identity, unit: Unit) -> None:
    """A learner's unit must lie in the administrator's scope."""
    if not identity.covers(unit):
        raise Refused("out_of_scope")


def require_unit_scope(identity: Identity, unit: Unit) -> None:
    """A unit the administrator acts for must lie in their scope."""
    if not identity.covers(unit):
        raise Refused("unit_out_of_scope", unit=unit.name)


def unit_in_scope(session: Session, identity: Identity, unit_code: str | None) -> Unit:
    """The administrator's own unit, or a named unit of their scope (county / city office)."""
    if unit_code:
        unit = find_unit(session, unit_code[:64])
        if unit is None:
            raise Refused("unit_unknown", code=unit_code[:64])
        require_unit_scope(identity, unit)
        return unit
    unit = session.get(Unit, identity.unit_id)
    if unit is None:
        raise Refused("unit_unknown", code=identity.unit_code)
    return unit
