"""The platform tasks table: the outbox of actions the platform must carry out."""

from __future__ import annotations

import datetime as dt
import enum

from sqlmodel import Field, SQLModel

from bot.core.columns import aware, bigint


class TaskKind(enum.StrEnum):
    PASSWORD_RESET = "password_reset"
    TRANSFER = "transfer"
    EXEMPTION_SET = "exemption_set"
    EXEMPTION_CLEAR = "exemption_clear"
    EXAM_REGISTRATION = "exam_registration"
    EXAM_REGISTRATION_CANCEL = "exam_registration_cancel"


class TaskStatus(enum.StrEnum):
    AWAITING_APPROVAL = "awaiting_approval"  # a cross-county transfer, before the origin agrees
    QUEUED = "queued"  # to be delivered (or, in operator mode, worked by the operator)
    APPLIED = "applied"  # the platform carried it out
    REFUSED = "refused"  # the platform (or the operator) refused it, with a reason
    CANCELLED = "cancelled"  # never sent: the approval was denied

    @property
    def open(self) -> bool:
        return self in (TaskStatus.AWAITING_APPROVAL, TaskStatus.QUEUED)


class PlatformTask(SQLModel, table=True):
    """One action for the platform. ``id`` is also the idempotency key it is delivered with, so
    delivering it again (after a crash, a timeout) applies it on the platform at most once."""

    __tablename__ = "platform_tasks"

    id: str = Field(primary_key=True, max_length=32)
    kind: str = Field(max_length=32, index=True)
    account: str = Field(default="", max_length=64, index=True)
    unit_code: str = Field(default="", max_length=64)
    payload: str = Field(default="{}", max_length=4000)  # the kind's own fields, JSON
    status: str = Field(max_length=24, index=True)
    requested_by: int | None = Field(default=None, foreign_key="administrators.id", index=True)
    requester_name: str = Field(default="", max_length=128)  # unit name, or "cli"
    requester_telegram_id: int | None = Field(default=None, sa_column=bigint(nullable=True))
    requester_chat_id: int | None = Field(default=None, sa_column=bigint(nullable=True))
    requested_at: dt.datetime = Field(sa_column=aware(nullable=False))
    attempts: int = Field(default=0)
    last_error: str = Field(default="", max_length=500)
    # Not before this moment is the task (re)delivered: the retry back-off, and while a delivery
    # is in flight, its lease (a worker killed mid-delivery leaves it to the next one).
    next_attempt_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
    finished_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
    result: str = Field(default="", max_length=500)  # the platform's or operator's reason
    finished_by: str = Field(default="", max_length=128)  # "platform", or the operator
    notified_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
    reminded_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
