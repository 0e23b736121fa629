"""Schema for the question-bank submissions (notice 四（三）) and exemption filings (notice 三).

Kept apart from bot/models.py; registered for Alembic by importing this module in
bot/migrations/env.py (and wherever the metadata must be complete).
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.models import _aware, _bigint

# --- question bank --------------------------------------------------------------------------


class QuestionSubmission(SQLModel, table=True):
    """One department's validated question file. Only fully valid files are stored; a new one
    supersedes the current one (``superseded_at`` set), which stays as history. At most one
    current submission per department, enforced by a partial unique index."""

    __tablename__ = "question_submissions"
    __table_args__ = (
        Index(
            "uq_question_submission_current",
            "unit_id",
            unique=True,
            sqlite_where=Column("superseded_at").is_(None),
            postgresql_where=Column("superseded_at").is_(None),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="units.id", index=True)
    department: str = Field(max_length=128)  # the config's department name at submission time
    file_name: str = Field(max_length=256)
    sha256: str = Field(max_length=64)
    single_count: int
    multiple_count: int
    content: str = Field(sa_column=Column(Text, nullable=False))  # the parsed questions, JSON
    late: bool = Field(default=False)
    admin_id: int = Field(foreign_key="administrators.id")
    telegram_user_id: int | None = Field(default=None, sa_column=_bigint(nullable=True))
    submitted_at: dt.datetime = Field(sa_column=_aware(nullable=False))
    superseded_at: dt.datetime | None = Field(default=None, sa_column=_aware(nullable=True))


# --- exemptions -----------------------------------------------------------------------------


class ExemptionReason(enum.StrEnum):
    RETIREMENT = "retirement"  # 2022年12月30日前距退休时间在2周年内
    MATERNITY = "maternity"  # 正在休产假
    ILLNESS = "illness"  # 因重大疾病无法参加在线学法考法


class ExemptionState(enum.StrEnum):
    """The notice's steps, in order; ``rejected`` ends a filing at any step before the city
    office records it."""

    FILED = "filed"  # 学员本人书面申请并提交证明材料 — the unit administrator opens the filing
    HR_REVIEWED = "hr_reviewed"  # 单位组织人事部门审查
    HEAD_APPROVED = "head_approved"  # 单位主要负责人审核同意
    CITY_FILED = "city_filed"  # 报市委依法治市办备案 — only now is the learner exempt
    REJECTED = "rejected"


class ExemptionFiling(SQLModel, table=True):
    """An exemption filing for one learner. At most one filing per learner that is not
    rejected (a partial unique index), so a learner cannot be filed twice at once."""

    __tablename__ = "exemption_filings"
    __table_args__ = (
        Index(
            "uq_exemption_open_learner",
            "learner_id",
            unique=True,
            sqlite_where=Column("state") != "rejected",
            postgresql_where=Column("state") != "rejected",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learners.id", index=True)
    reason: str = Field(max_length=16)
    retirement_date: dt.date | None = Field(default=None)
    state: str = Field(default=ExemptionState.FILED, max_length=16, index=True)
    created_at: dt.datetime = Field(sa_column=_aware(nullable=False))
    updated_at: dt.datetime = Field(sa_column=_aware(nullable=False))


class ExemptionStep(SQLModel, table=True):
    """Who recorded which step of a filing, and when (one row per state change)."""

    __tablename__ = "exemption_steps"

    id: int | None = Field(default=None, primary_key=True)
    filing_id: int = Field(foreign_key="exemption_filings.id", index=True)
    state: str = Field(max_length=16)
    admin_id: int = Field(foreign_key="administrators.id")
    telegram_user_id: int | None = Field(default=None, sa_column=_bigint(nullable=True))
    actor: str = Field(default="", max_length=128)  # the administrator's unit name
    note: str = Field(default="", max_length=500)
    at: dt.datetime = Field(sa_column=_aware(nullable=False))
