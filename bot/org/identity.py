"""Who a Telegram user is: the active binding alone decides (never a name or a chat title)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.org.models import Administrator, Role, TelegramBinding, Unit


@dataclass(frozen=True)
class Identity:
    admin_id: int
    role: Role
    unit_id: int
    unit_code: str
    unit_name: str
    unit_path: str
    telegram_user_id: int

    def covers(self, unit: Unit) -> bool:
        """Whether ``unit`` lies in this administrator's scope (their unit's subtree). The
        platform operator works the task queue only and has no units in scope."""
        if self.role == Role.OPERATOR:
            return False
        return self.role == Role.CITY or unit.path.startswith(self.unit_path)


def identify(session: Session, telegram_user_id: int | None) -> Identity | None:
    """The administrator a Telegram user is bound to now, or None (display and authorization
    alike; ``bot.org.access.authorize`` turns None into a refusal)."""
    if telegram_user_id is None:
        return None
    row = session.exec(
        select(TelegramBinding, Administrator, Unit)
        .join(Administrator, col(Administrator.id) == TelegramBinding.admin_id)
        .join(Unit, col(Unit.id) == Administrator.unit_id)
        .where(TelegramBinding.telegram_user_id == telegram_user_id)
        .where(col(TelegramBinding.revoked_at).is_(None))
    ).first()
    if row is None:
        return None
    _binding, admin, unit = row
    return Identity(
        admin_id=admin.id,  # type: ignore[arg-type]
        role=Role(admin.role),
        unit_id=unit.id,  # type: ignore[arg-type]
        unit_code=unit.code,
        unit_name=unit.name,
        unit_path=unit.path,
        telegram_user_id=telegram_user_id,
    )
