"""The database schema (SQLModel). Changes go through Alembic migrations in bot/migrations."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import BigInteger, CheckConstraint, Column, DateTime, Index, UniqueConstraint
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field, SQLModel


class UTCDateTime(TypeDecorator):
    """Timezone-aware datetimes on every database: stored in UTC, read back aware.

    SQLite has no timezone type and would drop the offset, so values are normalised to UTC on the
    way in and get UTC attached on the way out; PostgreSQL stores timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def _aware(**kwargs) -> Column:
    return Column(UTCDateTime(), **kwargs)


def _bigint(**kwargs) -> Column:
    """Telegram user and chat ids exceed 32 bits."""
    return Column(BigInteger, **kwargs)


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
    category_consent: bool = Field(default=False)


class Administrator(SQLModel, table=True):
    """An administrator account of a unit (the notice: the account stays, the person may change)."""

    __tablename__ = "administrators"
    __table_args__ = (UniqueConstraint("unit_id", "role", name="uq_admin_unit_role"),)

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    role: str = Field(max_length=16)
    name: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(sa_column=_aware(nullable=False))


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
    telegram_user_id: int = Field(sa_column=_bigint(nullable=False, index=True))
    telegram_name: str = Field(default="", max_length=128)
    bound_at: dt.datetime = Field(sa_column=_aware(nullable=False))
    revoked_at: dt.datetime | None = Field(default=None, sa_column=_aware(nullable=True))


class Invite(SQLModel, table=True):
    __tablename__ = "invites"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=128, unique=True)
    admin_id: int = Field(foreign_key="administrators.id", index=True)
    created_at: dt.datetime = Field(sa_column=_aware(nullable=False))
    expires_at: dt.datetime = Field(sa_column=_aware(nullable=False))
    used_at: dt.datetime | None = Field(default=None, sa_column=_aware(nullable=True))
    used_by: int | None = Field(default=None, sa_column=_bigint(nullable=True))


class Learner(SQLModel, table=True):
    __tablename__ = "learners"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=64)
    unit_id: int = Field(foreign_key="units.id", index=True)
    in_service: bool = Field(default=True)
    exempt: bool = Field(default=False)
    required_credits: float | None = Field(default=None)
    total_credits: float | None = Field(default=None)
    password_hash: str | None = Field(default=None, max_length=256)
    must_change_password: bool = Field(default=False)
    updated_at: dt.datetime = Field(sa_column=_aware(nullable=False))


class AuditLog(SQLModel, table=True):
    """One row per state change, written in the same transaction as the change."""

    __tablename__ = "audit_log"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(sa_column=_aware(nullable=False, index=True))
    actor_admin_id: int | None = Field(default=None, index=True)
    actor_telegram_id: int | None = Field(default=None, sa_column=_bigint(nullable=True))
    actor: str = Field(default="", max_length=128)  # "cli", "seed", or the admin's unit name
    action: str = Field(max_length=64, index=True)
    target: str = Field(default="", max_length=256)
    detail: str = Field(default="", max_length=4000)
    chat_id: int | None = Field(default=None, sa_column=_bigint(nullable=True))


class PendingAction(SQLModel, table=True):
    """A sensitive action awaiting the administrator's confirmation (a password reset, a
    transfer). Confirming flips ``status`` from "pending" with a conditional UPDATE, so two
    presses of the same button can only apply it once."""

    __tablename__ = "pending_actions"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    admin_id: int = Field(foreign_key="administrators.id", index=True)
    telegram_user_id: int = Field(sa_column=_bigint(nullable=False))
    learner_id: int = Field(foreign_key="learners.id", index=True)
    target_unit_id: int | None = Field(default=None, foreign_key="units.id")
    status: str = Field(default="pending", max_length=16, index=True)
    created_at: dt.datetime = Field(sa_column=_aware(nullable=False))
    decided_at: dt.datetime | None = Field(default=None, sa_column=_aware(nullable=True))


# --- exam registration (online zone rounds, makeup), centralized seats, county plans -----------


class Registration(SQLModel, table=True):
    """A unit's booking of one online exam session: a round ("zone1", "zone2", "makeup"), a day,
    one of the daily session times, and how many learners (or which, see RegistrationLearner)."""

    __tablename__ = "registrations"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    round_key: str = Field(max_length=16, index=True)
    exam_date: dt.date
    session_time: str = Field(max_length=5)
    learner_count: int
    status: str = Field(default="active", max_length=16, index=True)
    admin_id: int = Field(foreign_key="administrators.id")
    created_at: dt.datetime = Field(sa_column=_aware(nullable=False))
    updated_at: dt.datetime = Field(sa_column=_aware(nullable=False))


class RegistrationLearner(SQLModel, table=True):
    """A named learner in a registration; a learner sits at most one session per round."""

    __tablename__ = "registration_learners"
    __table_args__ = (UniqueConstraint("learner_id", "round_key", name="uq_learner_round"),)

    id: int | None = Field(default=None, primary_key=True)
    registration_id: int = Field(foreign_key="registrations.id", index=True)
    learner_id: int = Field(foreign_key="learners.id", index=True)
    round_key: str = Field(max_length=16)


class SeatSlot(SQLModel, table=True):
    """One centralized-exam slot. ``used`` only moves by a conditional UPDATE and the CHECK
    constraint keeps it within ``capacity`` whatever the application does."""

    __tablename__ = "seat_slots"
    __table_args__ = (
        UniqueConstraint("exam_date", "slot_index", name="uq_slot_day_index"),
        CheckConstraint("used >= 0 AND used <= capacity", name="ck_slot_capacity"),
    )

    id: int | None = Field(default=None, primary_key=True)
    exam_date: dt.date
    slot_index: int
    capacity: int
    used: int = Field(default=0)


class SeatBooking(SQLModel, table=True):
    __tablename__ = "seat_bookings"

    id: int | None = Field(default=None, primary_key=True)
    slot_id: int = Field(foreign_key="seat_slots.id", index=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    seats: int
    status: str = Field(default="pre", max_length=16, index=True)  # pre | confirmed | cancelled
    admin_id: int | None = Field(default=None, foreign_key="administrators.id")
    created_at: dt.datetime = Field(sa_column=_aware(nullable=False))


class CountyPlan(SQLModel, table=True):
    """A county's (or park's) centralized-exam plan; a new submission replaces the old."""

    __tablename__ = "county_plans"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", unique=True)
    unit_count: int
    dates: str = Field(max_length=200)
    detail: str = Field(default="", max_length=1000)
    admin_id: int = Field(foreign_key="administrators.id")
    submitted_at: dt.datetime = Field(sa_column=_aware(nullable=False))
