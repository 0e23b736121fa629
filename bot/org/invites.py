"""Invites and binding: how a Telegram account becomes an administrator.

A Telegram account is nobody until the city office's invite code, sent by that account in
private chat, binds it to an administrator account. The city office issues codes on the server;
each is valid once and for a limited time, and only its hash is stored. Wrong codes are counted
(as audit rows of their own) and refused once the hourly limit is reached. A code seen in a group
is void at once (``void_seen``): whoever read it there could bind it first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, func, update
from sqlmodel import col, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.access import city_or_operator
from bot.org.directory import resolve_unit
from bot.org.identity import Identity
from bot.org.models import Administrator, Invite, Role, TelegramBinding, Unit, UnitKind

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L
CODE_LENGTH = 10
MAX_CODE_TEXT = 64  # what /bind accepts at all; anything longer is a usage error
BIND_REFUSED = "bind.refused"  # the audit action of a wrong code, counted by the hourly limit
INVITE_ISSUE = "invite.issue"
INVITE_VOID = "invite.void"  # a code seen in a group, void from then on

# The shape of a code in running text, as a cheap test before any database work: two halves of
# five code letters (any case), apart or joined by a little punctuation, not inside a longer
# word. Text is NFKC-normalised first, so full-width letters count as the letters they are.
_HALF = f"[{CODE_ALPHABET}]{{5}}"
CODE_IN_TEXT = re.compile(
    rf"(?<![A-Za-z0-9]){_HALF}[\s\-_.·—–]{{0,3}}{_HALF}(?![A-Za-z0-9])", re.IGNORECASE
)
BIND_IN_TEXT = re.compile(r"^\s*/bind(?:@\w+)?\s+(.+)$", re.IGNORECASE | re.DOTALL)

# Which roles an administrator account of each kind of unit may hold. The platform operator
# works the whole city's task queue, so only the city office's root unit holds that account.
ROLE_FOR_KIND = {
    UnitKind.CITY: {Role.CITY, Role.OPERATOR},
    UnitKind.COUNTY: {Role.COUNTY},
    UnitKind.PARK: {Role.COUNTY},
    UnitKind.UNIT: {Role.UNIT},
    UnitKind.SUB: {Role.UNIT},
}


def normalise_code(code: str) -> str:
    """A code as it is hashed: NFKC (full-width letters are letters), upper case, letters and
    digits only. What people type around it (spaces, dashes) does not count."""
    return "".join(ch for ch in unicodedata.normalize("NFKC", code).upper() if ch.isalnum())


def hash_code(code: str) -> str:
    return hashlib.sha256(normalise_code(code).encode()).hexdigest()


def new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


# --- issuing ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InviteRequest:
    unit_code: str
    role: str


@dataclass(frozen=True)
class IssuedInvite:
    code: str
    unit_name: str
    role: Role
    expires_at: dt.datetime


def issue_invite(uow: UnitOfWork, request: InviteRequest) -> IssuedInvite:
    """Create the unit's administrator account if needed and a one-time code for it (the city
    office's operator on the server, or its bound administrator)."""
    city_or_operator(uow)
    unit = resolve_unit(uow.session, request.unit_code)  # a code, or a unit's exact name
    if unit is None:
        raise Refused("unit_unknown", code=request.unit_code)
    role = _role_for(unit, request.role)
    admin = _account(uow, unit, role)
    code = new_code()
    expires = uow.now + dt.timedelta(hours=uow.config.admin.invite_valid_hours)
    uow.session.add(
        Invite(
            code_hash=hash_code(code),
            admin_id=_id(admin.id),
            created_at=uow.now,
            expires_at=expires,
        )
    )
    uow.audit(
        INVITE_ISSUE,
        target=unit.code,
        detail={"role": role.value, "expires_at": expires.isoformat()},
    )
    return IssuedInvite(code=code, unit_name=unit.name, role=role, expires_at=expires)


def _role_for(unit: Unit, role: str) -> Role:
    """The wanted role, if an account of this kind of unit may hold it."""
    try:
        wanted = Role(role)
    except ValueError as exc:
        raise Refused("role_unknown", role=role) from exc
    if wanted not in ROLE_FOR_KIND[UnitKind(unit.kind)]:
        raise Refused("role_mismatch", role=wanted.value, unit=unit.name, kind=unit.kind)
    return wanted


def _account(uow: UnitOfWork, unit: Unit, role: Role) -> Administrator:
    """The unit's administrator account for ``role``; the account stays when the person changes."""
    admin = uow.session.exec(
        select(Administrator).where(Administrator.unit_id == unit.id, Administrator.role == role)
    ).first()
    if admin is None:
        admin = Administrator(unit_id=_id(unit.id), role=role, name=unit.name, created_at=uow.now)
        uow.session.add(admin)
        uow.session.flush()
    return admin


def _id(value: int | None) -> int:
    """The primary key of a flushed row (always set once the row is in the database)."""
    assert value is not None
    return value


# --- binding ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BindRequest:
    code: str
    telegram_name: str = ""


@dataclass(frozen=True)
class BindResult:
    identity: Identity
    replaced_other_person: bool  # the account had another Telegram user, now revoked


def bind(uow: UnitOfWork, request: BindRequest) -> BindResult:
    """Bind the Telegram user of this unit of work to the invite's administrator account.

    A wrong, used or expired code is refused with ``audit_as``: the refusal is recorded after
    the rollback and counts towards the hourly limit. The code is claimed with a conditional
    UPDATE, so it binds exactly one account even when two people send it at the same moment.
    """
    user_id = uow.origin.telegram_user_id
    if user_id is None:
        raise Refused("anonymous")
    code = request.code.strip()
    if not code or len(code) > MAX_CODE_TEXT:
        raise Refused("bind_usage")
    limit = uow.config.admin.bind_attempts_per_hour
    if _failed_binds(uow, user_id) >= limit:
        raise Refused("bind_rate_limited", limit=limit)
    invite = _usable_invite(uow, code)
    _claim(uow, invite, user_id)
    ended = _end_bindings(uow, user_id, invite.admin_id)
    uow.session.add(
        TelegramBinding(
            admin_id=invite.admin_id,
            telegram_user_id=user_id,
            telegram_name=request.telegram_name[:128],
            bound_at=uow.now,
        )
    )
    uow.session.flush()
    identity: Identity = uow.authorize()  # the administrator they have just become
    uow.audit(
        "bind",
        target=identity.unit_code,
        detail={"role": identity.role.value, "replaced": [b.telegram_user_id for b in ended]},
    )
    replaced = any(b.telegram_user_id != user_id for b in ended)
    return BindResult(identity=identity, replaced_other_person=replaced)


def _failed_binds(uow: UnitOfWork, telegram_user_id: int) -> int:
    """Wrong codes this Telegram user sent in the last hour."""
    return uow.session.exec(
        select(func.count())
        .select_from(AuditLog)
        .where(AuditLog.action == BIND_REFUSED)
        .where(AuditLog.actor_telegram_id == telegram_user_id)
        .where(AuditLog.at >= uow.now - dt.timedelta(hours=1))
    ).one()


def _usable_invite(uow: UnitOfWork, code: str) -> Invite:
    invite = uow.session.exec(select(Invite).where(Invite.code_hash == hash_code(code))).first()
    if invite is None:
        raise Refused("invite_unknown", audit_as=BIND_REFUSED)
    if invite.voided:
        raise Refused("invite_void", audit_as=BIND_REFUSED)
    if invite.used_at is not None:
        raise Refused("invite_used", audit_as=BIND_REFUSED)
    if invite.expires_at <= uow.now:
        raise Refused("invite_expired", audit_as=BIND_REFUSED)
    return invite


def _claim(uow: UnitOfWork, invite: Invite, telegram_user_id: int) -> None:
    """Mark the invite used, unless someone else claimed it a moment ago."""
    claimed = cast(
        CursorResult[Any],
        uow.session.execute(
            update(Invite)
            .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
            .values(used_at=uow.now, used_by=telegram_user_id)
        ),
    )
    if claimed.rowcount != 1:
        raise Refused("invite_used", audit_as=BIND_REFUSED)


def _end_bindings(uow: UnitOfWork, telegram_user_id: int, admin_id: int) -> list[TelegramBinding]:
    """End the bindings the new one replaces. One person, one account: an earlier binding of
    this Telegram user ends. One account, one person: the notice's "new person takes over the
    account" ends the previous person's binding."""
    active = list(
        uow.session.exec(
            select(TelegramBinding).where(
                col(TelegramBinding.revoked_at).is_(None),
                (TelegramBinding.telegram_user_id == telegram_user_id)
                | (TelegramBinding.admin_id == admin_id),
            )
        )
    )
    for binding in active:
        binding.revoked_at = uow.now
        uow.session.add(binding)
    uow.session.flush()
    return active


# --- a code seen in a group ---------------------------------------------------------------------


def codes_in(text: str) -> tuple[str, ...]:
    """The invite codes a message may carry, normalised as ``bind`` reads them: every run of
    text of a code's shape, and the whole argument of a ``/bind`` (which ``bind`` would read
    whatever its shape). Pure string work, so ordinary messages cost no database query."""
    text = unicodedata.normalize("NFKC", text or "")
    found = {normalise_code(match.group(0)) for match in CODE_IN_TEXT.finditer(text)}
    command = BIND_IN_TEXT.match(text)
    if command and len(command.group(1).strip()) <= MAX_CODE_TEXT:
        found.add(normalise_code(command.group(1)))
    return tuple(sorted(code for code in found if len(code) == CODE_LENGTH))


@dataclass(frozen=True)
class VoidedInvite:
    """An invite code voided because it was seen in a group: whose it was, and who to tell."""

    unit_name: str
    role: Role
    issuer_chats: tuple[int, ...]  # the issuing administrator's, else the city office's


def void_seen(uow: UnitOfWork, codes: Sequence[str]) -> tuple[VoidedInvite, ...]:
    """Void the live invites among ``codes``, seen in the chat of this unit of work.

    Whoever read the group could bind a code before its administrator: a valid, unused code
    is marked used by nobody (``Invite.voided``) with the same conditional UPDATE that a bind
    claims it with, so a bind at the same moment and the voiding cannot both win. Each is
    audited (the unit and the chat, never the code). Used and expired codes are left alone."""
    hashes = sorted({hash_code(code) for code in codes})
    if not hashes:
        return ()
    live = uow.session.exec(
        select(Invite).where(
            col(Invite.code_hash).in_(hashes),
            col(Invite.used_at).is_(None),
            Invite.expires_at > uow.now,
        )
    ).all()
    return tuple(voided for invite in live if (voided := _void(uow, invite)) is not None)


def _void(uow: UnitOfWork, invite: Invite) -> VoidedInvite | None:
    claimed = cast(
        CursorResult[Any],
        uow.session.execute(
            update(Invite)
            .where(col(Invite.id) == invite.id, col(Invite.used_at).is_(None))
            .values(used_at=uow.now, used_by=None)
        ),
    )
    if claimed.rowcount != 1:
        return None  # bound a moment ago: nothing left to void
    admin = uow.session.get(Administrator, invite.admin_id)
    unit = uow.session.get(Unit, admin.unit_id) if admin else None
    if admin is None or unit is None:
        return None
    issuer = _issuer(uow, invite, unit)
    chats = _bound_chats(uow, admin_id=issuer) if issuer is not None else ()
    if not chats:
        chats = _bound_chats(uow, role=Role.CITY)
    uow.audit(
        INVITE_VOID,
        target=unit.code,
        detail={"invite": invite.id, "role": admin.role, "issued_by": issuer, "told": chats},
    )
    return VoidedInvite(unit_name=unit.name, role=Role(admin.role), issuer_chats=chats)


def _issuer(uow: UnitOfWork, invite: Invite, unit: Unit) -> int | None:
    """The administrator account that issued the invite (its ``invite.issue`` audit row, of
    the same moment and unit), or None when the server's operator issued it."""
    row = uow.session.exec(
        select(AuditLog).where(
            AuditLog.action == INVITE_ISSUE,
            AuditLog.target == unit.code,
            AuditLog.at == invite.created_at,
        )
    ).first()
    return row.actor_admin_id if row is not None else None


def _bound_chats(
    uow: UnitOfWork, *, admin_id: int | None = None, role: Role | None = None
) -> tuple[int, ...]:
    """The private chats of the Telegram users bound now to one account, or to one role."""
    query = (
        select(TelegramBinding.telegram_user_id)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .where(col(TelegramBinding.revoked_at).is_(None))
    )
    if admin_id is not None:
        query = query.where(Administrator.id == admin_id)
    if role is not None:
        query = query.where(Administrator.role == role.value)
    return tuple(sorted(set(uow.session.exec(query).all())))
