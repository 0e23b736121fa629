"""Schema for exam results (notice 四（四）, 五（二）(三), 六（三）): one row per learner per round.

Registered for Alembic and the complete metadata through ``bot.tables``.

The transfer rule: ``unit_id`` is the unit the learner belonged to at the time of that round —
taken from the results file's optional unit column (the platform's own record of where the
learner sat), else the learner's roster unit when that round's result is first imported. A later
re-import updates the score but keeps that unit unless the file names one. See
bot/results/outcomes.py for how a learner is then counted.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.core.columns import aware


class ExamResult(SQLModel, table=True):
    __tablename__ = "exam_results"
    __table_args__ = (
        UniqueConstraint("learner_id", "round_key", name="uq_result_learner_round"),
        # absent <=> no score (portable: a bare boolean column works on SQLite and PostgreSQL)
        CheckConstraint(
            "(absent AND score IS NULL) OR (NOT absent AND score IS NOT NULL)",
            name="ck_result_absent_score",
        ),
        CheckConstraint("score IS NULL OR score >= 0", name="ck_result_score_nonneg"),
        # Covering: the reports fold each learner's results from the index alone (migration
        # 0013; it serves lookups by learner_id too).
        Index(
            "ix_exam_results_learner_round_score_unit",
            "learner_id",
            "round_key",
            "score",
            "unit_id",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    learner_id: int = Field(foreign_key="learners.id")  # indexed by the covering index
    round_key: str = Field(max_length=16, index=True)  # a key of bot.core.rounds.catalogue
    score: float | None = Field(default=None)
    absent: bool = Field(default=False)
    unit_id: int = Field(foreign_key="units.id", index=True)  # the unit at the time of the round
    source: str = Field(default="", max_length=256)  # the file it came from
    imported_at: dt.datetime = Field(sa_column=aware(nullable=False))


class FoldRules(SQLModel, table=True):
    """The rules the folds stored on the learner rows were made under (one row): a pass mark
    or regular rounds changed in config.toml since then make the start-up fold them again
    (``bot.results.aggregates.ensure_folds``)."""

    __tablename__ = "result_folds"

    id: int = Field(default=1, primary_key=True)
    rules: str = Field(max_length=512)
