"""Tables of exam registration: registrations, seat slots and bookings, county plans, and the
drafts of /register conversations."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.core.columns import aware, bigint


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
    created_at: dt.datetime = Field(sa_column=aware(nullable=False))
    updated_at: dt.datetime = Field(sa_column=aware(nullable=False))


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
    created_at: dt.datetime = Field(sa_column=aware(nullable=False))


class SeatProposal(SQLModel, table=True):
    """A seat booking awaiting its unit's confirmation: /seats_book writes it (the unit, how
    many seats, who asked, until when), choosing a slot fills in ``parts`` (the plan shown), and
    "确认预约" claims it once with a conditional UPDATE from "pending". The buttons carry only
    its id, so a press can book only what the server proposed to that administrator."""

    __tablename__ = "seat_proposals"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    admin_id: int = Field(foreign_key="administrators.id", index=True)
    telegram_user_id: int = Field(sa_column=bigint(nullable=False))
    seats: int
    parts: str = Field(default="", max_length=1000)  # JSON [[slot_id, seats], ...]; "": no slot
    status: str = Field(default="pending", max_length=16, index=True)  # see seats.PROPOSAL_*
    created_at: dt.datetime = Field(sa_column=aware(nullable=False))
    expires_at: dt.datetime = Field(sa_column=aware(nullable=False))
    decided_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))


class CountyPlan(SQLModel, table=True):
    """A county's (or park's) centralized-exam plan; a new submission replaces the old."""

    __tablename__ = "county_plans"

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", unique=True)
    unit_count: int
    dates: str = Field(max_length=200)
    detail: str = Field(default="", max_length=1000)
    admin_id: int = Field(foreign_key="administrators.id")
    submitted_at: dt.datetime = Field(sa_column=aware(nullable=False))


class RegistrationDraft(SQLModel, table=True):
    """A /register conversation under way, one per (Telegram user, private chat): what has been
    chosen so far and the step it waits at. It lives in the database, not in the process, so a
    restart resumes it and any instance behind the webhook can serve its next step; confirming
    claims (deletes) it once. See ``bot.registration.drafts``."""

    __tablename__ = "registration_drafts"
    __table_args__ = (UniqueConstraint("telegram_user_id", "chat_id", name="uq_draft_owner"),)

    id: int | None = Field(default=None, primary_key=True)
    telegram_user_id: int = Field(sa_column=bigint(nullable=False))
    chat_id: int = Field(sa_column=bigint(nullable=False))
    unit_code: str = Field(max_length=64)
    round_key: str | None = Field(default=None, max_length=16)
    exam_date: dt.date | None = None
    session_time: str | None = Field(default=None, max_length=5)
    learners: str | None = Field(default=None, sa_column=Column(Text, nullable=True))
    step: str = Field(max_length=16)  # see drafts.Step
    updated_at: dt.datetime = Field(sa_column=aware(nullable=False))
