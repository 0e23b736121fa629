"""The data of computed answers: what the question's facts mean against config.toml.

Each function reads the question's facts and cues (``faq.reason``) and returns variables for its
entry's template (``entries.toml``), which writes the words: is a day in a window, which sessions
are at a time, is the study deadline met, do the people fit the seats, do the credits qualify,
which exam a named unit takes. ``verdict`` is "yes", "no" or None (nothing to judge) throughout.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from bot.core.config import Config
from bot.core.windows import closes_at
from faq import days, reason, schedule
from faq.facts import Facts, vocabulary
from faq.reason import lead, months_to, understand
from faq.schedule import EXAM, REGISTER, STUDY, Span
from faq.units import resolve_unit

YES, NO = "yes", "no"
MAX_COMING = 4  # windows listed after the asked day


def _verdict(ok: bool | None) -> str | None:
    return None if ok is None else (YES if ok else NO)


# --- calendar: a day against every window --------------------------------------------------


def calendar(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``day``: the day asked (None: the question names none; the template then says what is
    open now); ``target``: the window the question names ("第二次报名", "补考") as a Span;
    ``hits``: the windows of the asked kind that contain the day; ``coming``: those after it;
    ``past``: the last one before it; ``zone_day``: the zone round examining that day;
    ``edge``: "start"/"end" when a yes-or-no question asks whether the day is the window's
    first or last ("9月20号开始吧")."""
    f, cue = days.asked(question, now)
    day, ends = days.around(f, now, *days.day_asked(f, now, cue))
    if day is None:
        return {"day": None, "named": None}
    action = cue.action
    scope = cue.scope
    if scope == schedule.QUESTIONS or scope == schedule.COUNTY_PLANS:
        action = REGISTER
    if action == STUDY and scope is None:
        scope = schedule.STUDY_KEY
    kinds = schedule.of(config, action if action in (EXAM, REGISTER, STUDY) else None)
    kinds = [s for s in kinds if s.action != STUDY or scope == schedule.STUDY_KEY]
    if cue.enrol and scope is None:  # "现在能报名吗": an exam's registration, not a submission
        kinds = [s for s in kinds if s.key not in (schedule.QUESTIONS, schedule.COUNTY_PLANS)]
    target = next((s for s in kinds if scope is not None and s.key == scope), None)
    if target is None and scope is not None:
        target = next((s for s in schedule.of(config, key=scope)), None)
    if target is not None:
        day, ends = days.in_window(f, day, ends, target)
    booked = _booked(config, f)
    if booked is not None:  # "9月24日报的名 能选9月22号考吗": the round registered for
        day, ends, action, target = booked["asked"], None, EXAM, booked["exam"]
        kinds = schedule.of(config, EXAM)
    last = ends or day

    def closed(span: schedule.Span) -> bool:
        """A registration asked about today, on its last day, after the closing hour."""
        return (
            span.action == REGISTER
            and day == now.date() == span.end
            and (now >= closes_at(config, span.end))
        )

    hits = [s for s in kinds if s.start <= last and s.end >= day and not closed(s)]
    ended_today = next((s for s in kinds if closed(s)), None)  # closed an hour ago, today
    if target is not None:
        verdict = (
            target.contains(day) and (ends is None or target.contains(ends)) and not closed(target)
        )
        if target.key in (schedule.QUESTIONS, schedule.COUNTY_PLANS):
            verdict = (ends or day) <= target.end  # a deadline ("9月1日前"): any day before it
    else:
        verdict = bool(hits)
    # "第一次考试是9月20号开始吧": whether the day is the window's first (or last) day.
    edge = None
    if cue.starts != cue.ends and ends is None and f.dates and lead(f.text) is not None:
        edge = "start" if cue.starts else "end"
        named = [s for s in hits if not cue.zone or s.key.startswith("zone")]  # "分众考试…"
        if target is None and len(named) == 1:
            target = named[0]
        if target is not None:
            verdict = day == (target.start if edge == "start" else target.end)
        elif named and lead(f.text) == "be" and not cue.still:
            # "今天是报名最后一天了吧" with two registrations open: the last day of each
            verdict = all(day == (s.start if edge == "start" else s.end) for s in named)
    left = _left_today(config, day, now)
    # "今天还能考吗" after the day's last session began: no, the next exam day is the chance
    day_over = action == EXAM and cue.still and target is None and left == [] and ends is None
    if day_over:
        verdict = False
    pool = [target] if target is not None else kinds
    coming = [s for s in kinds if s.start > last]
    if target is not None and target.key == "category":
        # a category exam's units take neither of the city's exams: only the makeup is to come
        coming = [s for s in coming if s.key in ("category", "makeup")]
    coming = coming[:MAX_COMING]
    past = [s for s in pool if s.end < day]
    zone_day = schedule.zone_exam_day(config, day)
    return {
        "named": None,
        "day": day,
        "day_end": ends,
        "asked_today": day == now.date() and ends is None,  # a span from today is no "today"
        "action": action,
        "target": target,
        "edge": edge if target is not None else None,
        "edge_asked": edge is not None,  # ... of every window open that day, none named
        "hits": hits,
        "coming": coming,
        "past": past[-1] if past else None,
        "ended_today": ended_today,
        "still": cue.still,  # "补考还能考吗" in September: yes, it is still to come
        "later": cue.later,  # "以后还有冇机会": what is to come, whatever the day holds
        # "报名截止了吗" (no day named): asks whether it is over, so an open window is a no;
        # "还没截止吧" asks whether it is still open
        "asks_over": cue.ends and not f.dates and not cue.open_still,
        "target_over": target is not None and (target.end < now.date() or closed(target)),
        # "报题截止是15号，我们今天才交，还收不收": over, and asked whether it still may be done
        "late": target is not None
        and (target.end < now.date() or closed(target))
        and day == now.date()
        and (cue.still or "还" in f.text or lead(f.text) in ("can", "in_time")),
        "closing": closes_at(config, ended_today.end).time() if ended_today else None,
        "zone_day": zone_day if action != REGISTER and ends is None else None,
        "left": left,
        "day_over": day_over,
        "next_exam_day": _next_exam_day(config, day) if day_over else None,
        "verdict": _verdict(verdict),
        "lead": lead(f.text),
        "booked": booked,
    }


def _booked(config: Config, f: Facts) -> dict[str, Any] | None:
    """``day``, ``span``: the day a question says it registered on and that registration;
    ``exam``: its exam; ``asked``: the exam day asked (``days.booked``)."""
    registered = days.booked(f)
    if registered is None:
        return None
    on, asked = registered
    spans = [s for s in schedule.of(config, REGISTER) if s.contains(on)]
    exam = span_of(config, spans[0].key, EXAM) if len(spans) == 1 else None
    if exam is None:
        return None
    return {"day": on, "span": spans[0], "exam": exam, "asked": asked}


def _next_exam_day(config: Config, day: dt.date) -> dt.date | None:
    """The zone exam day after ``day``, when its round goes on the next day."""
    following = day + dt.timedelta(days=1)
    return following if schedule.zone_exam_day(config, following) is not None else None


def _left_today(config: Config, day: dt.date, now: dt.datetime) -> list[Any] | None:
    """The sessions still to start today when ``day`` is today's exam day, else None."""
    if day != now.date() or schedule.zone_exam_day(config, day) is None:
        return None
    return schedule.sessions_after(config, now.time())


# --- sessions: a time against the online sessions or the centralized slots ----------------


def sessions(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``time``/``hours``: the time or part of the day asked; ``at``: the session (or slot)
    then; ``before``/``after``: the nearest ones around it; ``in_period``: those in the part
    of the day; ``left``: those still to start today; ``day``/``exam_day``: the day asked and
    the window examining it."""
    f, cue = understand(question, now)
    day, _ = days.day_asked(f, now)
    if day is None and cue.still:
        day = now.date()
    time = f.times[0].time if f.times else None
    hours = None
    if f.periods:
        raw = vocabulary().raw["period_hours"][f.periods[0]]
        hours = (int(raw[0]), int(raw[1]))
    centralized = cue.centralized
    out: dict[str, Any] = {
        "named": None,
        "centralized": centralized,
        "cites": "centralized-slots" if centralized else None,  # its section, not the zone's
        "time": time,
        "hours": hours,
        "day": day,
        "asked_today": day == now.date(),
        "lead": lead(f.text),
        "exam_day": None,
        "left": None,
        "started": False,
        "period_over": None,
        "next_exam": None,
        "edge": None,  # the day's last or first session, when asked whether it is that one
        "edge_period": None,  # ... of that part of the day ("下午第一场")
        "asks_last": cue.last_session,
        # "四天加起来一共有多少场": every session of the window counted
        "total": cue.total and not (time or hours),
    }
    if day is not None:
        spans = (
            schedule.of(config, EXAM, schedule.CENTRALIZED)
            if centralized
            else [s for s in schedule.of(config, EXAM) if s.is_zone]
        )
        out["exam_day"] = next((s for s in spans if s.contains(day)), None)
        out["next_exam"] = next((s for s in spans if s.start > day), None)
    ok: bool | None
    if centralized:
        slot = schedule.slot_at(config, time) if time else None
        slots = schedule.slots_in(config, hours) if hours else []
        out.update(at=slot, in_period=slots, before=None, after=None)
        ok = slot is not None if time else bool(slots) if hours else None
    else:
        at = schedule.session_at(config, time) if time else None
        before, after = schedule.nearest_sessions(config, time) if time else (None, None)
        listed = schedule.sessions_in(config, hours) if hours else []
        ends = _ends(config, at.time) if at is not None else None
        out.update(at=at, in_period=listed, before=before, after=after, ends=ends)
        ok = at is not None if time else bool(listed) if hours else None
        if time is not None and cue.last_session != cue.first_session:
            # "今晚8点那场是最后一场吧": whether it is the day's last (or first) session; "下午
            # 第一场是3点半吧": the part of the day's
            pool = listed or config.online_sessions
            edge = pool[-1 if cue.last_session else 0]
            out["edge"] = edge
            out["edge_period"] = listed[0].period if listed else None
            out["ends"] = _ends(config, edge.time) if at is None else ends
            ok = at is not None and at.time == edge.time  # "上午最后一场是11点的吧": none then
        if out["asked_today"] and out["exam_day"] is not None and listed and cue.still:
            # "上午还有场吗" at 10:45: the part of today whose sessions have all started
            upcoming = [s for s in listed if s.time > now.time()]
            if not upcoming:
                out.update(in_period=[], period_over=listed[0].period)
                ok = False
        if out["asked_today"] and out["exam_day"] is not None:
            out["left"] = schedule.sessions_after(config, now.time())
            if at is not None and at.time <= now.time():
                out["started"] = True
                ok = False
            if time is None and hours is None:
                ok = bool(out["left"])
    if day is not None and out["exam_day"] is None:
        ok = False
    out["verdict"] = _verdict(ok)
    return out


def _ends(config: Config, start: dt.time) -> dt.time:
    """When an online session that starts at ``start`` ends (the exam's duration later)."""
    begun = dt.datetime.combine(dt.date.min, start)
    return (begun + dt.timedelta(minutes=config.exam.duration_minutes)).time()


# --- the study deadline ----------------------------------------------------------------------


def study_check(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``exam_day``: the exam asked about; ``deadline``: when its credits are due (21:00 the day
    before); ``done``: when the asker means to finish (a datetime, or a date alone);
    ``same_day``: they mean to finish on the exam day itself."""
    f, cue = understand(question, now)
    days = sorted({d for d in f.days})
    exam_day = days[-1] if days else None
    # "第二次考试几号前要把学分修满": no day named, the round's first exam day
    window = span_of(config, cue.scope, EXAM) if exam_day is None and cue.scope else None
    if window is not None:
        exam_day = window.start
    done: dt.datetime | dt.date | None = None
    time = f.times[-1].time if f.times else None
    if len(days) >= 2:
        first = next(s for s in f.dates if s.day == days[0])
        at = f.time_of(first) or (time if f.times and f.times[-1].at > first.at else None)
        done = dt.datetime.combine(days[0], at, config.tz) if at else days[0]
    elif f.now:
        done = now
    elif exam_day is not None and cue.day_before and time is not None:
        done = dt.datetime.combine(exam_day - dt.timedelta(days=1), time, config.tz)
    elif exam_day is not None and (cue.same_day or len(f.dates) >= 2):
        done = exam_day  # "19号考试 19号早上学完": finished on the exam day itself
    if type(done) is dt.date and done == now.date() and cue.still:
        done = now  # "明天考试今晚还能刷学分吗": from now on, today
    deadline = schedule.study_deadline(config, exam_day) if exam_day else None
    ok: bool | None = None
    if cue.same_day or (done is not None and done == exam_day):
        ok = False
    elif isinstance(done, dt.datetime) and deadline is not None:
        ok = done <= deadline
    elif isinstance(done, dt.date) and deadline is not None:
        ok = done < deadline.date() or None
    elif deadline is None and time is not None and cue.day_before:
        ok = time <= config.study.deadline_time
    return {
        "named": None,
        "exam_day": exam_day,
        "window": window,
        "deadline": deadline,
        "done": done,
        "done_at": done if isinstance(done, dt.datetime) else None,
        "late_time": time if deadline is None else None,
        "verdict": _verdict(ok),
    }


# --- counts: credits, scores, seats, units, retirement ------------------------------------


def score_check(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    f, cue = understand(question, now)
    score = None if cue.threshold else f.score  # "及格线是80分吧" states no one's score
    passed = score is not None and score >= config.exam.pass_mark
    return {
        "named": None,
        "score": score,
        "verdict": None if score is None else _verdict(passed),
        "impossible": score is not None and score > config.exam.full_marks,
        "makeup": cue.makeup,  # "考了58分要补考吗": a fail is a yes
    }


def credits_check(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``required``/``total``: the credits stated (a total from its parts when only they are);
    ``required_ok``/``total_ok``: True, False, or None when not stated."""
    f, cue = understand(question, now)
    study = config.study
    total = f.total
    if total is None and f.required is not None and f.elective is not None:
        total = f.required + f.elective
    required_ok = True if f.required_complete else None
    if f.required is not None:
        required_ok = f.required >= study.required_credits
    total_ok = None if total is None else total >= study.total_credits
    if required_ok is False or total_ok is False:
        verdict: str | None = NO
    elif required_ok and total_ok:
        verdict = YES
    else:
        verdict = None
    return {
        "named": None,
        "required": f.required,
        "total": total,
        "required_ok": required_ok,
        "total_ok": total_ok,
        "verdict": verdict,
        "remedy": cue.remedy,  # "总学分90分要补学吗": too few is its yes
    }


def seats_check(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``people``: the fewest the count means; ``about``/``more``: as written ("一百多")."""
    f, cue = understand(question, now)
    capacity = config.centralized.capacity_per_slot
    people = f.people
    if people is None:
        return {"named": None, "people": None, "verdict": None}
    return {
        "named": None,
        "remedy": cue.remedy,  # "100人要分批吗": too many is its yes
        "people": people,
        "about": f.people_about,
        "more": people != f.people_about,
        "batches": max(1, math.ceil(people / capacity)),
        "verdict": _verdict(people <= capacity),
    }


def county_units_check(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    f, _ = understand(question, now)
    units = f.units
    least = config.county_plans.min_units
    return {
        "named": None,
        "units": units,
        "short": max(0, least - units) if units is not None else None,
        "verdict": None if units is None else _verdict(units >= least),
    }


def retirement_check(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``retires``: the retirement day (or month) stated; ``limit``: the last day a retirement
    may fall on for the exemption (the cutoff plus the years the notice allows)."""
    f, cue = understand(question, now)
    ex = config.exemption
    cutoff = ex.retirement_cutoff
    limit = cutoff.replace(year=cutoff.year + ex.retirement_within_years)
    stamp = next((s for s in f.dates if s.day is not None), None)
    months = months_to(f.text)
    if cue.reckon:
        # "距退休2年是按12月31号来算的吧": the day the rule reckons from, no retirement
        return {"named": None, "retires": None, "verdict": None}
    if stamp is not None and stamp.day is not None:
        retires, month_only = stamp.day, stamp.month_only
    elif months is not None:  # "离退休还有两年半": counted from the day asked
        total = now.month - 1 + months
        retires = dt.date(now.year + total // 12, total % 12 + 1, 1)
        month_only = True
    else:
        return {"named": None, "retires": None, "verdict": None}
    return {
        "named": None,
        "retires": retires,
        "month_only": month_only,
        "about": stamp is None or stamp.day is None,  # counted from a wait, to the month
        "limit": limit,
        "verdict": _verdict(retires <= limit),
        # "还要学习考试吗" asks whether he must still take part: the exemption's yes is a no
        "obliged": lead(f.text) == "need" and not cue.exemption,
    }


# --- units: which exam a named unit takes -------------------------------------------------


def unit_exam(config: Config, question: str, now: dt.datetime) -> dict[str, Any]:
    """``dept``/``member``: as ``category_department`` (the rows named or the unit's row);
    ``unit``: the unit as written; ``level``; ``covered``: whether the row's exam covers the
    unit's level (None: the level is not said); ``qdept``: its question-bank duty."""
    f, cue = understand(question, now)
    hit = resolve_unit(config, f.text)
    covered = None
    if hit.dept is not None and hit.level is not None:
        covered = hit.dept.covers(hit.level)
    elif hit.dept is not None and hit.dept.county:
        covered = True
    unit = hit.mention
    if hit.explicit and hit.member is None and unit is not None and hit.dept is not None:
        unit = None if hit.dept.name in unit else unit
    return {
        "named": hit.member or (hit.dept if hit.explicit else None),
        "dept": hit.dept,
        "member": hit.member,
        "explicit": hit.explicit and unit is None,
        "unit": unit,
        "level": hit.level,
        "covered": covered,
        "qdept": hit.qdept,
        "lead": lead(f.text),
        "asks_centralized": cue.centralized,
        # "县法院要参加分众考吗": the question names the city's exam as the one it takes.
        # "…不在分类名单里，那就是参加分众了啵": both named, the one named last is claimed
        "asks_zone": cue.zone
        and (not cue.category or reason.named_last(f.text, "zone", "category")),
    }


def span_of(config: Config, key: str, action: str) -> Span | None:
    return next(iter(schedule.of(config, action, key)), None)
