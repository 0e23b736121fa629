"""The deadline calendar, derived from config.toml alone.

Every reminder has a stable id ("zone1-registration-open"), so a restart finds the same ones and a
config change moves them instead of adding new ones. The dates come from the campaign tables; the
hours, lead times and quiet hours from ``[reminders]``. Nothing here touches the database.

What is sent when (with the shipped config):

* study start — the morning of ``study.start``;
* question bank — ``deadline_lead_days`` before ``question_submission.deadline`` (a week, two
  days, the morning of), naming the departments that still owe;
* county plans — the same lead days before ``county_plans.deadline``, naming counties without one;
* category exam — the morning its window opens;
* each zone round's registration — the opening morning, the last morning, and
  ``closing_lead_minutes`` before the window closes (``day_deadline`` of its last day), the last
  two naming units not yet registered; its exams — the evening before each exam day (or the first
  only), with the study-credit deadline (``study.deadline_time`` the day before one's exam);
* centralized exam — pre-registration opening and last morning (naming listed units without a
  booking), and the evening before the first exam day;
* makeup — registration opening, last morning and closing; the evening before the makeup exams,
  and the morning of their last day;
* makeup list — the evening of the first makeup registration day, naming units whose makeup list
  (from the imported results, bot.results.makeup) is not registered yet (none for a one-day
  window: the closing reminder is then the last word).

Reminders about one thing form a *series* (a registration window's opening, last day and
closing; a deadline's lead days; a round's exam eves): after downtime only the newest due one of
a series is sent (``reminders.dispatch``), as an older one would only repeat it less urgently.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bot.core import windows
from bot.core.config import Config, Window

# Kinds: what the reminder is about (also what the "who still owes" lookup is keyed on).
STUDY_START = "study_start"
QUESTION_BANK = "question_bank"
COUNTY_PLAN = "county_plan"
CATEGORY_EXAM = "category_exam"
REGISTRATION = "registration"
EXAM_EVE = "exam_eve"
CENTRALIZED_PREREGISTRATION = "centralized_preregistration"
CENTRALIZED_EXAM = "centralized_exam"
MAKEUP_REGISTRATION = "makeup_registration"
MAKEUP_EXAM = "makeup_exam"
MAKEUP_LIST = "makeup_list"
CUSTOM = "custom"

KINDS = (
    STUDY_START,
    QUESTION_BANK,
    COUNTY_PLAN,
    CATEGORY_EXAM,
    REGISTRATION,
    EXAM_EVE,
    CENTRALIZED_PREREGISTRATION,
    CENTRALIZED_EXAM,
    MAKEUP_REGISTRATION,
    MAKEUP_EXAM,
    MAKEUP_LIST,
    CUSTOM,
)


@dataclass(frozen=True)
class Reminder:
    """One calendar entry: when it fires, until when it is still worth sending, what it says,
    and the series it belongs to."""

    id: str
    kind: str
    fire_at: dt.datetime
    deadline: dt.datetime
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    series: str = ""


class _Builder:
    def __init__(self, config: Config) -> None:
        self.config = config
        self.r = config.reminders
        self.tz = config.tz
        self.items: list[Reminder] = []

    def at(self, day: dt.date, time: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, time.replace(tzinfo=None), tzinfo=self.tz)

    def close(self, day: dt.date) -> dt.datetime:
        """When a whole-day deadline (or a window's last day) is taken to be reached: the one
        end-of-day rule the registration windows are enforced by (``bot.core.windows``)."""
        return windows.closes_at(self.config, day)

    def out_of_quiet(self, moment: dt.datetime, deadline: dt.datetime) -> dt.datetime:
        """Move a moment out of the quiet hours: to their end, or, when that would be at or after
        the deadline, to a minute before they began."""
        r, t, day = self.r, moment.time(), moment.date()
        if not r.quiet(t):
            return moment
        end_day = start_day = day
        if r.quiet_start > r.quiet_end:  # the quiet hours wrap midnight
            if t >= r.quiet_start:
                end_day = day + dt.timedelta(days=1)
            else:
                start_day = day - dt.timedelta(days=1)
        later = self.at(end_day, r.quiet_end)
        if later < deadline:
            return later
        return self.at(start_day, r.quiet_start) - dt.timedelta(minutes=1)

    def add(
        self,
        rid: str,
        kind: str,
        fire_at: dt.datetime,
        deadline: dt.datetime,
        template: str,
        series: str | None = None,
        **params: Any,
    ) -> None:
        """One reminder; ``series`` defaults to its own id (a series of one)."""
        fire_at = self.out_of_quiet(fire_at, deadline)
        if fire_at >= deadline:  # a lead time longer than the window leaves nothing to say
            return
        item = Reminder(rid, kind, fire_at, deadline, template, params, series or rid)
        self.items.append(item)

    # --- the campaign, in order ------------------------------------------------------------
    def build(self) -> list[Reminder]:
        c, r = self.config, self.r
        start = c.study.start
        self.add(
            "study-start",
            STUDY_START,
            self.at(start, r.morning),
            self.close(start),
            "reminder_study_start",
        )
        self.lead_days("question-bank", QUESTION_BANK, c.question_submission.deadline)
        self.lead_days("county-plan", COUNTY_PLAN, c.county_plans.deadline)
        cat = c.category_exam
        self.add(
            "category-exam-start",
            CATEGORY_EXAM,
            self.at(cat.start, r.morning),
            self.close(cat.start),
            "reminder_category_exam",
        )
        for zone in c.zone_rounds:
            key = f"zone{zone.number}"
            self.registration(key, REGISTRATION, zone.registration, round_number=zone.number)
            self.exam_eves(key, EXAM_EVE, zone.exam.days(), round_number=zone.number)
        cen = c.centralized
        pre = cen.preregistration
        self.add(
            "centralized-preregistration-open",
            CENTRALIZED_PREREGISTRATION,
            self.at(pre.start, r.morning),
            self.close(pre.end),
            "reminder_centralized",
            series="centralized-preregistration",
            phase="open",
        )
        if pre.end != pre.start:
            self.add(
                "centralized-preregistration-last",
                CENTRALIZED_PREREGISTRATION,
                self.at(pre.end, r.morning),
                self.close(pre.end),
                "reminder_centralized",
                series="centralized-preregistration",
                phase="last",
            )
        first = cen.exam.start
        self.add(
            "centralized-exam-eve",
            CENTRALIZED_EXAM,
            self.at(first - dt.timedelta(days=1), r.evening),
            self.at(first, cen.slots[0].start),
            "reminder_centralized",
            phase="exam",
        )
        mk = c.makeup
        self.registration("makeup", MAKEUP_REGISTRATION, mk.registration, round_number=None)
        self.exam_eves("makeup", MAKEUP_EXAM, mk.exam.days(), round_number=None, every=False)
        self.add(
            "makeup-list",
            MAKEUP_LIST,
            self.at(mk.registration.start, r.evening),
            self.close(mk.registration.end),
            "reminder_makeup_list",
        )
        if mk.exam.end != mk.exam.start:
            self.add(
                "makeup-exam-last",
                MAKEUP_EXAM,
                self.at(mk.exam.end, r.morning),
                self.close(mk.exam.end),
                "reminder_exam_eve",
                series="makeup-exam",
                round=None,
                phase="last",
                exam_date=mk.exam.end.isoformat(),
            )
        return sorted(self.items, key=lambda item: (item.fire_at, item.id))

    def lead_days(self, prefix: str, kind: str, deadline_day: dt.date) -> None:
        for days in sorted(self.r.deadline_lead_days, reverse=True):
            day = deadline_day - dt.timedelta(days=days)
            self.add(
                f"{prefix}-d{days}",
                kind,
                self.at(day, self.r.morning),
                self.close(deadline_day),
                f"reminder_{kind}",
                series=prefix,
                days_left=days,
            )

    def registration(self, key: str, kind: str, window: Window, round_number: int | None) -> None:
        closes = self.close(window.end)
        tpl = "reminder_registration"
        self.add(
            f"{key}-registration-open",
            kind,
            self.at(window.start, self.r.morning),
            closes,
            tpl,
            series=f"{key}-registration",
            round=round_number,
            phase="open",
        )
        if window.end != window.start:
            self.add(
                f"{key}-registration-last",
                kind,
                self.at(window.end, self.r.morning),
                closes,
                tpl,
                series=f"{key}-registration",
                round=round_number,
                phase="last",
            )
        self.add(
            f"{key}-registration-closing",
            kind,
            closes - dt.timedelta(minutes=self.r.closing_lead_minutes),
            closes,
            tpl,
            series=f"{key}-registration",
            round=round_number,
            phase="closing",
        )

    def exam_eves(
        self,
        key: str,
        kind: str,
        days: list[dt.date],
        round_number: int | None,
        every: bool | None = None,
    ) -> None:
        study = self.config.study
        every = self.r.exam_eve_every_day if every is None else every
        for index, day in enumerate(days if every else days[:1]):
            credit_day = day - dt.timedelta(days=study.deadline_days_before_exam)
            self.add(
                f"{key}-exam-eve-{day.isoformat()}",
                kind,
                self.at(day - dt.timedelta(days=1), self.r.evening),
                self.at(credit_day, study.deadline_time),
                "reminder_exam_eve",
                series=f"{key}-exam",
                round=round_number,
                phase="first" if index == 0 else "next",
                exam_date=day.isoformat(),
            )


def build_calendar(config: Config) -> list[Reminder]:
    """Every calendar reminder of the campaign, in firing order."""
    return _Builder(config).build()
