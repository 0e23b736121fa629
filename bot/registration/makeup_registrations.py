"""Makeup registrations as the makeup list needs them (``bot.results.makeup.MakeupRegistrations``),
read from this capability's tables. Results sits below registration and never imports it, so
whoever asks results about the makeup list passes ``MAKEUP_REGISTRATIONS`` in.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy import Select
from sqlmodel import Session, col, select

from bot.core.rounds import MAKEUP
from bot.registration.models import Registration, RegistrationLearner

CHUNK = 500  # learner ids per IN (…) query


class MakeupRegistrationsInDb:
    def named(self, session: Session, learner_ids: Sequence[int]) -> set[int]:
        """Those of ``learner_ids`` named in a makeup registration."""
        done: set[int] = set()
        for start in range(0, len(learner_ids), CHUNK):
            chunk = list(learner_ids[start : start + CHUNK])
            done.update(
                session.exec(
                    select(RegistrationLearner.learner_id).where(
                        RegistrationLearner.round_key == MAKEUP,
                        col(RegistrationLearner.learner_id).in_(chunk),
                    )
                )
            )
        return done

    def named_ids(self) -> Select[int]:
        """A query of the learner ids named in a makeup registration (for use inside SQL)."""
        return sa.select(col(RegistrationLearner.learner_id)).where(
            col(RegistrationLearner.round_key) == MAKEUP
        )

    def counted(self, session: Session) -> list[tuple[int, int]]:
        """(unit id, learner count) of every active makeup registration that names nobody."""
        named = set(session.exec(select(RegistrationLearner.registration_id).distinct()))
        active = select(Registration).where(
            Registration.round_key == MAKEUP, Registration.status == "active"
        )
        return [
            (reg.unit_id, reg.learner_count) for reg in session.exec(active) if reg.id not in named
        ]


MAKEUP_REGISTRATIONS = MakeupRegistrationsInDb()
