"""The question-bank submissions table."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, Index, Text
from sqlmodel import Field, SQLModel

from bot.core.columns import aware, bigint


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
    telegram_user_id: int | None = Field(default=None, sa_column=bigint(nullable=True))
    submitted_at: dt.datetime = Field(sa_column=aware(nullable=False))
    superseded_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
