"""Exemption filings and their steps."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Column, Index
from sqlmodel import Field, SQLModel

from bot.core.columns import aware, bigint


class ExemptionReason(enum.StrEnum):
    RETIREMENT = "retirement"  # 2022年12月30日前距退休时间在2周年内
    MATERNITY = "maternity"  # 正在休产假
    ILLNESS = "illness"  # 因重大疾病无法参加在线学法考法


class ExemptionState(enum.StrEnum):
    """The notice's steps, in order; ``rejected`` ends a filing at any step before the city
    office records it, ``revoked`` one the city office found wrong after filing it."""

    FILED = "filed"  # 学员本人书面申请并提交证明材料 — the unit administrator opens the filing
    HR_REVIEWED = "hr_reviewed"  # 单位组织人事部门审查
    HEAD_APPROVED = "head_approved"  # 单位主要负责人审核同意
    CITY_FILED = "city_filed"  # 报市委依法治市办备案 — now the platform is asked to exempt
    REJECTED = "rejected"
    REVOKED = "revoked"  # the city office's spot-check found it wrong: the exemption is undone


class ExemptionFiling(SQLModel, table=True):
    """An exemption filing for one learner. At most one filing per learner that is not
    rejected (a partial unique index), so a learner cannot be filed twice at once. A revoked
    filing counts as one: a learner whose exemption was found wrong is not filed again."""

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
    created_at: dt.datetime = Field(sa_column=aware(nullable=False))
    updated_at: dt.datetime = Field(sa_column=aware(nullable=False))


class ExemptionStep(SQLModel, table=True):
    """Who recorded which step of a filing, and when (one row per state change)."""

    __tablename__ = "exemption_steps"

    id: int | None = Field(default=None, primary_key=True)
    filing_id: int = Field(foreign_key="exemption_filings.id", index=True)
    state: str = Field(max_length=16)
    admin_id: int = Field(foreign_key="administrators.id")
    telegram_user_id: int | None = Field(default=None, sa_column=bigint(nullable=True))
    actor: str = Field(default="", max_length=128)  # the administrator's unit name
    note: str = Field(default="", max_length=500)
    at: dt.datetime = Field(sa_column=aware(nullable=False))
