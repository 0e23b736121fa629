"""A learner's coming registrations as the exemption filings need them
(``bot.exemptions.registered.Registrations``), read from this capability's tables. Exemptions sit
below registration and never import it, so whoever files an exemption passes
``LEARNER_SESSIONS`` in.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from bot.core import rounds
from bot.core.config import Config
from bot.exemptions.registered import RegisteredSession
from bot.org.models import Unit
from bot.registration import schedule
from bot.registration.assignment import path_ids
from bot.registration.models import Registration, RegistrationLearner
from bot.roster.models import Learner

ACTIVE = "active"


class LearnerSessionsInDb:
    def coming(
        self, session: Session, config: Config, learner_id: int, now: dt.datetime
    ) -> list[RegisteredSession]:
        """Active registrations of sessions not yet held that take the learner: those naming
        them, and head counts (naming nobody) of their unit or a unit above it, for a round
        they are not named in."""
        learner = session.get(Learner, learner_id)
        home = session.get(Unit, learner.unit_id) if learner is not None else None
        if home is None:
            return []
        active = (
            select(Registration, Unit)
            .join(Unit, col(Unit.id) == Registration.unit_id)
            .where(Registration.status == ACTIVE)
        )
        naming = select(RegistrationLearner.registration_id).where(
            RegistrationLearner.learner_id == learner_id
        )
        named = session.exec(active.where(col(Registration.id).in_(naming))).all()
        anyone_named = select(RegistrationLearner.registration_id)
        counts = session.exec(
            active.where(
                col(Unit.id).in_(path_ids(home)),
                col(Registration.id).not_in(anyone_named),
                col(Registration.round_key).not_in(
                    sorted({r.round_key for r, _u in named}) or [""]
                ),
            )
        ).all()
        found = [_view(config, r, u, True) for r, u in named]
        found += [_view(config, r, u, False) for r, u in counts]
        today = now.astimezone(config.tz).date()
        coming = [view for view, last_day in found if last_day >= today]
        return sorted(coming, key=lambda v: (v.exam_date or dt.date.max, v.session_time))


def _view(
    config: Config, registration: Registration, unit: Unit, named: bool
) -> tuple[RegisteredSession, dt.date]:
    """The registration as a session, and the last day it may still be sat."""
    item = rounds.find(config, registration.round_key)
    books = item is None or schedule.books_sessions(config, item)
    view = RegisteredSession(
        registration_id=registration.id or 0,
        round=item,
        exam_date=registration.exam_date if books else None,
        session_time=registration.session_time if books else "",
        unit_name=unit.name,
        count=registration.learner_count,
        named=named,
    )
    return view, registration.exam_date if books or item is None else item.exam.end


LEARNER_SESSIONS = LearnerSessionsInDb()
