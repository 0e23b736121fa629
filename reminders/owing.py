"""Who still owes what a reminder is about: the units a message names (names only, never
people), looked up in the database at the moment the message is for.

Each kind asks the capability that knows: the overview's /status list for a zone round, the
county plans, the centralized seat bookings, the question-bank submissions, the makeup lists of
the imported results.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlmodel import Session, col, select

from bot.bank.models import QuestionSubmission
from bot.core.config import Config
from bot.core.uow import UnitOfWork
from bot.org.models import Unit, UnitKind
from bot.overview.status import status
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.registration.models import CountyPlan, SeatBooking
from bot.results.owing import makeup_owing
from reminders import calendar
from reminders.models import StoredReminder
from reminders.store import params_of


class NamedUnit(Protocol):
    """A unit as the lists need it (a ``Unit`` row or the overview's ``UnitRef``)."""

    @property
    def id(self) -> int | None: ...
    @property
    def code(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Owing:
    """The units a reminder concerns, as of ``as_of``. ``known`` is False when the database
    cannot tell who has done it yet (then ``units`` are everyone who must)."""

    units: Sequence[NamedUnit]
    expected: int  # how many units the question concerns (0: the database knows of none)
    as_of: dt.datetime
    known: bool = True

    @property
    def names(self) -> list[str]:
        return [u.name for u in self.units]


def owing_for(uow: UnitOfWork, row: StoredReminder, at: dt.datetime | None = None) -> Owing | None:
    """Who still has to act on this reminder at ``at`` (default: the unit of work's moment),
    where the database knows; None where it is not a question of anyone owing anything (an exam
    eve, the study start, a custom text, an opening announcement)."""
    moment = at or uow.now
    session, config = uow.session, uow.config
    phase = params_of(row).get("phase")
    if row.kind == calendar.QUESTION_BANK:
        return _question_bank(session, config, moment)
    if row.kind == calendar.COUNTY_PLAN:
        return _county_plans(session, moment)
    if row.kind == calendar.CENTRALIZED_PREREGISTRATION and phase != "open":
        return _centralized(session, config, moment)
    if row.kind == calendar.REGISTRATION and phase != "open":
        return _zone_round(session, config, f"zone{params_of(row).get('round')}", moment)
    if row.kind == calendar.MAKEUP_LIST:
        return _makeup_list(session, config, moment)
    return None


def _zone_round(session: Session, config: Config, round_key: str, at: dt.datetime) -> Owing:
    """First-level units expected in the online zone exam (not taking a category exam, not on
    the centralized list) with no active registration for the round, on themselves or below —
    the same list the city office's /status shows at that moment."""
    report = status(session, config, at)
    for item in report.rounds:
        if item.key == round_key and item.missing is not None:
            return Owing(list(item.missing), item.expected or 0, at)
    return Owing([], 0, at)


def _county_plans(session: Session, at: dt.datetime) -> Owing:
    planned = set(session.exec(select(CountyPlan.unit_id)))
    counties = session.exec(
        select(Unit)
        .where(col(Unit.kind).in_([UnitKind.COUNTY, UnitKind.PARK]))
        .order_by(col(Unit.path), col(Unit.id))
    ).all()
    return Owing([u for u in counties if u.id not in planned], len(counties), at)


def _named_units(session: Session, names: list[str]) -> list[Unit]:
    """The units of these names that exist, in the order given."""
    rows = {u.name: u for u in session.exec(select(Unit).where(col(Unit.name).in_(names)))}
    return [rows[n] for n in names if n in rows]


def _centralized(session: Session, config: Config, at: dt.datetime) -> Owing:
    booked = set(session.exec(select(SeatBooking.unit_id).where(SeatBooking.status != "cancelled")))
    units = _named_units(session, list(config.centralized.units))
    return Owing([u for u in units if u.id not in booked], len(units), at)


def _question_bank(session: Session, config: Config, at: dt.datetime) -> Owing:
    units = _named_units(session, [q.department for q in config.question_bank])
    current = select(QuestionSubmission.unit_id).where(
        col(QuestionSubmission.superseded_at).is_(None)
    )
    done = set(session.exec(current))
    return Owing([u for u in units if u.id not in done], len(units), at)


def _makeup_list(session: Session, config: Config, at: dt.datetime) -> Owing:
    """Units whose makeup list (from the imported results) is not registered yet; not known
    before any result is imported."""
    found = makeup_owing(session, config, MAKEUP_REGISTRATIONS)
    return Owing(found.units, found.expected, at, found.known)
