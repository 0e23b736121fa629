"""Tables of the organisation: units, administrators, their Telegram bindings, invites."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.core.columns import aware, bigint

ROOT_CODE = "city"  # the city office's unit, root of the unit tree


class UnitKind(enum.StrEnum):
    CITY = "city"  # the city office's root
    COUNTY = "county"  # 县市区
    PARK = "park"  # 园区
    UNIT = "unit"  # first-level unit (市直单位, or a county's first-level unit)
    SUB = "sub"  # second-level and below


class Role(enum.StrEnum):
    CITY = "city"  # 市委依法治市办: everything
    COUNTY = "county"  # 县市区/园区管理员: their subtree
    UNIT = "unit"  # 单位管理员: their unit and its sub-units
    OPERATOR = "operator"  # 如法网操作员: works the platform task queue (the city office also does)


class Unit(SQLModel, table=True):
    """A node of the unit tree: city → county/park → first-level unit → sub-units.

    ``path`` is the materialised path of ids ("/1/4/9/"), so a subtree is one prefix query.
    """

    __tablename__ = "units"

    id: int | None = Field(default=None, primary_key=True)
    code: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=128, index=True)
    kind: str = Field(max_length=16)
    parent_id: int | None = Field(default=None, foreign_key="units.id", index=True)
    path: str = Field(default="/", max_length=512, index=True)
    category_department: str | None = Field(default=None, max_length=64)
    category_consent: bool = Field(default=False)  # 二.3: the provincial department agreed
    zone_approved: bool = Field(default=False)  # 五（四）: centralized unit may book zone sessions


class Administrator(SQLModel, table=True):
    """An administrator account of a unit (the notice: the account stays, the person may change)."""

    __tablename__ = "administrators"
    __table_args__ = (UniqueConstraint("unit_id", "role", name="uq_admin_unit_role"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    role: str = Field(max_length=16)
    name: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(sa_column=aware(nullable=False))


class TelegramBinding(SQLModel, table=True):
    """Which Telegram user speaks for which administrator account. At most one active binding per
    Telegram user (enforced by a partial unique index where the database supports it)."""

    __tablename__ = "telegram_bindings"
    __table_args__ = (
        Index(
            "uq_binding_active_user",
            "telegram_user_id",
            unique=True,
            sqlite_where=Column("revoked_at").is_(None),
            postgresql_where=Column("revoked_at").is_(None),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    admin_id: int = Field(foreign_key="administrators.id", index=True)
    telegram_user_id: int = Field(sa_column=bigint(nullable=False, index=True))
    telegram_name: str = Field(default="", max_length=128)
    bound_at: dt.datetime = Field(sa_column=aware(nullable=False))
    revoked_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))


class Invite(SQLModel, table=True):
    """A one-time code (its hash) for an administrator account. Used: ``used_at`` and the
    Telegram user ``used_by``; void (seen in a group, ``bot.org.invites.void_seen``):
    ``used_at`` without anyone ``used_by``."""

    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=128, unique=True)
    admin_id: int = Field(foreign_key="administrators.id", index=True)
    created_at: dt.datetime = Field(sa_column=aware(nullable=False))
    expires_at: dt.datetime = Field(sa_column=aware(nullable=False))
    used_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
    used_by: int | None = Field(default=None, sa_column=bigint(nullable=True))

    @property
    def voided(self) -> bool:
        return self.used_at is not None and self.used_by is None
