"""The reminders' own tables: the source of truth for what is scheduled, where it goes and
what was sent.

``reminders`` holds the calendar (synced from config at every start, stable ids) and the city
office's one-off reminders ("custom-N"). ``liaison_groups`` holds the group chats the reminders
go to: seeded from config, and following a group that Telegram upgrades to a supergroup (a new
chat id). ``reminder_sends`` is the sent-log: a row is claimed (INSERT under the unique key
reminder/chat/scheduled time) *before* a message is sent, so a restart, a retry or a second
instance on the same database can never send it twice; ``written_at`` says whether its request
was ever written to Telegram (only then may the message have gone out).
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
    FAILED = "failed"  # given up, or interrupted after it was written (may have been sent); logged
    SKIPPED = (
        "skipped"  # not sent: its deadline passed, or a newer one of its series was due; logged
    )
    RELEASED = "released"  # an outcome only: the claim was taken back before it was written


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
    # Reminders of one series say the same thing ever more urgently (a registration window's
    # opening, last day and closing): after downtime only the newest due one is sent. Empty: a
    # series of its own (the custom reminders).
    series: str = Field(default="", max_length=64, sa_column_kwargs={"server_default": ""})


class LiaisonGroup(SQLModel, table=True):
    """A group chat the reminders go to. ``origin_chat_id`` is the id config names it by;
    ``moved_to`` is set when Telegram upgraded it to a supergroup (whose row then carries on);
    ``retired`` when config no longer names it. Served: neither moved nor retired."""

    __tablename__ = "liaison_groups"

    id: int | None = Field(default=None, primary_key=True)
    chat_id: int = Field(sa_column=bigint(nullable=False, unique=True))
    origin_chat_id: int = Field(sa_column=bigint(nullable=False, index=True))
    moved_to: int | None = Field(default=None, sa_column=bigint(nullable=True))
    retired: bool = Field(default=False)
    title: str = Field(default="", max_length=255)
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
    # Set just before the request goes out (after the rate limiter's wait), cleared when it
    # certainly did not arrive (a refused connection, an error answer): a claim left behind by
    # a dead process was sent only if this is set.
    written_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
    sent_at: dt.datetime | None = Field(default=None, sa_column=aware(nullable=True))
    message_id: int | None = Field(default=None, sa_column=bigint(nullable=True))
    error: str = Field(default="", max_length=500)
