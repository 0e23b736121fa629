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
from bot.core.config import CategoryDepartment, Config, QuestionDepartment
from bot.core.rounds import ExamRound
from faq.names import find_names, short_law_name, without_spaces

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
    key: str, start: dt.date, end: dt.date, today: dt.date, exam_round: ExamRound | None = None
) -> WindowStatus:
    if today < start:
        return WindowStatus(key, exam_round, start, end, "upcoming", (start - today).days, 0)
    if today > end:
        return WindowStatus(key, exam_round, start, end, "closed", 0, 0)
    return WindowStatus(key, exam_round, start, end, "open", 0, (end - today).days + 1)


def registration_windows(config: Config, now: dt.datetime) -> list[WindowStatus]:
    """Every registration / submission window of the campaign, in date order."""
    today = now.date()
    items = [
        window_status(r.key, r.registration.start, r.registration.end, today, r)
        for r in rounds.registrable(config)
        if r.registration is not None
    ]
    cz = config.centralized
    items.append(
        window_status(CENTRALIZED, cz.preregistration_start, cz.preregistration_end, today)
    )
    deadline = config.question_submission.deadline
    items.append(window_status(QUESTIONS, config.study.start, deadline, today))
    plans = config.county_plans.deadline
    items.append(window_status(COUNTY_PLANS, plans, plans, today))
    return sorted(items, key=lambda w: (w.start, w.key))


def base_context(config: Config, now: dt.datetime) -> dict[str, Any]:
    """The variables every answer template may use."""
    windows = registration_windows(config, now)
    return {
        "c": config,
        "now": now,
        "today": now.date(),
        "windows": windows,
        "open_windows": [w for w in windows if w.is_open],
        "next_window": next((w for w in windows if w.state == "upcoming"), None),
        "window": {w.key: w for w in windows},
    }


# --- per-entry computations ------------------------------------------------------------------


def category_department(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``dept``: the attachment-1 department the question names (or None); ``member``: the
    customs unit named, when the question names one of a department's members."""
    city = config.campaign.city
    members = {m: d for d in config.category_departments for m in d.members}
    hit_member = find_names(question, members, city)
    if hit_member:
        return {"dept": members[hit_member[0]], "member": hit_member[0]}
    hits = find_names(question, [d.name for d in config.category_departments], city)
    dept: CategoryDepartment | None = config.category_department(hits[0]) if hits else None
    return {"dept": dept, "member": None}


def centralized_unit(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``unit``: the centralized-exam unit the question names, or None."""
    hits = find_names(question, config.centralized.units, config.campaign.city)
    return {"unit": hits[0] if hits else None}


def question_department(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``qdept``: the question-bank department named by department or by one of its laws;
    ``law``: the law, when it was named by a law."""
    city = config.campaign.city
    hits = find_names(question, [q.department for q in config.question_bank], city)
    qdept: QuestionDepartment | None = config.question_department(hits[0]) if hits else None
    if qdept is not None:
        return {"qdept": qdept, "law": None}
    text = without_spaces(question)
    for q in config.question_bank:
        for law in q.laws:
            short = short_law_name(law, city)
            if law in text or (len(short) >= 2 and short in text):
                return {"qdept": q, "law": law}
    return {"qdept": None, "law": None}


Compute = Callable[[Config, str, dt.datetime], dict[str, Any]]

COMPUTES: dict[str, Compute] = {
    "category_department": category_department,
    "centralized_unit": centralized_unit,
    "question_department": question_department,
}
