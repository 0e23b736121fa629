"""The deployment sections of config.toml: Telegram, storage, administration limits, the sandbox
and the reminders' hours. The campaign's facts are in ``bot.core.config``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import Field, model_validator

from bot.core.config_base import NonEmpty, Positive, _Model


class Telegram(_Model):
    group_chat_ids: list[int] = Field(default_factory=list)
    webhook_url: str = ""
    webhook_port: Annotated[int, Field(ge=1, le=65535)] = 8443
    bot_username: str = ""
    listen: NonEmpty = "127.0.0.1"  # the address the webhook and /health servers bind
    health_port: Annotated[int, Field(ge=0, le=65535)] = 0  # 0: no /health endpoint
    read_timeout_seconds: Annotated[float, Field(gt=0, le=120)] = 5.0


class Storage(_Model):
    database_url: NonEmpty


class Admin(_Model):
    reset_limit_per_hour: Positive
    invite_valid_hours: Positive
    bind_attempts_per_hour: Positive


class SandboxSettings(_Model):  # start: a moment, "real", or unset (zone round 1's morning)
    start: dt.datetime | Literal["real"] | None = None


def _in_quiet(moment: dt.time, start: dt.time, end: dt.time) -> bool:
    """Whether ``moment`` lies in the quiet hours [start, end) (which may wrap midnight)."""
    if start == end:
        return False
    if start < end:
        return start <= moment < end
    return moment >= start or moment < end


class Reminders(_Model):
    """When the deadline reminders go out. The dates come from the campaign tables above; this
    table holds only the hours, lead times and sending policy."""

    morning: dt.time = dt.time(9, 0)
    evening: dt.time = dt.time(18, 0)
    quiet_start: dt.time = dt.time(22, 0)
    quiet_end: dt.time = dt.time(7, 30)
    day_deadline: dt.time = dt.time(18, 0)
    deadline_lead_days: Annotated[list[Annotated[int, Field(ge=0, le=60)]], Field(min_length=1)] = (
        Field(default_factory=lambda: [7, 2, 0])
    )
    closing_lead_minutes: Annotated[int, Field(gt=0, le=720)] = 60
    exam_eve_every_day: bool = True
    max_names: Annotated[int, Field(gt=0, le=200)] = 30
    private_targets: bool = False
    custom_max_length: Annotated[int, Field(gt=0, le=3500)] = 500
    custom_valid_hours: Positive = 6
    upcoming_limit: Annotated[int, Field(gt=0, le=50)] = 10
    misfire_grace_seconds: Positive = 600
    sweep_seconds: Positive = 60
    send_attempts: Annotated[int, Field(gt=0, le=10)] = 4
    retry_backoff_seconds: Annotated[float, Field(gt=0, le=600)] = 2.0
    claim_timeout_minutes: Positive = 10

    @model_validator(mode="after")
    def _sane(self) -> Reminders:
        for name in ("morning", "evening", "day_deadline"):
            if self.quiet(getattr(self, name)):
                raise ValueError(f"{name} must not fall in the quiet hours")
        if len(set(self.deadline_lead_days)) != len(self.deadline_lead_days):
            raise ValueError("deadline_lead_days must not repeat")
        return self

    def quiet(self, moment: dt.time) -> bool:
        return _in_quiet(moment.replace(tzinfo=None), self.quiet_start, self.quiet_end)


class Imports(_Model):
    """How large a units, roster or results file the command line takes: a whole city's roster
    in one file (about 150,000 learners), still refusing what no export is."""

    max_rows: Annotated[int, Field(gt=0, le=5_000_000)] = 200_000
    max_file_mb: Annotated[int, Field(gt=0, le=1024)] = 50
    max_inflated_mb: Annotated[int, Field(gt=0, le=4096)] = 200  # an XLSX's unzipped size

    @property
    def max_bytes(self) -> int:
        return self.max_file_mb * 1024 * 1024

    @property
    def max_inflated_bytes(self) -> int:
        return self.max_inflated_mb * 1024 * 1024

    def limits(self) -> dict[str, int]:
        """``read_table``'s keyword arguments."""
        return {
            "max_rows": self.max_rows,
            "max_bytes": self.max_bytes,
            "max_inflated": self.max_inflated_bytes,
        }
