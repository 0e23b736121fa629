"""Registrations that should not pass, and one closing hour (issue 15 items 2, 3, 5, 7, 8).

* One end-of-day rule (``bot.core.windows``): a whole-day window opens at 00:00 on its first day
  and closes at ``[reminders] day_deadline`` on its last, for every window the bot enforces and
  for the reminders that announce it.
* A category-exam unit learns at /register's first message that its exam is the provincial
  department's; a centralized-exam unit that its exam is the centralized one, and books zone
  sessions only with the city office's approval (then the confirmation names both).
* A head count is checked against the unit's roster (eligible, already registered).
* An exemption filed for a registered learner says the registration should be withdrawn;
  /affected is provisional while makeup results are not imported.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import select

from bot.core import windows
from bot.core.errors import Refused
from bot.core.render import render
from bot.core.uow import Origin
from bot.exemptions import service as exemptions
from bot.org.models import Unit
from bot.overview import status as overview
from bot.registration import plans, seat_proposals
from bot.registration import service as reg
from bot.registration.learner_sessions import LEARNER_SESSIONS
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.results import affected, aggregates
from bot.results.models import ExamResult
from bot.roster.models import Learner
from reminders.calendar import build_calendar
from tests import factories

UID, CITY_UID = 7101, 7102
CENTRAL = "市档案馆"  # on config's centralized list
ZONE1 = dt.date(2022, 9, 19)


def origin(uid: int = UID) -> Origin:
    return Origin.telegram(uid, uid)


def at(ctx, day: dt.date, hour: int, minute: int = 0) -> None:
    ctx.clock.freeze(dt.datetime(day.year, day.month, day.day, hour, minute))


def zone(
    learners: str, unit_code: str | None = None, day: dt.date = ZONE1
) -> reg.RegistrationRequest:
    return reg.RegistrationRequest("zone1", day, "09:00", learners, unit_code=unit_code)


def makeup(learners: str) -> reg.RegistrationRequest:
    return reg.RegistrationRequest("makeup", None, None, learners)


def refusal(ctx, work, uid: int = UID) -> Refused:
    with pytest.raises(Refused) as info:
        ctx.run_sync(work, origin(uid))
    return info.value


def set_unit(ctx, code: str, **fields) -> None:
    with ctx.db.session() as s:
        unit = s.exec(select(Unit).where(Unit.code == code)).one()
        for key, value in fields.items():
            setattr(unit, key, value)
        s.add(unit)


def roster(ctx, code: str, how_many: int, prefix: str, **fields) -> None:
    """``how_many`` learners of a unit, in one session."""
    with ctx.db.session() as s:
        unit_id = s.exec(select(Unit.id).where(Unit.code == code)).one()
        for i in range(how_many):
            s.add(
                Learner(
                    account=f"{prefix}{i}",
                    name="学员",
                    unit_id=unit_id,
                    updated_at=ctx.now(),
                    **fields,
                )
            )


@pytest.fixture
def unit_admin(any_ctx):
    """测试局 (a city-level unit) with a sub-unit 测试所, bound to UID."""
    factories.unit(any_ctx, "T", "测试局")
    factories.unit(any_ctx, "T-1", "测试所", kind="sub", parent="T")
    factories.bind(any_ctx, "T", "unit", UID)
    return any_ctx


# --- 1. one end-of-day rule ----------------------------------------------------------------------


def test_a_whole_day_window_opens_at_midnight_and_closes_at_the_day_deadline(config):
    window = config.zone_rounds[0].registration
    tz = config.tz
    assert config.reminders.day_deadline == dt.time(18, 0)
    assert windows.closes_at(config, window.end) == dt.datetime(2022, 9, 16, 18, 0, tzinfo=tz)
    cases = [
        (dt.datetime(2022, 9, 12, 23, 59), windows.UPCOMING),
        (dt.datetime(2022, 9, 13, 0, 0), windows.OPEN),  # the first day, from 00:00
        (dt.datetime(2022, 9, 16, 17, 59), windows.OPEN),
        (dt.datetime(2022, 9, 16, 18, 0), windows.CLOSED),  # the last day's day_deadline
        (dt.datetime(2022, 9, 16, 18, 30), windows.CLOSED),
    ]
    for moment, expected in cases:
        assert windows.state(config, window, moment.replace(tzinfo=tz)) == expected, moment
    assert windows.is_open(config, window.start, window.end, cases[2][0].replace(tzinfo=tz))


def test_the_reminders_close_when_the_windows_do(config):
    """The calendar's closing moments come from the same rule the services enforce."""
    items = {r.id: r for r in build_calendar(config)}
    for key, window in [
        ("zone1", config.zone_rounds[0].registration),
        ("makeup", config.makeup.registration),
    ]:
        assert items[f"{key}-registration-closing"].deadline == windows.closes_at(
            config, window.end
        )
    assert items["county-plan-d0"].deadline == windows.closes_at(
        config, config.county_plans.deadline
    )


def test_zone_registration_closes_at_the_hour_on_its_last_day(unit_admin):
    ctx = unit_admin
    at(ctx, dt.date(2022, 9, 13), 0, 0)
    assert ctx.run_sync(lambda uow: reg.plan(uow, zone("3")), origin()).count == 3
    at(ctx, dt.date(2022, 9, 16), 17, 59)
    assert ctx.run_sync(lambda uow: reg.commit(uow, zone("3")), origin()).id
    at(ctx, dt.date(2022, 9, 16), 18, 0)
    refused = refusal(ctx, lambda uow: reg.plan(uow, zone("3")))
    assert refused.key == "round_closed"
    assert "9月16日 18:00截止" in refused.render(c=ctx.config)
    opening = ctx.run_sync(lambda uow: reg.open_registration(uow, None), origin())
    assert opening.open_rounds == [] and opening.states["zone1"] == "closed"
    text = render("register_closed", c=ctx.config, **_closed_vars(opening))
    assert "分众组考第一次考试：报名 9月13日至16日（最后一天 18:00 截止）" in text
    assert "（报名已截止）" in text.split("\n")[1]


def _closed_vars(opening) -> dict:
    return {
        "rounds": opening.rounds,
        "today": opening.today,
        "states": opening.states,
        "closing": opening.closing,
    }


def test_makeup_registration_closes_at_the_hour_on_its_last_day(unit_admin):
    ctx = unit_admin
    at(ctx, dt.date(2022, 10, 25), 0, 0)
    assert ctx.run_sync(lambda uow: reg.plan(uow, makeup("2")), origin()).count == 2
    at(ctx, dt.date(2022, 10, 26), 17, 59)
    assert ctx.run_sync(lambda uow: reg.plan(uow, makeup("2")), origin()).count == 2
    at(ctx, dt.date(2022, 10, 26), 18, 0)
    refused = refusal(ctx, lambda uow: reg.plan(uow, makeup("2")))
    assert refused.key == "round_closed" and "10月26日 18:00截止" in refused.render(c=ctx.config)


def test_changes_follow_the_same_hour(unit_admin):
    """/myreg's change and cancel are open while registration is, and no longer after 18:00."""
    from bot.registration import changes

    ctx = unit_admin
    at(ctx, dt.date(2022, 9, 16), 17, 0)
    done = ctx.run_sync(lambda uow: reg.commit(uow, zone("3")), origin())
    mine = ctx.run_sync(changes.my_registrations, origin())
    assert [i.editable for i in mine.items] == [True]
    at(ctx, dt.date(2022, 9, 16), 18, 0)
    mine = ctx.run_sync(changes.my_registrations, origin())
    assert [i.editable for i in mine.items] == [False]
    assert refusal(ctx, lambda uow: changes.cancellation(uow, done.id)).key == "round_closed"


def test_centralized_preregistration_closes_at_the_hour(any_ctx):
    ctx = any_ctx
    factories.bind(ctx, CENTRAL, "unit", UID)
    at(ctx, dt.date(2022, 9, 16), 17, 59)
    assert ctx.run_sync(lambda uow: seat_proposals.offer(uow, "10"), origin()).free
    at(ctx, dt.date(2022, 9, 16), 18, 0)
    refused = refusal(ctx, lambda uow: seat_proposals.offer(uow, "10"))
    assert refused.key == "seats_closed" and "9月16日 18:00截止" in refused.render(c=ctx.config)
    at(ctx, dt.date(2022, 9, 13), 0, 0)
    assert ctx.run_sync(lambda uow: seat_proposals.offer(uow, "10"), origin()).free


def test_county_plans_are_late_from_the_hour_on_the_deadline_day(config):
    day = config.county_plans.deadline
    on_time = dt.datetime.combine(day, dt.time(17, 59), tzinfo=config.tz)
    assert not plans.is_late(config, on_time)
    assert plans.is_late(config, on_time + dt.timedelta(minutes=1))
    text = render(
        "plan_saved",
        c=config,
        receipt=plans.PlanReceipt("耒阳市", "LY", 5, [ZONE1], "", on_time, True, False),
    )
    assert "已超过报送截止时间（9月1日 18:00）" in text


# --- 2. a category-exam unit learns it at the start -----------------------------------------------


async def test_a_category_unit_is_told_at_the_first_message(bot, ctx):
    set_unit(ctx, "市公安局", category_department="省公安厅")  # seeded (a question-bank unit)
    factories.bind(ctx, "市公安局", "unit", bot.user_id("公安"))
    out = "\n".join(await bot.send("/register", user="公安"))
    assert "省公安厅" in out and "分类组考优先" in out and "省级组考部门同意" in out
    assert "/consent" in out and ctx.config.campaign.city_office in out
    assert "现在没有本单位可以报名的网上考试轮次" in out
    assert bot.request.of("sendMessage")[-1].params.get("reply_markup") is None


def test_a_category_unit_is_refused_at_every_step_and_may_take_the_makeup(unit_admin):
    ctx = unit_admin
    set_unit(ctx, "T", category_department="省公安厅")
    opening = ctx.run_sync(lambda uow: reg.open_registration(uow, None), origin())
    assert [r.key for r in opening.open_rounds] == ["zone1"] and opening.allowed == []
    assert opening.standing.category.name == "省公安厅"
    assert refusal(ctx, lambda uow: reg.choose_round(uow, None, "zone1")).key == (
        "category_precedence"
    )
    refused = refusal(ctx, lambda uow: reg.plan(uow, zone("3")))  # the final step still guards
    assert refused.key == "category_precedence" and "/consent" in refused.render(c=ctx.config)
    at(ctx, dt.date(2022, 10, 25), 9)
    opening = ctx.run_sync(lambda uow: reg.open_registration(uow, None), origin())
    assert [r.key for r in opening.allowed] == ["makeup"]  # the makeup is everybody's
    set_unit(ctx, "T", category_consent=True)
    at(ctx, dt.date(2022, 9, 14), 10)
    assert ctx.run_sync(lambda uow: reg.commit(uow, zone("3")), origin()).id


# --- 3. a centralized-exam unit -------------------------------------------------------------------


async def test_a_centralized_unit_is_told_its_exam_and_not_offered_zone_sessions(bot, ctx):
    factories.bind(ctx, CENTRAL, "unit", bot.user_id("档案馆"))
    out = "\n".join(await bot.send("/register", user="档案馆"))
    assert "集中考试" in out and ctx.config.centralized.address in out
    assert "/seats_book" in out and "/allow_zone" in out and "五（四）" in out
    assert bot.request.of("sendMessage")[-1].params.get("reply_markup") is None


def test_a_centralized_unit_needs_the_city_offices_approval_for_zone_sessions(any_ctx):
    ctx = any_ctx
    factories.bind(ctx, CENTRAL, "unit", UID)
    refused = refusal(ctx, lambda uow: reg.plan(uow, zone("5")))
    assert refused.key == "centralized_zone"
    assert "/allow_zone" in refused.render(c=ctx.config)
    assert refusal(ctx, lambda uow: reg.choose_round(uow, None, "zone1")).key == "centralized_zone"
    set_unit(ctx, CENTRAL, zone_approved=True)
    opening = ctx.run_sync(lambda uow: reg.open_registration(uow, None), origin())
    assert [r.key for r in opening.allowed] == ["zone1"]
    first = render(
        "register_round", c=ctx.config, unit=CENTRAL, rounds=opening.allowed, opening=opening
    )
    assert "已同意本单位同时报名网上分众组考" in first
    done = ctx.run_sync(lambda uow: reg.commit(uow, zone("5")), origin())
    assert done.plan.centralized
    text = render("register_done", c=ctx.config, done=done)
    assert "本单位同时参加两项" in text and ctx.config.centralized.address in text
    assert "尚未预约座位" in text and "/seats_book" in text
    # The overview lists it once: registered for the zone round, not among those excluded.
    with ctx.db.session() as s:
        zone1 = overview.status(s, ctx.config, ctx.now()).rounds[0]
    assert CENTRAL in {u.name for u in zone1.registered}
    assert CENTRAL not in {e.unit.name for e in zone1.excluded_for("centralized")}


def test_a_centralized_units_seat_booking_names_its_zone_registration(any_ctx):
    ctx = any_ctx
    factories.bind(ctx, CENTRAL, "unit", UID)
    set_unit(ctx, CENTRAL, zone_approved=True)
    ctx.run_sync(lambda uow: reg.commit(uow, zone("5")), origin())
    offer = ctx.run_sync(lambda uow: seat_proposals.offer(uow, "10"), origin())
    choice = seat_proposals.ChooseSlot(offer.proposal_id, offer.free[0].id)
    ctx.run_sync(lambda uow: seat_proposals.choose(uow, choice), origin())
    booked = ctx.run_sync(
        lambda uow: seat_proposals.book(uow, seat_proposals.BookProposal(offer.proposal_id)),
        origin(),
    )
    assert booked.online == 5
    text = render(
        "seats_booked", c=ctx.config, plan=booked.parts, again=False, online=booked.online
    )
    assert "同时报名了网上分众组考 5 人" in text
    again = ctx.run_sync(lambda uow: reg.plan(uow, zone("2", day=dt.date(2022, 9, 20))), origin())
    assert again.seats == 10  # the summary names the seats held besides


# --- 4. a head count against the roster ----------------------------------------------------------


def test_a_head_count_is_checked_against_the_eligible_learners(unit_admin):
    ctx = unit_admin
    roster(ctx, "T", 2, "teq")
    roster(ctx, "T-1", 1, "tsub")  # the sub-unit's learners are the unit's too
    roster(ctx, "T", 1, "tex", exempt=True)
    roster(ctx, "T", 1, "tout", in_service=False)
    refused = refusal(ctx, lambda uow: reg.plan(uow, zone("4")))
    assert refused.key == "count_over_roster" and not refused.ends  # the count may be retyped
    assert (refused.params["eligible"], refused.params["registered"]) == (3, 0)
    text = refused.render(c=ctx.config)
    assert "在职、未免考的学员共 3 人" in text and "已报名 0 人" in text and "4 人" in text
    planned = ctx.run_sync(lambda uow: reg.plan(uow, zone("3")), origin())
    assert planned.roster_checked
    assert "尚未导入花名册" not in render("register_summary", c=ctx.config, plan=planned)
    ctx.run_sync(lambda uow: reg.commit(uow, zone("2")), origin())
    refused = refusal(ctx, lambda uow: reg.plan(uow, zone("2", day=dt.date(2022, 9, 20))))
    assert (refused.params["eligible"], refused.params["registered"]) == (3, 2)
    assert "已报名 2 人" in refused.render(c=ctx.config)
    # The sub-unit's own registration counts against its parent's learners too.
    ctx.run_sync(lambda uow: reg.commit(uow, zone("1", unit_code="T-1")), origin())
    refused = refusal(ctx, lambda uow: reg.plan(uow, zone("tsub0")))  # named: same figures
    assert refused.key == "count_over_roster"
    assert refusal(ctx, lambda uow: reg.plan(uow, zone("1"))).params["registered"] == 3


def test_a_head_count_for_a_unit_without_a_roster_is_accepted_and_says_so(unit_admin):
    ctx = unit_admin
    planned = ctx.run_sync(lambda uow: reg.plan(uow, zone("5")), origin())
    assert planned.count == 5 and not planned.roster_checked
    summary = render("register_summary", c=ctx.config, plan=planned)
    assert "本单位尚未导入花名册，无法核对人数" in summary
    done = ctx.run_sync(lambda uow: reg.commit(uow, zone("5")), origin())
    assert "本单位尚未导入花名册，无法核对人数" in render("register_done", c=ctx.config, done=done)


# --- 5. exemptions and registrations; /affected before makeup results ---------------------------


def test_an_exemption_for_a_registered_learner_says_to_withdraw_the_registration(unit_admin):
    ctx = unit_admin
    factories.learner(ctx, "tzhang", "张三", "T")
    factories.learner(ctx, "tli", "李四", "T-1")
    factories.bind(ctx, "city", "city", CITY_UID)
    ctx.run_sync(lambda uow: reg.commit(uow, zone("tzhang")), origin())
    ctx.run_sync(
        lambda uow: reg.commit(uow, zone("1", unit_code="T-1", day=dt.date(2022, 9, 21))),
        origin(),
    )

    def file(account: str):
        request = exemptions.OpenFiling(account, "illness")
        return ctx.run_sync(
            lambda uow: exemptions.open_filing(uow, request, LEARNER_SESSIONS), origin()
        )

    view = file("tzhang")
    assert [(r.round.key, r.exam_date, r.session_time, r.named) for r in view.registered] == [
        ("zone1", ZONE1, "09:00", True)
    ]
    text = render("exempt_filing", c=ctx.config, f=view)
    assert "该学员已报名以下考试：分众组考第一次考试 9月19日 09:00" in text
    assert "请撤回这项报名" in text and "/myreg" in text and "机器人没有替您撤回" in text
    counted = file("tli")  # counted in 测试所's head count, not named
    assert [(r.named, r.count, r.unit_name) for r in counted.registered] == [(False, 1, "测试所")]
    assert "按人数报名 1 人" in render("exempt_filing", c=ctx.config, f=counted)
    # Filed with the city office after the exam day: nothing coming is left to withdraw.
    for step in ("hr_reviewed", "head_approved"):
        request = exemptions.StepRequest(view.id, step)
        ctx.run_sync(lambda uow, r=request: exemptions.advance(uow, r), origin())
    at(ctx, dt.date(2022, 9, 18), 10)
    note = exemptions.StepRequest(view.id, "city_filed")
    filed = ctx.run_sync(
        lambda uow: exemptions.record_step(uow, note, LEARNER_SESSIONS), origin(CITY_UID)
    )
    assert [r.exam_date for r in filed.registered] == [ZONE1]  # still to come on 9/18
    at(ctx, dt.date(2022, 9, 20), 10)
    later = ctx.run_sync(
        lambda uow: LEARNER_SESSIONS.coming(uow.session, uow.config, _id(uow, "tzhang"), uow.now),
        origin(),
    )
    assert later == []


def _id(uow, account: str) -> int:
    return uow.session.exec(select(Learner.id).where(Learner.account == account)).one()


def test_an_exemption_for_an_unregistered_learner_warns_of_nothing(unit_admin):
    ctx = unit_admin
    factories.learner(ctx, "twang", "王五", "T")
    request = exemptions.OpenFiling("twang", "maternity")
    view = ctx.run_sync(
        lambda uow: exemptions.open_filing(uow, request, LEARNER_SESSIONS), origin()
    )
    assert view.registered == []
    assert "已报名" not in render("exempt_filing", c=ctx.config, f=view)


def _result(ctx, account: str, round_key: str, score: float | None) -> None:
    with ctx.db.session() as s:
        learner = s.exec(select(Learner).where(Learner.account == account)).one()
        s.add(
            ExamResult(
                learner_id=learner.id,
                round_key=round_key,
                score=score,
                absent=score is None,
                unit_id=learner.unit_id,
                source="test",
                imported_at=ctx.now(),
            )
        )
        s.flush()
        aggregates.refold(s.connection(), ctx.config)  # as the importer does for its results


def test_affected_is_provisional_until_makeup_results_are_imported(unit_admin):
    ctx = unit_admin
    for account in ("tfail", "tabsent", "tpass"):
        factories.learner(ctx, account, "学员", "T")
    _result(ctx, "tfail", "zone1", 40)
    _result(ctx, "tabsent", "zone1", None)
    _result(ctx, "tpass", "zone1", 90)
    at(ctx, dt.date(2022, 10, 25), 9)
    ctx.run_sync(lambda uow: reg.commit(uow, makeup("tfail")), origin())
    at(ctx, dt.date(2022, 11, 1), 9)

    def report():
        return ctx.run_sync(
            lambda uow: affected.affected(uow, None, MAKEUP_REGISTRATIONS), origin()
        )

    early = report()
    assert early.provisional
    assert [a.account for a in early.registered] == ["tfail"]
    assert [a.account for a in early.absent] == ["tabsent"] and early.failed == []
    text = render("results_affected", c=ctx.config, a=early)
    assert "补考成绩尚未导入，名单为临时名单" in text
    assert "tfail · 测试局 · 已报名补考，补考成绩尚未导入" in text
    assert "tfail · 测试局 · 未参加考试和补考" not in text
    _result(ctx, "tfail", "makeup", 50)
    final = report()
    assert not final.provisional and final.registered == []
    assert [a.account for a in final.failed] == ["tfail"]
    assert "临时名单" not in render("results_affected", c=ctx.config, a=final)


def test_affected_without_makeup_registrations_is_final(unit_admin):
    ctx = unit_admin
    factories.learner(ctx, "tabsent", "学员", "T")
    _result(ctx, "tabsent", "zone1", None)
    at(ctx, dt.date(2022, 11, 1), 9)
    done = ctx.run_sync(lambda uow: affected.affected(uow, None, MAKEUP_REGISTRATIONS), origin())
    assert not done.provisional and [a.account for a in done.absent] == ["tabsent"]
    unknown = ctx.run_sync(affected.affected, origin())  # registrations not looked up
    assert unknown.provisional
