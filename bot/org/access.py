"""Who may act on what: the one authorization entry point and the scope checks.

Every capability's services ask the same questions here: who is behind this Telegram user (the
active binding alone says), is the administrator the city office, and does a learner or a unit
lie in their part of the unit tree. Each question answers with a value or a ``Refused``.
"""

from __future__ import annotations

from sqlmodel import Session, select

from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.identity import Identity, identify
from bot.org.models import Role, Unit

MAX_UNIT_CODE = 64  # longer text cannot be a unit code (the column's width)


def find_unit(session: Session, code: str) -> Unit | None:
    return session.exec(select(Unit).where(Unit.code == code.strip())).first()


def authorize(session: Session, telegram_user_id: int | None) -> Identity:
    """The administrator behind a Telegram user, or a refusal explaining why there is none.

    This is the authorizer every unit of work uses (``bot.context.AppContext``)."""
    if telegram_user_id is None:
        raise Refused("anonymous")
    identity = identify(session, telegram_user_id)
    if identity is None:
        raise Refused("not_bound")
    return identity


def require_city(identity: Identity) -> None:
    if identity.role != Role.CITY:
        raise Refused("city_only")


def city_or_operator(uow: UnitOfWork) -> Identity | None:
    """For actions of the city office: its bound administrator on Telegram, or None for the
    server's operator on the command line (who needs no binding)."""
    if uow.origin.kind == "cli":
        return None
    identity: Identity = uow.authorize()
    require_city(identity)
    return identity


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
    if identity.role == Role.OPERATOR:
        raise Refused("operator_queue_only")
    if unit_code:
        code = unit_code[:MAX_UNIT_CODE]
        unit = find_unit(session, code)
        if unit is None:
            raise Refused("unit_unknown", code=code)
        require_unit_scope(identity, unit)
        return unit
    own = session.get(Unit, identity.unit_id)
    if own is None:
        raise Refused("unit_unknown", code=identity.unit_code)
    return own


def unit_by_id_in_scope(session: Session, identity: Identity, unit_id: int) -> Unit:
    """The unit a button names by id (a page of a list), if it lies in the presser's scope:
    callback data is not to be trusted, and operators have no such lists."""
    unit = session.get(Unit, unit_id)
    if unit is None:
        raise Refused("action_unknown")
    unit_in_scope(session, identity, None)  # refuses an operator
    require_unit_scope(identity, unit)
    return unit
