"""Answers that need a look-up or the clock.

Every FAQ answer template is rendered with the base context (``c`` the config, ``now`` the
injected clock's time, ``windows`` the registration windows as of now). An entry may name a
``compute`` function here; it reads the question and adds variables for its template, e.g. which
provincial department the asker means. These functions return data only: the template (and the
macros in ``templates/_faq_windows.j2``) writes the words.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.core import rounds
from bot.core.config import Config, Window
from bot.core.rounds import ExamRound
from bot.core.windows import CLOSED, UPCOMING
from bot.core.windows import state as window_state
from faq import computed, forms, reason, units
from faq.names import find_names

CENTRALIZED = "centralized"  # the centralized exam's pre-registration
QUESTIONS = "questions"  # the question-bank submission
COUNTY_PLANS = "county_plans"  # the counties' exam plans


@dataclass(frozen=True)
class WindowStatus:
    """One dated window (a registration, a submission) as of ``now``. ``key`` is a round's key
    ("zone1", "makeup", with ``exam_round`` set) or one of CENTRALIZED, QUESTIONS, COUNTY_PLANS."""

    key: str
    exam_round: ExamRound | None
    start: dt.date
    end: dt.date
    state: str  # "upcoming" | "open" | "closed"
    days_until: int  # whole days until it opens (0 when open or closed)
    days_left: int  # whole days left including today (0 when not open)

    @property
    def is_open(self) -> bool:
        return self.state == "open"


def window_status(
    config: Config,
    key: str,
    start: dt.date,
    end: dt.date,
    now: dt.datetime,
    exam_round: ExamRound | None = None,
) -> WindowStatus:
    """The window at ``now`` by the one closing-hour rule (``bot.core.windows``): open from its
    first day until ``[reminders] day_deadline`` on its last, as ``/register`` enforces."""
    today = now.astimezone(config.tz).date()
    state = window_state(config, Window(start=start, end=end), now)
    if state == UPCOMING:
        return WindowStatus(key, exam_round, start, end, state, (start - today).days, 0)
    if state == CLOSED:
        return WindowStatus(key, exam_round, start, end, state, 0, 0)
    return WindowStatus(key, exam_round, start, end, state, 0, (end - today).days + 1)


def registration_windows(config: Config, now: dt.datetime) -> list[WindowStatus]:
    """Every registration / submission window of the campaign, in date order."""
    items = [
        window_status(config, r.key, r.registration.start, r.registration.end, now, r)
        for r in rounds.registrable(config)
        if r.registration is not None
    ]
    cz = config.centralized
    items.append(
        window_status(config, CENTRALIZED, cz.preregistration_start, cz.preregistration_end, now)
    )
    deadline = config.question_submission.deadline
    items.append(window_status(config, QUESTIONS, config.study.start, deadline, now))
    plans = config.county_plans.deadline
    items.append(window_status(config, COUNTY_PLANS, plans, plans, now))
    return sorted(items, key=lambda w: (w.start, w.key))


def base_context(config: Config, now: dt.datetime, question: str = "") -> dict[str, Any]:
    """The variables every answer template may use; ``lead``: how a yes-or-no answer to
    ``question`` starts (``faq.reason.lead``; None for a question asking for a fact); ``cue``:
    the cue groups it holds (``faq.reason.Cues``: "经…同意了" is ``cue.consent``)."""
    windows = registration_windows(config, now)
    return {
        "c": config,
        "now": now,
        "lead": forms.question_lead(question, now),
        "cue": reason.understand(question, now)[1] if question else reason.Cues(),
        "today": now.date(),
        "windows": windows,
        "open_windows": [w for w in windows if w.is_open],
        "next_window": next((w for w in windows if w.state == "upcoming"), None),
        "window": {w.key: w for w in windows},
    }


# --- per-entry computations ------------------------------------------------------------------


def centralized_unit(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``unit``: the centralized-exam unit the question names, or None; ``online_self``: the
    question proposes that its staff sit the exam online, each on his own."""
    hits = find_names(question, config.centralized.units, config.campaign.city)
    _facts, cue = reason.understand(question, now)
    return {
        "unit": hits[0] if hits else None,
        "named": hits[0] if hits else None,
        "online_self": cue.online_self,
        # "市医保局是参加省里分类组考的吧": a unit on the list takes the centralized exam
        "asks_category": cue.category and not cue.centralized,
    }


def participant_level(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``level``: the rank of staff the question names; ``within``: whether the scope of
    participants holds it (None: no rank named); ``only``: the question believes one rank is
    all there is ("是不是只有科级干部才算学员")."""
    f, cue = reason.understand(question, now)
    text = f.text
    # a rank judged only where the rank is what is asked ("调研员能免考吗" is not)
    level, within = reason.level_named(text) if reason.asks_level(text, cue) else (None, None)
    cues: dict[str, list[str]] = reason.vocabulary()["cues"]  # type: ignore[assignment]
    only = cues["only"]
    return {
        "level": level,
        "within": within,
        "only": any(w in text for w in only),
        "believes_not": forms.believes_not(text),  # "调研员应该不用参加了吧"
        # "…也要参加吗还是可以不参加": whether they may stay away
        "asks_not": any(w in text for w in cues["stay_away"]),
        # "参加对象是科级及以下吧": the rank said to be the top, which it is not
        "low_top": within is True
        and level not in cues["level_top"]
        and any(f"{level}{w}" in text for w in cues["level_bound"]),
        "named": None,
    }


Compute = Callable[[Config, str, dt.datetime], dict[str, Any]]

COMPUTES: dict[str, Compute] = {
    "unit_exam": computed.unit_exam,
    "centralized_unit": centralized_unit,
    "question_department": units.question_department,
    "calendar": computed.calendar,
    "sessions": computed.sessions,
    "study_check": computed.study_check,
    "score_check": computed.score_check,
    "credits_check": computed.credits_check,
    "seats_check": computed.seats_check,
    "county_units_check": computed.county_units_check,
    "retirement_check": computed.retirement_check,
    "participant_level": participant_level,
}
"""Every compute returns ``named``: what the question names that the entry looks up (a unit, a
department, a law), or None; the ranking boosts an entry whose look-up names something."""

LOOKUPS = frozenset({"unit_exam", "centralized_unit", "question_department"})
"""The computes that look a name up (the others read dates, times and counts)."""
