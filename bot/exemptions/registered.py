"""What an exemption filing needs to know of exam registrations: the coming sessions its learner
is registered for, so that the filing's result warns that the registration should be withdrawn
(an exempt learner does not sit the exam, notice 三).

Registrations are the registration capability's tables, and that capability sits above this
one, so it is asked through ``Registrations``, which callers pass in
(``bot.registration.learner_sessions.LEARNER_SESSIONS``): exemptions never imports registration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session

from bot.core.config import Config
from bot.core.rounds import ExamRound


@dataclass(frozen=True)
class RegisteredSession:
    """A coming exam session that takes the learner: by name (``named``), or as one of a head
    count that their unit (or a unit above it) registered."""

    registration_id: int
    round: ExamRound | None  # None: a round no longer in the config
    exam_date: dt.date | None  # None (and no session): a round the platform schedules
    session_time: str
    unit_name: str  # the registering unit
    count: int
    named: bool


class Registrations(Protocol):
    """What the registration capability knows about a learner's coming sessions."""

    def coming(
        self, session: Session, config: Config, learner_id: int, now: dt.datetime
    ) -> list[RegisteredSession]:
        """Active registrations of sessions not yet held that take the learner."""
        ...
