"""/register's state in the database (bot.registration.drafts): a restart mid-flow resumes it,
two instances on one database serve one conversation alternately, 确认 registers once however
often (and wherever) it is pressed, a draft expires after ten minutes by the injected clock, a
button with no draft behind it changes nothing, and plain private text without a draft still
reaches the FAQ for the price of one indexed read."""

from __future__ import annotations

import datetime as dt
import threading
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import event
from sqlmodel import func, select

from bot.context import create_context
from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.render import render
from bot.core.uow import Origin
from bot.registration import drafts, schedule
from bot.registration.drafts import Step
from bot.registration.models import Registration, RegistrationDraft
from bot.sandbox.runner import Sandbox
from tests import factories

ADMIN = "李老师"
STALE = render("register_stale")
QUESTION = "补考什么时候报名？"


@pytest.fixture
def world(ctx):
    factories.tree(ctx)
    return ctx


@asynccontextmanager
async def instance(ctx):
    """One running bot (the real Application, offline Telegram) on ``ctx``'s database, with
    its handler errors failing the test, as the ``bot`` fixture does."""
    errors: list[BaseException] = []
    sandbox = Sandbox(ctx)

    async def record(update, context):
        errors.append(context.error)

    sandbox.app.add_error_handler(record)
    async with sandbox:
        sandbox.user = ADMIN
        yield sandbox
    if errors:
        raise errors[0]


def another_process(config, sqlite_url, clock):
    """A second AppContext on the same SQLite file: what a restart or a second instance has."""
    return create_context(config, db_url=sqlite_url, clock=clock, migrate=False)


def said(out: list[str]) -> str:
    return "\n".join(out)


def labels(bot) -> list[str]:
    return [label for label, _ in bot.last_buttons[1]] if bot.last_buttons else []


def hand_over(source, target) -> None:
    """The keyboard ``source`` showed, pressed next on ``target`` (Telegram sends a press to
    whichever instance the webhook reaches)."""
    target.last_buttons = source.last_buttons


def registrations(ctx) -> int:
    with ctx.db.session() as s:
        return s.exec(select(func.count()).select_from(Registration)).one()


def audits(ctx, action: str) -> int:
    with ctx.db.session() as s:
        query = select(func.count()).select_from(AuditLog).where(AuditLog.action == action)
        return s.exec(query).one()


def stored(ctx) -> list[RegistrationDraft]:
    with ctx.db.session() as s:
        return list(s.exec(select(RegistrationDraft)))


def answers(bot, since: int) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in bot.request.calls[since:]
        if c.method == "answerCallbackQuery"
    ]


def forge(bot, data: str) -> None:
    """A button with ``data`` on a bot message in the current chat, as if the bot had sent it."""
    message = bot.request.message_for({"chat_id": bot.chat_id, "text": "旧消息"})
    bot.last_buttons = (message, [("x", data)])


async def walk_to_learners(bot) -> None:
    """/register, the first zone round, its first day, its 9:00 session, on one instance."""
    await bot.send("/register")
    await bot.press(next(i for i, t in enumerate(labels(bot), 1) if "第一次" in t))
    await bot.press(1)
    out = await bot.press(labels(bot).index("9:00") + 1)
    assert "参考人数" in said(out), out


# --- restarts and instances -------------------------------------------------------------------


async def test_a_restart_mid_flow_resumes(world, config, sqlite_url, clock):
    async with instance(world) as before:
        factories.bind(world, "LY-JY", "unit", before.user_id(ADMIN))
        await walk_to_learners(before)
    restarted = another_process(config, sqlite_url, clock)
    async with instance(restarted) as after:
        summary = said(await after.send("1"))
        assert "请核对报名信息" in summary and "09:00" in summary
        out = said(await after.press(1))
    assert "已提交报名" in out
    first_day = schedule.find_round(config, "zone1").exam.start
    with restarted.db.session() as s:
        row = s.exec(select(Registration)).one()
    assert (row.exam_date, row.session_time, row.learner_count) == (first_day, "09:00", 1)
    assert stored(restarted) == []


async def test_two_instances_serve_one_conversation_alternately(bot, world, config, sqlite_url):
    """A and B on one SQLite file: /register on A, the round on B, the day on A, the session
    on B, the learners on A, 确认 on B; a second 确认 on A finds it done."""
    factories.bind(world, "LY-JY", "unit", bot.user_id(ADMIN))
    bot.user = ADMIN
    a = bot
    async with instance(another_process(config, sqlite_url, world.clock)) as b:
        assert b.user_id(ADMIN) == a.user_id(ADMIN)
        await a.send("/register")
        hand_over(a, b)
        assert "请选择考试日期" in said(await b.press(1))
        hand_over(b, a)
        assert "请选择场次" in said(await a.press(1))
        hand_over(a, b)
        assert "参考人数" in said(await b.press(labels(b).index("9:00") + 1))
        assert "请核对报名信息" in said(await a.send("1"))
        summary = a.last_buttons
        hand_over(a, b)
        assert "已提交报名" in said(await b.press(1))
        a.last_buttons, mark = summary, a.request.mark()
        assert said(await a.press(1)) == f"[提示] {STALE}"  # the same 确认, on the other one
        assert answers(a, mark) == [STALE]
    assert registrations(world) == 1 and audits(world, "registration.create") == 1
    assert stored(world) == []


# --- expiry, stale and forged buttons, the FAQ ----------------------------------------------------


async def test_a_draft_expires_after_ten_minutes_by_the_clock(bot, world, clock):
    factories.bind(world, "LY-JY", "unit", bot.user_id(ADMIN))
    bot.user = ADMIN
    await bot.send("/register")
    await bot.press(1)
    days = bot.last_buttons
    clock.freeze(clock.now() + drafts.EXPIRY)  # its last moment: still there
    assert "请选择场次" in said(await bot.press(1))
    sessions = bot.last_buttons
    clock.freeze(clock.now() + drafts.EXPIRY + dt.timedelta(seconds=1))
    mark = bot.request.mark()
    await bot.press(1)
    assert answers(bot, mark) == [STALE]
    assert [d.step for d in stored(world)] == [Step.SESSION]  # not moved on
    bot.last_buttons = days
    assert said(await bot.press(1)) == f"[提示] {STALE}"
    # /register starts afresh, and the old keyboard stays dead.
    await bot.send("/register")
    assert [d.step for d in stored(world)] == [Step.ROUND]
    bot.last_buttons = sessions
    assert said(await bot.press(1)) == f"[提示] {STALE}"
    # Typed learners after the draft expired are not taken for it.
    await walk_to_learners(bot)
    clock.freeze(clock.now() + dt.timedelta(minutes=11))
    assert "请核对报名信息" not in said(await bot.send("1"))
    assert [d.step for d in stored(world)] == [Step.LEARNERS] and registrations(world) == 0


FORGED = ["rg:r:zone1", "rg:d:20220919", "rg:s:0900", "rg:ok", "rg:no", "rg:s:99zz"]


async def test_a_forged_or_stale_button_changes_nothing(bot, world):
    """No draft: every /register button is answered stale, and nothing is written. A draft
    waiting for its round: a button of another step (forged or old) is stale and leaves it
    where it is, and so is another administrator's press of its round button."""
    factories.bind(world, "LY-JY", "unit", bot.user_id(ADMIN))
    factories.bind(world, "LY", "county", bot.user_id("耒阳市"))
    bot.user = ADMIN
    for data in FORGED:
        forge(bot, data)
        mark = bot.request.mark()
        await bot.press(1)
        assert answers(bot, mark) == [STALE], data
        assert bot.request.texts(mark) == [], data  # answered, nothing sent or edited
    assert stored(world) == [] and registrations(world) == 0
    await bot.send("/register")
    rounds_shown = bot.last_buttons
    for data in FORGED[1:]:
        forge(bot, data)
        mark = bot.request.mark()
        await bot.press(1)
        assert answers(bot, mark) == [STALE], data
    bot.last_buttons = rounds_shown
    mark = bot.request.mark()
    await _press_as(bot, "耒阳市", 1)
    assert answers(bot, mark) == [STALE]
    assert [(d.step, d.round_key) for d in stored(world)] == [(Step.ROUND, None)]
    bot.last_buttons = rounds_shown
    assert "请选择考试日期" in said(await bot.press(1))  # its owner goes on


async def _press_as(bot, name: str, index: int) -> list[str]:
    saved, bot.user = bot.user, name
    try:
        return await bot.press(index)
    finally:
        bot.user = saved


def _watch_drafts(ctx) -> tuple[list[tuple[str, object]], object]:
    """The statements on registration_drafts the engine executes (and their parameters)."""
    statements: list[tuple[str, object]] = []

    def seen(conn, cursor, statement, parameters, context, executemany):
        if "registration_drafts" in statement:
            statements.append((statement, parameters))

    event.listen(ctx.db.engine, "before_cursor_execute", seen)
    return statements, seen


async def test_plain_private_text_without_a_draft_reaches_the_faq(bot, world):
    """No draft: the FAQ answers, after one SELECT on the owner's unique index; a draft
    waiting for a button does not take text either; one waiting for learners does."""
    factories.bind(world, "LY-JY", "unit", bot.user_id(ADMIN))
    bot.user = ADMIN
    statements, listener = _watch_drafts(world)
    try:
        answer = said(await bot.send(QUESTION))
    finally:
        event.remove(world.db.engine, "before_cursor_execute", listener)
    assert "来源" in answer and "参考人数" not in answer
    ((lookup, parameters),) = statements
    assert lookup.lstrip().upper().startswith("SELECT")
    with world.db.engine.connect() as conn:
        plan = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {lookup}", parameters).all()
    assert any("USING INDEX" in str(row[-1]) for row in plan), plan
    await bot.send("/register")  # waiting for the round
    assert said(await bot.send(QUESTION)) == answer
    await bot.press(1)
    await bot.press(1)
    await bot.press(1)  # waiting for the learners: the text is theirs
    taken = said(await bot.send(QUESTION))
    assert "来源" not in taken and [d.step for d in stored(world)] == [Step.LEARNERS]


async def test_cancel_ends_a_draft_and_is_otherwise_not_ours(bot, world):
    factories.bind(world, "LY-JY", "unit", bot.user_id(ADMIN))
    bot.user = ADMIN
    await bot.send("/register")
    shown = bot.last_buttons
    assert said(await bot.send("/cancel")) == said([f"bot（私聊）> {render('register_quit')}"])
    assert stored(world) == []
    bot.last_buttons = shown
    assert said(await bot.press(1)) == f"[提示] {STALE}"
    out = said(await bot.send("/cancel"))  # no draft: the unknown-command hint answers
    assert render("unknown_command", command="cancel") in out


async def test_a_refused_step_ends_the_draft(bot, world, clock):
    """As the conversation ended: the window closing before 确认 says so and drops the draft;
    a list to correct keeps it, its ten minutes counted again."""
    factories.bind(world, "LY-JY", "unit", bot.user_id(ADMIN))
    bot.user = ADMIN
    closes = schedule.closes_at(world.config, schedule.find_round(world.config, "zone1"))
    clock.freeze(closes - dt.timedelta(minutes=25))
    await walk_to_learners(bot)
    clock.freeze(clock.now() + dt.timedelta(minutes=9))
    assert "人数应在" in said(await bot.send("0"))
    clock.freeze(clock.now() + dt.timedelta(minutes=9))  # 18 since the session, 9 since the "0"
    assert "请核对报名信息" in said(await bot.send("1"))
    clock.freeze(closes)
    out = said(await bot.press(1))
    assert "截止" in out and stored(world) == [] and registrations(world) == 0


# --- the service, on SQLite and PostgreSQL ---------------------------------------------------------

UID = 7001


def run(ctx, work, uid: int = UID, chat: int | None = None):
    return ctx.run_sync(work, Origin.telegram(chat if chat is not None else uid, uid))


def refusal_of(ctx, work, **where) -> str:
    with pytest.raises(Refused) as caught:
        run(ctx, work, **where)
    return caught.value.key


def test_a_draft_moves_one_step_at_a_time(any_ctx):
    factories.tree(any_ctx)
    factories.bind(any_ctx, "LY-JY", "unit", UID)
    first_day = schedule.find_round(any_ctx.config, "zone1").exam.start
    run(any_ctx, lambda uow: drafts.open_draft(uow, None))
    assert refusal_of(any_ctx, lambda uow: drafts.choose_day(uow, first_day)) == "register_stale"
    chosen = run(any_ctx, lambda uow: drafts.choose_round(uow, "zone1"))
    assert chosen.round.key == "zone1" and chosen.learners is None
    assert refusal_of(any_ctx, lambda uow: drafts.choose_round(uow, "zone1")) == "register_stale"
    day = run(any_ctx, lambda uow: drafts.choose_day(uow, first_day))
    assert "09:00" in [f"{s.time:%H:%M}" for s in day.sessions]
    prompt = run(any_ctx, lambda uow: drafts.choose_session(uow, "09:00"))
    assert (prompt.day, prompt.time, prompt.makeup) == (first_day, "09:00", None)
    planned = run(any_ctx, lambda uow: drafts.give_learners(uow, "1"))
    assert planned.count == 1 and registrations(any_ctx) == 0
    # Only its owner, in its chat, sees it.
    for uid, chat in [(UID + 1, UID + 1), (UID, -100123)]:
        found = run(any_ctx, lambda uow: drafts.find(uow, Step.CONFIRM), uid=uid, chat=chat)
        assert found is None
        assert refusal_of(any_ctx, drafts.confirm, uid=uid, chat=chat) == "register_stale"
    held = run(any_ctx, lambda uow: drafts.find(uow, Step.CONFIRM))
    assert (held.unit_code, held.round_key, held.learners) == ("LY-JY", "zone1", "1")
    with pytest.raises(ValueError):
        run(any_ctx, lambda uow: drafts.advance(uow, Step.DAY, Step.CONFIRM))
    done = run(any_ctx, drafts.confirm)
    assert done.plan.count == 1
    assert refusal_of(any_ctx, drafts.confirm) == "register_stale"
    assert registrations(any_ctx) == 1 and stored(any_ctx) == []


def test_the_batched_lookup_names_only_owners_whose_draft_waits_at_the_step(any_ctx, clock):
    """``waiting_at``, the one query for a burst of private texts: the owner in its own chat,
    at that step, not expired; nobody else asked, nobody not asked."""
    for uid in (UID, UID + 1, UID + 2):
        run(any_ctx, lambda uow: drafts.start(uow, "LY-JY"), uid=uid)
    for uid in (UID, UID + 2):  # these two wait for the learners; UID + 1 for its round
        moved = (Step.ROUND, Step.LEARNERS)
        run(
            any_ctx,
            lambda uow, moved=moved: drafts.advance(uow, *moved, round_key="zone1"),
            uid=uid,
        )
    asked = frozenset({(UID, UID), (UID + 1, UID + 1), (UID, -100123), (UID + 9, UID + 9)})

    def waiting(now: dt.datetime) -> dict[tuple[int, int], bool]:
        with any_ctx.db.engine.connect() as connection:
            return drafts.waiting_at(connection, asked, Step.LEARNERS, now)

    assert waiting(clock.now()) == {(UID, UID): True}  # UID + 2 waits too, but was not asked
    assert waiting(clock.now() + drafts.EXPIRY + dt.timedelta(seconds=1)) == {}
    with any_ctx.db.engine.connect() as connection:
        assert drafts.waiting_at(connection, frozenset(), Step.LEARNERS, clock.now()) == {}


def test_expiry_and_starting_over(any_ctx, clock):
    factories.tree(any_ctx)
    factories.bind(any_ctx, "LY-JY", "unit", UID)
    run(any_ctx, lambda uow: drafts.open_draft(uow, None))
    run(any_ctx, lambda uow: drafts.choose_round(uow, "zone1"))
    clock.freeze(clock.now() + drafts.EXPIRY + dt.timedelta(seconds=1))
    assert run(any_ctx, lambda uow: drafts.find(uow, Step.DAY)) is None
    first_day = schedule.find_round(any_ctx.config, "zone1").exam.start
    assert refusal_of(any_ctx, lambda uow: drafts.choose_day(uow, first_day)) == "register_stale"
    run(any_ctx, lambda uow: drafts.open_draft(uow, None))  # replaces the expired one
    assert [(d.step, d.round_key) for d in stored(any_ctx)] == [(Step.ROUND, None)]
    assert run(any_ctx, drafts.discard) is True
    assert run(any_ctx, drafts.discard) is False and stored(any_ctx) == []


def race(ctx, work, times: int = 2) -> list[str]:
    """``work`` in ``times`` units of work at once for the same user: what each got."""
    outcomes: list[str] = []
    barrier = threading.Barrier(times)

    def attempt():
        barrier.wait()
        try:
            run(ctx, work)
            outcomes.append("ok")
        except Refused as refusal:
            outcomes.append(refusal.key)

    threads = [threading.Thread(target=attempt) for _ in range(times)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sorted(outcomes)


def test_concurrent_presses_move_and_claim_once(any_ctx):
    """Two instances handling the same press at the same moment: one moves the draft, the
    other finds it moved; of two 确认, one registers."""
    factories.tree(any_ctx)
    factories.bind(any_ctx, "LY-JY", "unit", UID)
    run(any_ctx, lambda uow: drafts.open_draft(uow, None))
    assert race(any_ctx, lambda uow: drafts.choose_round(uow, "zone1")) == ["ok", "register_stale"]
    first_day = schedule.find_round(any_ctx.config, "zone1").exam.start
    run(any_ctx, lambda uow: drafts.choose_day(uow, first_day))
    run(any_ctx, lambda uow: drafts.choose_session(uow, "09:00"))
    run(any_ctx, lambda uow: drafts.give_learners(uow, "1"))
    assert race(any_ctx, drafts.confirm) == ["ok", "register_stale"]
    assert registrations(any_ctx) == 1 and audits(any_ctx, "registration.create") == 1
