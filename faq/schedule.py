"""The campaign's calendar as the FAQ reasons about it: every dated window (exams, registrations,
submissions, study) and the online sessions, from config.toml.

"9月21号考试属于哪一次", "明天能报第二次了吧", "今天还有场吗" are answered from these spans: which
contain a day, which come next, which sessions remain after a moment.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.core import rounds
from bot.core.config import Config, OnlineSession, Slot
from bot.core.rounds import ExamRound

EXAM, REGISTER, STUDY = "exam", "register", "study"
CENTRALIZED = "centralized"  # the centralized exam (and its pre-registration)
QUESTIONS = "questions"  # the question-bank submission
COUNTY_PLANS = "county_plans"  # the counties' exam plans
STUDY_KEY = "study"


@dataclass(frozen=True)
class Span:
    """One dated window. ``key``: a round's key ("zone1", "makeup", "category") or CENTRALIZED,
    QUESTIONS, COUNTY_PLANS, STUDY_KEY; ``action``: EXAM, REGISTER (registrations and
    submissions) or STUDY."""

    key: str
    action: str
    start: dt.date
    end: dt.date
    exam_round: ExamRound | None = None

    def relation(self, day: dt.date) -> str:
        """ "before" (the span is still to come), "in" or "after" (it is over), for ``day``."""
        if day < self.start:
            return "before"
        return "after" if day > self.end else "in"

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end

    def days_until(self, day: dt.date) -> int:
        return max(0, (self.start - day).days)

    def days_left(self, day: dt.date) -> int:
        """Days left including ``day`` (0 when not in the span)."""
        return (self.end - day).days + 1 if self.contains(day) else 0

    @property
    def is_zone(self) -> bool:
        return self.exam_round is not None and self.exam_round.is_zone


def spans(config: Config) -> list[Span]:
    """Every window of the campaign, in date order."""
    out: list[Span] = []
    for r in rounds.catalogue(config):
        out.append(Span(r.key, EXAM, r.exam.start, r.exam.end, r))
        if r.registration is not None:
            out.append(Span(r.key, REGISTER, r.registration.start, r.registration.end, r))
    cz = config.centralized
    out.append(Span(CENTRALIZED, EXAM, cz.exam_start, cz.exam_end))
    out.append(Span(CENTRALIZED, REGISTER, cz.preregistration_start, cz.preregistration_end))
    out.append(Span(QUESTIONS, REGISTER, config.study.start, config.question_submission.deadline))
    plans = config.county_plans.deadline
    out.append(Span(COUNTY_PLANS, REGISTER, plans, plans))
    last = max(s.end for s in out)
    out.append(Span(STUDY_KEY, STUDY, config.study.start, last))
    return sorted(out, key=lambda s: (s.start, s.end, s.key))


def of(config: Config, action: str | None = None, key: str | None = None) -> list[Span]:
    return [
        s
        for s in spans(config)
        if (action is None or s.action == action) and (key is None or s.key == key)
    ]


def zone_exam_day(config: Config, day: dt.date) -> Span | None:
    """The zone round whose exam days include ``day`` (the online sessions run then)."""
    return next((s for s in of(config, EXAM) if s.is_zone and s.contains(day)), None)


def in_period(moment: dt.time, hours: tuple[int, int]) -> bool:
    return hours[0] <= moment.hour < hours[1]


def sessions_in(config: Config, hours: tuple[int, int]) -> list[OnlineSession]:
    return [s for s in config.online_sessions if in_period(s.time, hours)]


def slots_in(config: Config, hours: tuple[int, int]) -> list[Slot]:
    return [s for s in config.centralized.slots if in_period(s.start, hours)]


def session_at(config: Config, moment: dt.time) -> OnlineSession | None:
    return next((s for s in config.online_sessions if s.time == moment), None)


def slot_at(config: Config, moment: dt.time) -> Slot | None:
    """The centralized slot running at ``moment`` (its start included, its end not)."""
    return next((s for s in config.centralized.slots if s.start <= moment < s.end), None)


def sessions_after(config: Config, moment: dt.time) -> list[OnlineSession]:
    """The online sessions that start after ``moment`` (a session under way is too late)."""
    return [s for s in config.online_sessions if s.time > moment]


def nearest_sessions(
    config: Config, moment: dt.time
) -> tuple[OnlineSession | None, OnlineSession | None]:
    """The last session before ``moment`` and the first after it."""
    before = [s for s in config.online_sessions if s.time < moment]
    after = sessions_after(config, moment)
    return (before[-1] if before else None), (after[0] if after else None)


def study_deadline(config: Config, exam_day: dt.date) -> dt.datetime:
    """When the credits must be complete for an exam on ``exam_day`` (notice 五（一）: 21:00 the
    day before), in the campaign's timezone."""
    day = exam_day - dt.timedelta(days=config.study.deadline_days_before_exam)
    return dt.datetime.combine(day, config.study.deadline_time, config.tz)
