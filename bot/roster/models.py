"""Tables of the roster: learners, and the pending (two-step) actions on them.

The bot holds no passwords: learners log in on the platform (如法网), which is the system of
record for their accounts; a reset is a platform task (``bot.roster.learners``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from bot.core.columns import aware, bigint


class Learner(SQLModel, table=True):
    __tablename__ = "learners"
    __table_args__ = (
        # Covering for the reports' base per unit (migration 0013; serves lookups by unit_id).
        Index("ix_learners_unit_base", "unit_id", "in_service", "exempt"),
        # The city's tally reads the learners in the order it groups them (migration 0014).
        Index(
            "ix_learners_unit_fold",
            "unit_id",
            "fold_grade",
            "fold_last",
            "fold_makeup",
            "in_service",
            "exempt",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=64, unique=True, index=True)
    name: str = Field(max_length=64)
    unit_id: int = Field(foreign_key="units.id")  # indexed by ix_learners_unit_base
    in_service: bool = Field(default=True)
    exempt: bool = Field(default=False)
    required_credits: float | None = Field(default=None)
    total_credits: float | None = Field(default=None)
    updated_at: dt.datetime = Field(sa_column=aware(nullable=False))
    # The learner's results folded as ``bot.results.aggregates.folded`` packs them (None: no
    # such result), kept by the results importer (``aggregates.refold``).
    fold_grade: int | None = Field(default=None, sa_column=bigint(nullable=True))
    fold_last: int | None = Field(default=None, sa_column=bigint(nullable=True))
    fold_makeup: int | None = Field(default=None, sa_column=bigint(nullable=True))


class PendingAction(SQLModel, table=True):
    """A sensitive action awaiting the administrator's confirmation (a password reset, a
    transfer). Confirming flips ``status`` from "pending" with a conditional UPDATE, so two
    presses of the same button can only apply it once."""

    __tablename__ = "pending_actions"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=32)
    admin_id: int = Field(foreign_key="administrators.id", index=True)
    telegram_user_id: int = Field(sa_column=bigint(nullable=False))
    learner_id: int = Field(foreign_key="learners.id", index=True)
    target_unit_id: int | None = Field(default=None, foreign_key="units.id")
    status: str = Field(default="pending", max_length=16, index=True)
    created_at: dt.datetime = Field(sa_column=aware(nullable=False))
    decided_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
