"""The reminders' own tables: the source of truth for what is scheduled and what was sent.

``reminders`` holds the calendar (synced from config at every start, stable ids) and the city
office's one-off reminders ("custom-N"). ``reminder_sends`` is the sent-log: a row is claimed
(INSERT under the unique key reminder/chat/scheduled time) *before* a message is sent, so a
restart, a retry or a second instance on the same database can never send it twice.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from bot.core.columns import aware, bigint


class Source(enum.StrEnum):
    CALENDAR = "calendar"
    CUSTOM = "custom"


class SendStatus(enum.StrEnum):
    CLAIMED = "claimed"  # this instance is sending it now
    SENT = "sent"
    FAILED = "failed"  # retried and given up (or interrupted); logged
    SKIPPED = "skipped"  # due while the bot was down and its deadline had passed; logged


class StoredReminder(SQLModel, table=True):
    __tablename__ = "reminders"

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=32, index=True)
    source: str = Field(default=Source.CALENDAR, max_length=16)
    fire_at: dt.datetime = Field(sa_column=aware(nullable=False, index=True))
    deadline: dt.datetime = Field(sa_column=aware(nullable=False))
    template: str = Field(max_length=64)
    params: str = Field(default="{}", max_length=2000)  # JSON for the template
    text: str | None = Field(default=None, max_length=4000)  # a custom reminder's own text
    paused: bool = Field(default=False)
    created_by: str = Field(default="", max_length=128)
    created_at: dt.datetime = Field(sa_column=aware(nullable=False))
    updated_at: dt.datetime = Field(sa_column=aware(nullable=False))


class ReminderSend(SQLModel, table=True):
    __tablename__ = "reminder_sends"
    __table_args__ = (
        UniqueConstraint("reminder_id", "chat_id", "fire_at", name="uq_reminder_send"),
    )

    id: int | None = Field(default=None, primary_key=True)
    reminder_id: str = Field(max_length=64, index=True)
    chat_id: int = Field(sa_column=bigint(nullable=False))
    fire_at: dt.datetime = Field(sa_column=aware(nullable=False))
    status: str = Field(default=SendStatus.CLAIMED, max_length=16, index=True)
    attempts: int = Field(default=0)
    claimed_at: dt.datetime = Field(sa_column=aware(nullable=False))
    sent_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
    message_id: int | None = Field(default=None, sa_column=bigint(nullable=True))
    error: str = Field(default="", max_length=500)
