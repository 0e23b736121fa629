"""The audit log: every state change writes one row, in the caller's transaction."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlmodel import Field, Session, SQLModel, col, select

from bot.core.columns import aware, bigint

MAX_DETAIL = 4000


class AuditLog(SQLModel, table=True):
    """One row per state change, written in the same transaction as the change."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_column=aware(nullable=False, index=True))
    actor_admin_id: int | None = Field(default=None, index=True)
    actor_telegram_id: int | None = Field(default=None, sa_column=bigint(nullable=True))
    actor: str = Field(default="", max_length=128)  # "cli", "seed", or the admin's unit name
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=256)
    detail: str = Field(default="", max_length=4000)
    chat_id: int | None = Field(default=None, sa_column=bigint(nullable=True))


def record(
    session: Session,
    *,
    at: dt.datetime,
    action: str,
    actor: str,
    target: str = "",
    detail: dict[str, Any] | None = None,
    actor_admin_id: int | None = None,
    actor_telegram_id: int | None = None,
    chat_id: int | None = None,
) -> AuditLog:
    """Add an audit row to ``session``; it commits or rolls back with the change it records."""
    text = json.dumps(detail or {}, ensure_ascii=False, sort_keys=True, default=str)
    row = AuditLog(
        at=at,
        action=action,
        actor=actor[:128],
        target=target[:256],
        detail=text[:MAX_DETAIL],
        actor_admin_id=actor_admin_id,
        actor_telegram_id=actor_telegram_id,
        chat_id=chat_id,
    )
    session.add(row)
    return row


def recent(
    session: Session, *, since: dt.datetime | None = None, limit: int = 50
) -> list[AuditLog]:
    query = select(AuditLog).order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    if since is not None:
        query = query.where(AuditLog.at >= since)
    return list(session.exec(query.limit(limit)))
