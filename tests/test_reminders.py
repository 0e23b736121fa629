"""Reminders: the calendar from config, sent on time by the moved clock, exactly once (restarts,
two instances, retries), with who still owes what; the commands, the sandbox and the CLI."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import logging
import os
import subprocess
import sys
import threading
import urllib.parse
from collections import Counter
from pathlib import Path

import httpx
import pytest
import time_machine
from sqlmodel import func, select
from telegram import Update
from telegram.request import HTTPXRequest

from bot.app import build_application
from bot.context import create_context
from bot.core.audit import AuditLog
from bot.core.render import strip_html
from bot.core.uow import Origin
from bot.org import admins
from bot.org.models import Administrator
from bot.registration.models import CountyPlan, Registration, SeatBooking, SeatSlot
from bot.sandbox.offline import OfflineRequest
from bot.sandbox.runner import SANDBOX_TOKEN
from harness.fakeapi import FakeBotAPI
from reminders import custom, groups, messages, scheduler, sending, sendlog, store, transport
from reminders.calendar import build_calendar
from reminders.models import LiaisonGroup, ReminderSend, SendStatus, StoredReminder
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
GROUP = -1001555000001
MINUTE = dt.timedelta(minutes=1)
SYSTEM = Origin.system("test")
CITY = Origin.telegram(None, 9001)  # the city office's administrator, once bound


def with_changes(config, **sections):
    """A copy of the config with some fields of some tables replaced."""
    return config.model_copy(
        update={
            name: getattr(config, name).model_copy(update=fields)
            for name, fields in sections.items()
        }
    )


@pytest.fixture
def rctx(config, sqlite_url, clock):
    """The context with one liaison group configured."""
    context = create_context(
        with_changes(config, telegram={"group_chat_ids": [GROUP]}),
        db_url=sqlite_url,
        clock=clock,
        migrate=False,
    )
    context.run_sync(store.sync_calendar, SYSTEM)
    yield context
    context.db.dispose()


def offline_app(ctx):
    """The Application on an offline Telegram whose request tells when it is written (as the
    bot's own does); the offline request's calls are what Telegram received."""
    request = OfflineRequest()
    watched = transport.watched(request)
    app = build_application(ctx, SANDBOX_TOKEN, request=watched, rate_limit=False, set_menus=False)
    return app, request


def sent(request: OfflineRequest, since: int = 0) -> list[tuple[int, str]]:
    return [
        (int(c.params["chat_id"]), strip_html(str(c.params["text"])))
        for c in request.calls[since:]
        if c.method == "sendMessage"
    ]


def rows(ctx, reminder_id: str | None = None) -> list[ReminderSend]:
    with ctx.db.session() as s:
        query = select(ReminderSend)
        if reminder_id:
            query = query.where(ReminderSend.reminder_id == reminder_id)
        return list(s.exec(query))


def count(ctx, model) -> int:
    with ctx.db.session() as s:
        return s.exec(select(func.count()).select_from(model)).one()


def at(ctx, text: str) -> dt.datetime:
    return ctx.clock.localize(dt.datetime.fromisoformat(text))


def admin_of(ctx, code: str, role: str) -> int:
    with ctx.db.session() as s:
        unit = admins.find_unit(s, code)
        admin = Administrator(unit_id=unit.id, role=role, name=unit.name, created_at=ctx.now())
        s.add(admin)
        s.flush()
        return admin.id


def world(ctx) -> bool:
    """Counties, units and what some of them have already done. True when a question-bank
    submission could be stored too."""
    factories.tree(ctx)  # 耒阳市 (county) → 耒阳市教育局 → 耒阳一中; 衡东县 (county)
    factories.unit(ctx, "SW", "市税务局")  # takes the provincial category exam
    with ctx.db.session() as s:
        unit = admins.find_unit(s, "SW")
        unit.category_department = "省税务局"
        s.add(unit)
    now = ctx.now()
    with ctx.db.session() as s:
        find = admins.find_unit
        ly, sub, sfj, archive = (find(s, c) for c in ("LY", "LY-JY-1", "市司法局", "市档案馆"))
    ly_admin = admin_of(ctx, "LY", "county")
    sub_admin = admin_of(ctx, "LY-JY-1", "unit")
    sfj_admin = admin_of(ctx, "市司法局", "unit")
    archive_admin = admin_of(ctx, "市档案馆", "unit")
    with ctx.db.session() as s:
        s.add(
            CountyPlan(
                unit_id=ly.id, unit_count=5, dates="9月20日", admin_id=ly_admin, submitted_at=now
            )
        )
        for unit, admin in (
            (sub, sub_admin),
            (sfj, sfj_admin),
        ):  # a sub-unit registers for its unit
            s.add(
                Registration(
                    unit_id=unit.id,
                    round_key="zone1",
                    exam_date=dt.date(2022, 9, 20),
                    session_time="09:00",
                    learner_count=10,
                    admin_id=admin,
                    created_at=now,
                    updated_at=now,
                )
            )
        slot = s.exec(select(SeatSlot)).first()
        if slot is None:
            slot = SeatSlot(exam_date=dt.date(2022, 9, 19), slot_index=0, capacity=80)
            s.add(slot)
            s.flush()
        s.add(
            SeatBooking(
                slot_id=slot.id,
                unit_id=archive.id,
                seats=20,
                admin_id=archive_admin,
                created_at=now,
            )
        )
    try:
        from bot.bank.models import QuestionSubmission
    except ImportError:
        return False
    with ctx.db.session() as s:
        s.add(
            QuestionSubmission(
                unit_id=sfj.id,
                department="市司法局",
                file_name="q.xlsx",
                sha256="0" * 64,
                single_count=20,
                multiple_count=10,
                content="[]",
                admin_id=sfj_admin,
                submitted_at=now,
            )
        )
    return True


def owing_line(text: str) -> str:
    return next((line for line in text.splitlines() if line.startswith("尚未")), "")


# --- the calendar ----------------------------------------------------------------------------------


def test_calendar_comes_from_config_with_stable_ids(config):
    items = {r.id: r for r in build_calendar(config)}
    tz = config.tz
    expect = {
        "study-start": dt.datetime(2022, 6, 1, 9, 0, tzinfo=tz),
        "question-bank-d7": dt.datetime(2022, 6, 8, 9, 0, tzinfo=tz),
        "question-bank-d2": dt.datetime(2022, 6, 13, 9, 0, tzinfo=tz),
        "question-bank-d0": dt.datetime(2022, 6, 15, 9, 0, tzinfo=tz),
        "county-plan-d0": dt.datetime(2022, 9, 1, 9, 0, tzinfo=tz),
        "category-exam-start": dt.datetime(2022, 7, 1, 9, 0, tzinfo=tz),
        "zone1-registration-open": dt.datetime(2022, 9, 13, 9, 0, tzinfo=tz),
        "zone1-registration-last": dt.datetime(2022, 9, 16, 9, 0, tzinfo=tz),
        "zone1-registration-closing": dt.datetime(2022, 9, 16, 17, 0, tzinfo=tz),
        "zone1-exam-eve-2022-09-19": dt.datetime(2022, 9, 18, 18, 0, tzinfo=tz),
        "zone2-registration-open": dt.datetime(2022, 9, 23, 9, 0, tzinfo=tz),
        "centralized-preregistration-open": dt.datetime(2022, 9, 13, 9, 0, tzinfo=tz),
        "centralized-exam-eve": dt.datetime(2022, 9, 18, 18, 0, tzinfo=tz),
        "makeup-registration-open": dt.datetime(2022, 10, 25, 9, 0, tzinfo=tz),
        "makeup-registration-closing": dt.datetime(2022, 10, 26, 17, 0, tzinfo=tz),
        "makeup-exam-eve-2022-10-27": dt.datetime(2022, 10, 26, 18, 0, tzinfo=tz),
        "makeup-exam-last": dt.datetime(2022, 10, 31, 9, 0, tzinfo=tz),
    }
    for rid, when in expect.items():
        assert items[rid].fire_at == when, rid
    # The exam-eve reminders are worth sending until the study-credit deadline, 21:00 that day.
    assert items["zone1-exam-eve-2022-09-19"].deadline == dt.datetime(2022, 9, 18, 21, 0, tzinfo=tz)
    assert len([r for r in items.values() if r.kind == "exam_eve"]) == 8
    assert all(r.fire_at < r.deadline for r in items.values())
    assert [r.id for r in build_calendar(config)] == list(items)  # the same ids, every time
    # Lead times and quiet hours are config: a deadline at 08:00 puts the "an hour before close"
    # reminder out of the night, at the end of the quiet hours.
    early = with_changes(config, reminders={"day_deadline": dt.time(8, 0)})
    moved = {r.id: r for r in build_calendar(early)}
    assert moved["zone1-registration-closing"].fire_at == dt.datetime(2022, 9, 16, 7, 30, tzinfo=tz)
    lead = with_changes(config, reminders={"deadline_lead_days": [3, 0]})
    ids = [r.id for r in build_calendar(lead) if r.kind == "question_bank"]
    assert ids == ["question-bank-d3", "question-bank-d0"]


def test_sync_moves_changed_reminders_and_keeps_custom_and_paused(rctx, clock):
    factories.bind(rctx, "city", "city", 9001)
    request = custom.CustomRequest(at(rctx, "2022-09-20 10:00"), "自定义")
    rctx.run_sync(lambda uow: custom.add_custom(uow, request), CITY)
    pause = custom.PauseRequest("zone1-registration-last", True)
    rctx.run_sync(lambda uow: custom.set_paused(uow, pause), CITY)
    later = with_changes(rctx.config, reminders={"morning": dt.time(8, 30)})
    later_ctx = create_context(later, db_url=rctx.db.url, clock=clock, migrate=False)
    report = later_ctx.run_sync(store.sync_calendar, SYSTEM)
    assert "zone1-registration-open" in report.moved and not report.added
    with later_ctx.unit_of_work(SYSTEM) as uow:
        row = store.load(uow, "zone1-registration-open")
        assert row.fire_at == at(rctx, "2022-09-13 08:30")
        assert store.load(uow, "zone1-registration-last").paused
        assert store.load(uow, "custom-1").text == "自定义"
    # nothing changed: nothing written
    assert not later_ctx.run_sync(store.sync_calendar, SYSTEM).changed
    later_ctx.db.dispose()


# --- firing at the right time with the right names -----------------------------------------------


async def test_each_kind_fires_at_its_time_with_the_right_text_and_names(rctx, clock):
    submitted = world(rctx)
    factories.bind(rctx, "city", "city", 9001)
    request = custom.CustomRequest(at(rctx, "2022-09-20 10:00"), "请核对<b>名单</b>")
    rctx.run_sync(lambda uow: custom.add_custom(uow, request), CITY)
    clock.freeze(at(rctx, "2022-01-01 00:00"))
    with rctx.unit_of_work(SYSTEM) as uow:
        calendar = [(r.id, r.fire_at, r.kind) for r in store.upcoming(uow)]
    app, request = offline_app(rctx)
    texts: dict[str, str] = {}
    kind_of = {rid: kind for rid, _, kind in calendar}
    kinds = set()
    async with app:
        for rid, fire_at, _kind in calendar:
            clock.freeze(fire_at - MINUTE)
            outcomes = await scheduler.run_due(app)
            assert rid not in {o.reminder_id for o in outcomes}, f"{rid} fired early"
            clock.freeze(fire_at)
            outcomes = await scheduler.run_due(app)
            mine = [o for o in outcomes if o.reminder_id == rid]
            if rid in texts:  # fired with an earlier one at the same moment
                assert not mine
                continue
            assert [(o.chat_id, o.status) for o in mine] == [(GROUP, "sent")], rid
            for other in outcomes:
                texts.setdefault(other.reminder_id, strip_html(other.text))
                kinds.add(kind_of[other.reminder_id])
    assert kinds == {
        "study_start", "question_bank", "county_plan", "category_exam", "registration",
        "exam_eve", "centralized_preregistration", "centralized_exam", "makeup_registration",
        "makeup_exam", "makeup_list", "custom",
    }  # fmt: skip
    # Every reminder went out exactly once, to the group.
    messages = sent(request)
    assert len(messages) == len(calendar) == len(set(messages))
    assert all(chat == GROUP for chat, _ in messages)

    assert "在线学法今天开始" in texts["study-start"] and "21:00" in texts["study-start"]
    qb = texts["question-bank-d7"]
    assert "还有7天" in qb and "30道（20道单选、10道多选）" in qb
    assert "市委宣传部" in owing_line(qb)
    assert ("市司法局" in qb) is not submitted  # named only while it has not submitted
    assert "今天（6月15日）是试题报送截止日" in texts["question-bank-d0"]
    assert "7月1日至8月31日" in texts["category-exam-start"]
    county = owing_line(texts["county-plan-d2"])
    assert "衡东县" in county and "耒阳市" not in county and "（1家）" in county
    opening = texts["zone1-registration-open"]
    assert "9月13日至16日" in opening and "9月19日至22日" in opening and "尚未" not in opening
    for rid in ("zone1-registration-last", "zone1-registration-closing"):
        names = owing_line(texts[rid])
        assert "市委宣传部" in names
        # registered (itself, or through its sub-unit), centralized, category: not named
        for absent in ("市司法局", "耒阳市教育局", "市档案馆", "市税务局"):
            assert absent not in names, (rid, absent)
    assert "今天（9月16日）截止" in texts["zone1-registration-closing"]
    assert "市司法局" in owing_line(texts["zone2-registration-last"])  # zone1 is not zone2
    eve = texts["zone1-exam-eve-2022-09-19"]
    assert "明天（9月19日）开始" in eve and "今天（9月18日）21:00前修满学分" in eve
    assert "明天（9月21日）" in texts["zone1-exam-eve-2022-09-21"]
    cen = owing_line(texts["centralized-preregistration-last"])
    assert "市委统战部" in cen and "市档案馆" not in cen
    assert rctx.config.centralized.address in texts["centralized-exam-eve"]
    mk = texts["makeup-registration-open"]
    assert "10月25日至26日" in mk and "10月27日至31日" in mk
    assert "补考工作结束后不再进行在线考试" in texts["makeup-exam-last"]
    assert "请核对<b>名单</b>" in texts["custom-1"]  # the tags were escaped, shown as typed
    html = next(c for c in request.calls if "名单" in str(c.params.get("text")))
    assert "&lt;b&gt;" in html.params["text"]


async def test_private_targets_reach_bound_administrators_of_units_that_owe(rctx, clock):
    ctx = create_context(
        with_changes(rctx.config, reminders={"private_targets": True}),
        db_url=rctx.db.url,
        clock=clock,
        migrate=False,
    )
    factories.bind(ctx, "市委宣传部", "unit", 5001)
    factories.bind(ctx, "市档案馆", "unit", 5002)  # centralized: not in the zone round's list
    app, request = offline_app(ctx)
    clock.freeze(at(ctx, "2022-09-16 09:00"))
    async with app:
        await scheduler.run_due(app)
    by_chat = Counter(chat for chat, _ in sent(request))
    private = [text for chat, text in sent(request) if chat == 5001]
    assert any("市委宣传部" in t and "第一次分众组考报名最后一天" in t for t in private)
    assert by_chat[5002] == 1  # the centralized reminder names 市档案馆, the zone one does not
    assert by_chat[GROUP] == 2  # both "last" ones: each is the newest of its series
    ctx.db.dispose()


def register(ctx, code: str, round_key: str, exam_date: dt.date) -> None:
    """An active registration of the unit ``code`` for a round, made at the clock's now."""
    admin = admin_of(ctx, code, "unit")
    now = ctx.now()
    with ctx.db.session() as s:
        s.add(
            Registration(
                unit_id=admins.find_unit(s, code).id,
                round_key=round_key,
                exam_date=exam_date,
                session_time="09:00",
                learner_count=10,
                admin_id=admin,
                created_at=now,
                updated_at=now,
            )
        )


async def test_moving_the_clock_moves_the_owing_list(rctx, clock):
    """Who still owes is looked up at the injected clock's moment, never at the wall clock's
    (here years past the campaign): the morning's list names a unit, the evening's no longer
    does once it has registered in between."""
    with time_machine.travel(dt.datetime(2031, 3, 1, 12, 0, tzinfo=rctx.config.tz)):
        clock.freeze(at(rctx, "2022-09-16 09:00"))
        with rctx.unit_of_work(SYSTEM) as uow:
            last = messages.compose(uow, store.load(uow, "zone1-registration-last"))
        assert last.owing.as_of == at(rctx, "2022-09-16 09:00")
        assert "市委宣传部" in owing_line(strip_html(last.text))
        clock.freeze(at(rctx, "2022-09-16 09:30"))
        register(rctx, "市委宣传部", "zone1", dt.date(2022, 9, 20))
        clock.freeze(at(rctx, "2022-09-16 17:00"))
        app, _ = offline_app(rctx)
        async with app:
            outcomes = await scheduler.run_due(app)
    closing = next(o for o in outcomes if o.reminder_id == "zone1-registration-closing")
    names = owing_line(strip_html(closing.text))
    assert names and "市委宣传部" not in names


# --- exactly once --------------------------------------------------------------------------------


async def test_restart_between_schedule_and_fire_time_sends_once(rctx, clock):
    clock.freeze(at(rctx, "2022-09-12 08:00"))
    app1, request1 = offline_app(rctx)
    ctx2 = create_context(rctx.config, db_url=rctx.db.url, clock=clock, migrate=False)
    app2, request2 = offline_app(ctx2)
    async with app1, app2:
        await scheduler.start(app1)
        sched = scheduler.scheduler_of(app1)
        jobs = [j.id for j in sched.get_jobs()]
        assert jobs.count("reminder:zone1-registration-open") == 1
        job = sched.get_job("reminder:zone1-registration-open")
        assert job.misfire_grace_time == rctx.config.reminders.misfire_grace_seconds
        assert job.coalesce is True
        await scheduler.start(app1)  # a second start duplicates nothing
        assert len(sched.get_jobs()) == len(jobs)
        await scheduler.stop(app1)
        assert not sent(request1)
        # Down over the fire time; a new process over the same database starts after it.
        clock.freeze(at(rctx, "2022-09-13 09:30"))
        await scheduler.start(app2)  # its first sweep catches up at once
        await scheduler.run_due(app2)
        await scheduler.run_due(app1)  # the old instance, had it still been running
        await scheduler.stop(app2)
    texts = [t for _, t in sent(request1) + sent(request2)]
    assert sum("第一次分众组考报名今天开始" in t for t in texts) == 1
    assert sum("集中考试预报名】今天开始" in t for t in texts) == 1
    assert [r.status for r in rows(rctx, "zone1-registration-open")] == ["sent"]
    ctx2.db.dispose()


def test_two_schedulers_on_one_database_send_once(any_ctx, clock, config):
    groups = [-1001000000101 - i for i in range(6)]
    # Five reminders due, deadlines not passed: the newest of each of their two series is sent.
    clock.freeze(at(any_ctx, "2022-09-16 17:30"))
    any_ctx.run_sync(store.sync_calendar, SYSTEM)
    other = create_context(config, db_url=any_ctx.db.url, clock=clock, migrate=False)
    apps = [offline_app(any_ctx), offline_app(other)]
    barrier = threading.Barrier(len(apps))
    errors: list[BaseException] = []

    def instance(app) -> None:
        async def go() -> None:
            async with app:
                barrier.wait()
                await scheduler.run_due(app, group_ids=groups)

        try:
            asyncio.run(go())
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=instance, args=(app,)) for app, _ in apps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    messages = [m for _, request in apps for m in sent(request)]
    assert len(messages) == 2 * len(groups) == len(set(messages))
    done = Counter(r.status for r in rows(any_ctx))  # the earlier ones: skipped, also once
    assert done["sent"] == 2 * len(groups) and set(done) == {"sent", "skipped"}
    other.db.dispose()


async def test_deadline_passed_during_downtime_is_skipped_and_logged(rctx, clock, caplog):
    app, request = offline_app(rctx)
    clock.freeze(at(rctx, "2022-09-17 08:00"))
    with caplog.at_level(logging.INFO, logger="reminders"):
        async with app:
            assert await scheduler.run_due(app) == []
            assert await scheduler.run_due(app) == []
    assert not sent(request)
    skipped = rows(rctx, "zone1-registration-closing")
    assert [(r.status, r.chat_id) for r in skipped] == [("skipped", GROUP)]
    logged = [r for r in caplog.records if "zone1-registration-closing skipped" in r.getMessage()]
    assert len(logged) == 1


async def test_missed_during_downtime_the_newest_of_each_series_is_sent_once(rctx, clock):
    """Down from before the first registration reminder until 17:59 on the last day: of the
    zone round's opening, last day and closing reminders only the closing one is sent, of the
    centralized pre-registration only the last day; the older ones are recorded as skipped
    ("superseded") and never sent later."""
    app, request = offline_app(rctx)
    clock.freeze(at(rctx, "2022-09-16 17:59"))
    async with app:
        outcomes = await scheduler.run_due(app)
        again = await scheduler.run_due(app)
    ids = sorted(o.reminder_id for o in outcomes)
    assert ids == ["centralized-preregistration-last", "zone1-registration-closing"]
    assert again == [] and len(sent(request)) == len(ids)
    texts = " ".join(text for _, text in sent(request))
    assert "今天开始" not in texts and "是第一次分众组考报名最后一天" not in texts
    for rid in ("zone1-registration-open", "zone1-registration-last"):
        (row,) = rows(rctx, rid)
        assert row.status == "skipped" and "superseded by zone1-registration-closing" in row.error


async def test_a_late_reminder_is_worded_for_the_moment_it_is_sent(rctx, clock):
    """Sent a day late, an opening reminder says the window opened on its first day, not
    "今天开始"; a countdown counts from the day it is sent (the two-day reminder of the 6/15
    deadline, sent on 6/14, says one day)."""
    app, _ = offline_app(rctx)
    async with app:
        clock.freeze(at(rctx, "2022-06-14 08:00"))
        bank = await scheduler.run_due(app)
        clock.freeze(at(rctx, "2022-09-14 10:00"))
        opening = await scheduler.run_due(app)
    assert [o.reminder_id for o in bank] == ["question-bank-d2"]  # d7 is older in its series
    assert "还有1天" in strip_html(bank[0].text)
    texts = {o.reminder_id: strip_html(o.text) for o in opening}
    assert set(texts) == {"zone1-registration-open", "centralized-preregistration-open"}
    assert "第一次分众组考报名已于9月13日开始" in texts["zone1-registration-open"]
    assert "【集中考试预报名】已于9月13日开始" in texts["centralized-preregistration-open"]
    assert not any("今天开始" in t for t in texts.values())


def test_countdowns_and_days_count_from_the_day_of_sending(rctx, clock):
    """The day arithmetic of every reminder, on the boundary days, in the campaign's timezone
    (07:30 in Shanghai is still the day before in UTC)."""

    def text(rid: str, moment: str) -> str:
        clock.freeze(at(rctx, moment))
        with rctx.unit_of_work(SYSTEM) as uow:
            return strip_html(messages.compose(uow, store.load(uow, rid)).text)

    assert "还有2天" in text("question-bank-d2", "2022-06-13 09:00")
    assert "还有2天" in text("question-bank-d2", "2022-06-13 21:59")
    for moment in ("2022-06-14 00:00", "2022-06-14 07:30", "2022-06-14 21:59"):
        assert "还有1天" in text("question-bank-d2", moment), moment
    assert "今天（6月15日）是试题报送截止日" in text("question-bank-d2", "2022-06-15 07:30")
    assert "还有6天" in text("question-bank-d7", "2022-06-09 07:30")
    assert "还有1天截止报送" in text("county-plan-d2", "2022-08-31 07:30")
    assert "今天（9月1日）是县市区集中组考安排报送截止日" in text(
        "county-plan-d2", "2022-09-01 07:30"
    )
    # The centralized exam's eve, sent the evening before, or (missed) on the exam morning.
    assert "集中考试明天（9月19日）开始" in text("centralized-exam-eve", "2022-09-18 18:00")
    assert "集中考试今天（9月19日）开始" in text("centralized-exam-eve", "2022-09-19 07:30")
    eve = text("zone1-exam-eve-2022-09-19", "2022-09-18 18:00")
    assert "明天（9月19日）开始" in eve and "今天（9月18日）21:00前修满学分" in eve
    assert "第一次分众组考报名今天开始" in text("zone1-registration-open", "2022-09-13 09:00")
    assert "第一次分众组考报名已于9月13日开始" in text(
        "zone1-registration-open", "2022-09-14 07:30"
    )


async def test_quiet_hours_hold_sends_until_morning(rctx, clock):
    app, _ = offline_app(rctx)
    async with app:
        clock.freeze(at(rctx, "2022-09-12 23:00"))
        custom = StoredReminder(
            id="custom-9",
            kind="custom",
            source="custom",
            fire_at=at(rctx, "2022-09-12 22:30"),
            deadline=at(rctx, "2022-09-13 12:00"),
            template="reminder_custom",
            text="夜里到期",
            created_at=clock.now(),
            updated_at=clock.now(),
        )
        with rctx.db.session() as s:
            s.add(custom)
        assert await scheduler.run_due(app) == []
        clock.freeze(at(rctx, "2022-09-13 07:30"))
        assert [o.reminder_id for o in await scheduler.run_due(app)] == ["custom-9"]


async def test_paused_reminder_is_held_and_resumed(rctx, clock):
    factories.bind(rctx, "city", "city", 9001)
    app, request = offline_app(rctx)
    pause = custom.PauseRequest("zone1-registration-open", True)
    rctx.run_sync(lambda uow: custom.set_paused(uow, pause), CITY)
    async with app:
        clock.freeze(at(rctx, "2022-09-13 09:00"))
        assert [o.reminder_id for o in await scheduler.run_due(app)] == [
            "centralized-preregistration-open"
        ]
        resume = custom.PauseRequest("zone1-registration-open", False)
        rctx.run_sync(lambda uow: custom.set_paused(uow, resume), CITY)
        assert [o.reminder_id for o in await scheduler.run_due(app)] == ["zone1-registration-open"]
    assert len(sent(request)) == 2


async def test_interrupted_claims_are_reported_not_resent(rctx, clock, caplog):
    clock.freeze(at(rctx, "2022-09-13 09:00"))  # claimed then, never finished
    with rctx.unit_of_work(SYSTEM) as uow:
        row = store.load(uow, "zone1-registration-open")
        claimed = sendlog.claim(uow, sendlog.Delivery(row.id, GROUP, row.fire_at, ""))
        assert sendlog.mark_written(uow, claimed.send_id)  # its request was written
    clock.freeze(at(rctx, "2022-09-13 10:00"))
    app, request = offline_app(rctx)
    with caplog.at_level(logging.ERROR, logger="reminders"):
        async with app:
            await scheduler.start(app)
            await scheduler.run_due(app)
            await scheduler.stop(app)
    assert [r.status for r in rows(rctx, "zone1-registration-open")] == ["failed"]
    assert any("never finished" in r.getMessage() for r in caplog.records)
    assert not any("第一次分众组考报名今天开始" in t for _, t in sent(request))


# --- Telegram's limits and failures (a real HTTP fake Bot API) ----------------------------------


async def test_flood_wait_and_network_errors_are_retried_and_failures_recorded(rctx, clock, caplog):
    ctx = create_context(
        with_changes(rctx.config, reminders={"retry_backoff_seconds": 0.05}),
        db_url=rctx.db.url,
        clock=clock,
        migrate=False,
    )
    blocked = 777001
    with FakeBotAPI() as api:
        app = build_application(ctx, api.token, base_url=api.base_url, set_menus=False)
        async with app:
            # 429 with retry_after=1: AIORateLimiter (max_retries on) waits and sends again.
            api.fail_next("sendMessage", status=429, retry_after=1)
            clock.freeze(at(ctx, "2022-09-13 09:01"))
            first = await scheduler.run_due(app)
            # a 502 (NetworkError) is retried with backoff
            api.fail_next("sendMessage", status=502)
            clock.freeze(at(ctx, "2022-09-16 09:01"))
            second = await scheduler.run_due(app)
            # a chat that blocked the bot: final failures, recorded and logged, not retried
            api.fail_next("sendMessage", status=403, times=2)
            clock.freeze(at(ctx, "2022-09-16 17:01"))
            with caplog.at_level(logging.ERROR, logger="reminders"):
                third = await scheduler.run_due(app, group_ids=[blocked])
    assert [o.status for o in first + second] == ["sent"] * 4
    failed = [c for c in api.calls_of("sendMessage") if c.failed]
    assert sorted(c.status for c in failed) == [403] * 2 + [429, 502]
    texts = api.sent_texts(chat_id=GROUP)
    assert len(texts) == 4 == len(set(texts))
    assert sum("第一次分众组考报名今天开始" in t for t in texts) == 1
    by_id = {r.reminder_id: r for r in rows(ctx) if r.chat_id == GROUP}
    assert by_id["zone1-registration-open"].status == SendStatus.SENT
    assert max(r.attempts for r in by_id.values()) == 2  # the 502 one
    # The newest of each series (closing, centralized last day), each tried once: 403 is final.
    assert [o.status for o in third] == ["failed"] * 2
    (row,) = rows(ctx, "zone1-registration-closing")
    assert row.chat_id == blocked and row.status == "failed" and "Forbidden" in row.error
    assert any("FAILED" in r.getMessage() for r in caplog.records)
    ctx.db.dispose()


def scripted_request(script: dict[int, list]) -> tuple[HTTPXRequest, list[tuple[int, str]]]:
    """PTB's real HTTPXRequest (so its own wrapping of httpx errors) over an httpx transport
    that plays ``script``: per chat, what its sendMessage calls meet in turn (an httpx
    exception, an HTTP error status), then normal answers. Returns the request and the calls
    seen (chat, what it met)."""
    seen: list[tuple[int, str]] = []
    ids = itertools.count(1)

    def answer(request: httpx.Request) -> httpx.Response:
        method = request.url.path.rsplit("/", 1)[-1]
        if method == "getMe":
            me = {"id": 1, "is_bot": True, "first_name": "bot", "username": "bot"}
            return httpx.Response(200, json={"ok": True, "result": me})
        params = dict(urllib.parse.parse_qsl(request.content.decode()))
        chat = int(params["chat_id"])
        queue = script.get(chat, [])
        step = queue.pop(0) if queue else "ok"
        seen.append((chat, step if isinstance(step, str | int) else step.__name__))
        if isinstance(step, type):
            raise step("scripted", request=request)
        if isinstance(step, int):
            body = {"ok": False, "error_code": step, "description": "Service Unavailable"}
            return httpx.Response(step, json=body)
        chat_json = {"id": chat, "type": "supergroup", "title": "g"}
        message = {"message_id": next(ids), "date": 0, "chat": chat_json, "text": params["text"]}
        return httpx.Response(200, json={"ok": True, "result": message})

    mock = httpx.MockTransport(answer)
    return HTTPXRequest(httpx_kwargs={"transport": mock}), seen


async def test_only_failures_before_the_request_was_written_are_retried(rctx, clock):
    """A refused connection, a connect or pool timeout and a 5xx answer certainly did not
    deliver: retried. A connection dropped after the request was written (RemoteProtocolError),
    a read or write timeout, a reset while reading: the message may be in the group already,
    so it is not sent again — recorded as failed, "may have been sent", and the next reminder
    to that chat goes out as usual."""
    ctx = create_context(
        with_changes(rctx.config, reminders={"retry_backoff_seconds": 0.01}),
        db_url=rctx.db.url,
        clock=clock,
        migrate=False,
    )
    meets = {
        "before": [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout],
        "answered": [503],
        "dropped": [httpx.RemoteProtocolError],
        "read_timeout": [httpx.ReadTimeout],
        "write_timeout": [httpx.WriteTimeout],
        "reset": [httpx.ReadError],
    }
    chat = {name: -1001777000001 - i for i, name in enumerate(meets)}
    request, seen = scripted_request({chat[name]: steps for name, steps in meets.items()})
    app = build_application(
        ctx, "1:x", request=transport.watched(request), rate_limit=False, set_menus=False
    )
    clock.freeze(at(ctx, "2022-09-13 09:01"))  # two reminders due, to each chat
    async with app:
        await scheduler.run_due(app, group_ids=list(chat.values()))
    calls = Counter(c for c, _ in seen)
    due = [r for r in rows(ctx) if r.status != "skipped"]  # the older ones: past their deadline
    by_chat = {name: sorted((r.status, r.attempts) for r in due if r.chat_id == chat[name])
               for name in meets}  # fmt: skip
    assert calls[chat["before"]] == 5 and by_chat["before"] == [("sent", 1), ("sent", 4)]
    assert calls[chat["answered"]] == 3 and by_chat["answered"] == [("sent", 1), ("sent", 2)]
    for name in ("dropped", "read_timeout", "write_timeout", "reset"):
        assert calls[chat[name]] == 2, name  # each reminder once: the first is not repeated
        assert by_chat[name] == [("failed", 1), ("sent", 1)], name
        (failed,) = [r for r in due if r.chat_id == chat[name] and r.status == "failed"]
        assert "may have been sent" in failed.error and failed.written_at is not None, name
    assert all(r.written_at is not None for r in due if r.status == "sent")
    ctx.db.dispose()


async def test_claims_never_written_are_sent_after_a_restart_written_ones_are_not(
    rctx, clock, caplog
):
    """A process died with two claims: one whose request was written (it may have arrived: not
    re-sent, recorded as failed) and one still waiting for the rate limiter (never written:
    released, and sent by the next start)."""
    clock.freeze(at(rctx, "2022-09-13 09:00"))
    with rctx.unit_of_work(SYSTEM) as uow:
        for rid in ("zone1-registration-open", "centralized-preregistration-open"):
            row = store.load(uow, rid)
            claimed = sendlog.claim(uow, sendlog.Delivery(row.id, GROUP, row.fire_at, ""))
            if rid.startswith("zone1"):
                assert sendlog.mark_written(uow, claimed.send_id)
    clock.freeze(at(rctx, "2022-09-13 10:00"))
    app, request = offline_app(rctx)
    with caplog.at_level(logging.WARNING, logger="reminders"):
        async with app:
            await scheduler.start(app)
            await scheduler.run_due(app)
            await scheduler.stop(app)
    (written,) = rows(rctx, "zone1-registration-open")
    assert written.status == "failed" and "interrupted" in written.error
    (unwritten,) = rows(rctx, "centralized-preregistration-open")
    assert unwritten.status == "sent" and unwritten.written_at is not None
    texts = [text for _, text in sent(request)]
    assert len(texts) == 1 and "集中考试预报名" in texts[0]
    assert any("never written" in r.getMessage() for r in caplog.records)


async def test_a_claim_released_before_its_request_is_written_sends_nothing(rctx, clock):
    """Taken for dead while it waited, an instance finds its claim released when its turn
    comes: the request is not written (whoever holds the new claim sends it)."""
    clock.freeze(at(rctx, "2022-09-13 09:00"))
    with rctx.unit_of_work(SYSTEM) as uow:
        row = store.load(uow, "zone1-registration-open")
        claimed = sendlog.claim(uow, sendlog.Delivery(row.id, GROUP, row.fire_at, "提醒"))
    with rctx.db.session() as s:
        s.delete(s.get(ReminderSend, claimed.send_id))
    app, request = offline_app(rctx)
    async with app:
        outcome = await sending.deliver(rctx, app.bot, claimed)
    assert outcome.status == SendStatus.RELEASED and sent(request) == []
    assert rows(rctx) == []


# --- the groups: in the database, following an upgrade to a supergroup ----------------------------

NEW_GROUP = -1001555000002  # what GROUP becomes


def test_served_groups_live_in_the_database_seeded_from_config(rctx, clock):
    other = -1001555000077

    def served(group_ids: list[int] | None = None) -> list[int]:
        config = rctx.config
        if group_ids is not None:
            config = with_changes(config, telegram={"group_chat_ids": group_ids})
        context = create_context(config, db_url=rctx.db.url, clock=clock, migrate=False)
        try:
            return context.run_sync(groups.served, SYSTEM)
        finally:
            context.db.dispose()

    assert served() == served() == [GROUP]  # seeded once
    with rctx.unit_of_work(SYSTEM) as uow:
        moved = groups.move(uow, groups.GroupMove(GROUP, NEW_GROUP, via="message", title="群"))
    assert moved.known and moved.changed
    with rctx.unit_of_work(SYSTEM) as uow:  # the second service message, or a send's answer
        assert not groups.move(uow, groups.GroupMove(GROUP, NEW_GROUP, via="send")).changed
    assert served() == [NEW_GROUP]  # config still names GROUP: the old id is not brought back
    assert served([GROUP, other]) == [NEW_GROUP, other]
    assert served([other]) == [other]  # config no longer names the group: retired
    assert served([NEW_GROUP]) == [NEW_GROUP]  # ... and back, by its new id
    with rctx.db.session() as s:
        assert s.exec(select(func.count()).select_from(LiaisonGroup)).one() == 3
        moves = s.exec(select(AuditLog).where(AuditLog.action == "group.moved")).all()
    assert [m.target for m in moves] == [str(GROUP)]


async def test_a_send_answered_chat_migrated_moves_the_group_and_is_sent_there(rctx, clock):
    """The group became a supergroup while nobody told the bot: the first reminder to it is
    answered ChatMigrated. The group moves, that reminder is sent to the new id at once, the
    next ones go straight there, and the city office is told once."""
    factories.bind(rctx, "city", "city", 9001)
    with FakeBotAPI() as api:
        app = build_application(rctx, api.token, base_url=api.base_url, set_menus=False)
        async with app:
            api.fail_next(
                "sendMessage",
                status=400,
                description="Bad Request: group chat was upgraded to a supergroup chat",
                parameters={"migrate_to_chat_id": NEW_GROUP},
            )
            clock.freeze(at(rctx, "2022-09-13 09:01"))
            first = await scheduler.run_due(app)
            clock.freeze(at(rctx, "2022-09-16 09:01"))
            second = await scheduler.run_due(app)
    assert [(o.chat_id, o.status) for o in first + second] == [(NEW_GROUP, "sent")] * 4
    assert len(api.sent_texts(chat_id=NEW_GROUP)) == 4 and api.sent_texts(chat_id=GROUP) == []
    assert len([c for c in api.calls_of("sendMessage") if c.params["chat_id"] == GROUP]) == 1
    (notice,) = api.sent_texts(chat_id=9001)
    assert "升级为超级群" in notice and str(NEW_GROUP) in notice
    assert {r.chat_id for r in rows(rctx)} == {NEW_GROUP}
    assert rctx.run_sync(groups.served, SYSTEM) == [NEW_GROUP]


async def test_a_migrate_service_message_moves_the_group_and_tells_the_city_office(rctx, clock):
    """Telegram's two service messages of an upgrade (in the old group and in the new
    supergroup) move the group once and tell the city office once, in private; an upgrade of a
    group the bot does not serve changes nothing."""
    factories.bind(rctx, "city", "city", 9001)
    app, request = offline_app(rctx)
    errors: list[BaseException] = []

    async def record(update, context):
        errors.append(context.error)

    app.add_error_handler(record)
    ids = itertools.count(1)

    def service(chat: dict, **fields) -> Update:
        sender = {"id": 4242, "is_bot": False, "first_name": "群主"}
        message = {"message_id": next(ids), "date": 0, "chat": chat, "from": sender, **fields}
        return Update.de_json({"update_id": next(ids), "message": message}, app.bot)

    async with app:
        old = {"id": GROUP, "type": "group", "title": "联络群"}
        new = {"id": NEW_GROUP, "type": "supergroup", "title": "联络群"}
        await app.process_update(service(old, migrate_to_chat_id=NEW_GROUP))
        await app.process_update(service(new, migrate_from_chat_id=GROUP))
        stranger = {"id": -4321, "type": "group", "title": "别的群"}
        await app.process_update(service(stranger, migrate_to_chat_id=-1001555000999))
    assert not errors, errors
    (notice,) = sent(request)
    assert notice[0] == 9001 and "联络群“联络群”已升级为超级群" in notice[1]
    assert str(NEW_GROUP) in notice[1] and str(GROUP) in notice[1]
    assert rctx.run_sync(groups.served, SYSTEM) == [NEW_GROUP]
    with rctx.db.session() as s:
        (moved,) = s.exec(select(AuditLog).where(AuditLog.action == "group.moved")).all()
    assert json.loads(moved.detail)["via"] == "message"


# --- the sandbox, the commands, the CLI -----------------------------------------------------------


async def test_sandbox_shows_a_reminder_when_now_moves_past_it(bot):
    lines = await bot.handle_line("/now 2022-09-13 09:01")
    assert lines[0].startswith("（时间：2022-09-13 09:01")
    shown = [line for line in lines if line.startswith("bot（群）>")]
    assert any("第一次分众组考报名今天开始" in line for line in shown)
    assert len(shown) == 2  # and the centralized pre-registration
    assert [
        line for line in await bot.handle_line("/now 2022-09-13 09:10") if "bot（" in line
    ] == []


async def test_reminders_command_lists_the_next_ones(bot, clock):
    out = await bot.send("/reminders", group=True)
    assert "接下来的提醒" in out[0]
    assert "9月16日 9:00" in out[0] and "第一次分众组考报名最后一天" in out[0]
    assert "zone1-registration-last" not in out[0]  # ids only in private chat
    out = await bot.send("/reminders")
    assert "zone1-registration-last" in out[0]


async def test_remind_add_refusals_change_nothing(bot, ctx):
    factories.tree(ctx)
    factories.bind(ctx, "city", "city", bot.user_id("市办"))
    factories.bind(ctx, "LY-JY", "unit", bot.user_id("单位管理员"))

    def state() -> tuple[int, int]:
        return count(ctx, StoredReminder), count(ctx, AuditLog)

    before = state()
    cases = [
        ("单位管理员", "/remind_add 2022-09-15 09:00 请报名", False, "只有市委依法治市办"),
        ("市办", "/remind_add 2022-09-15 09:00 请报名", True, "私聊"),
        ("市办", "/remind_add 2022-02-30 09:00 请报名", False, "日期或时间不对"),
        ("市办", "/remind_add 2022-09-15 25:00 请报名", False, "日期或时间不对"),
        ("市办", "/remind_add 2022-09-13 09:00 请报名", False, "已经过去"),
        ("市办", "/remind_add 2022-09-15 23:00 请报名", False, "免打扰"),
        ("市办", "/remind_add 2022-09-15 09:00 " + "长" * 501, False, "最多 500 字"),
        ("市办", "/remind_add 2022-09-15", False, "用法"),
        ("没绑定的人", "/remind_pause zone1-registration-last", False, "还没有绑定"),
        ("市办", "/remind_pause no-such-reminder", False, "没有编号"),
        ("市办", "/remind_resume zone1-registration-last", False, "没有暂停"),
    ]
    for user, text, group, expected in cases:
        out = await bot.send(text, user=user, group=group)
        assert expected in out[0], (text, out)
        assert state() == before, text

    out = await bot.send("/remind_add 2022-09-15 09:00 请<b>核对</b>名单", user="市办")
    assert "已添加提醒 custom-1" in out[0] and "请<b>核对</b>名单" in out[0]
    out = await bot.send("/remind_pause zone1-registration-last", user="市办")
    assert "已暂停" in out[0]
    out = await bot.send("/remind_resume zone1-registration-last", user="市办")
    assert "已恢复" in out[0]
    with ctx.db.session() as s:
        query = select(AuditLog).where(AuditLog.action.like("reminder.%")).order_by(AuditLog.id)
        actions = [a.action for a in s.exec(query)]
    assert actions == ["reminder.add", "reminder.pause", "reminder.resume"]
    lines = await bot.handle_line("/now 2022-09-15 09:00")
    assert any("请<b>核对</b>名单" in line for line in lines if line.startswith("bot（群）>"))


def test_cli_lists_upcoming_reminders_as_json_lines(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    result = subprocess.run(
        [sys.executable, "-m", "reminders", "list", "--json", "--now", "2022-09-12T08:00"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    items = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(item) == {"id", "fire_at", "kind", "text"} for item in items)
    first = {item["id"]: item for item in items}["zone1-registration-open"]
    assert first["fire_at"] == "2022-09-13T09:00:00+08:00" and first["kind"] == "registration"
    assert first["text"].startswith("【报名提醒】第一次分众组考报名今天开始")
    assert all(item["fire_at"] > "2022-09-12T08:00" for item in items)
    assert "<b>" not in result.stdout
