"""End to end: the centralized exam's seats over the Bot API (``python -m bot run`` against the
fake Bot API). A booking is confirmed through a server-side proposal that /seats_book made:
pressing "确认预约" again books nothing more, a forged confirm button books nothing, and a slot
that filled between the proposal and the confirmation asks the unit again instead of moving it
to another slot. /seats_cancel asks before it gives seats back."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from sqlmodel import select

from bot.context import create_context
from bot.core.config import load_config
from bot.org.models import Unit
from bot.registration.models import SeatBooking, SeatSlot
from harness.fakeapi import ApiCall, FakeBotAPI
from tests import factories
from tests.botproc import BotProcess, press, say

NOW = "2022-09-14T10:00"  # inside the centralized exam's preregistration window
ARCHIVES, UNITED_FRONT = 7101, 7102  # 市档案馆's and 市委统战部's administrators


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def bot(api, tmp_path: Path):
    """The bot, with two centralized-exam units' administrators bound."""
    ctx = create_context(load_config(), db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    factories.tree(ctx)
    codes = {
        uid: factories.invite(ctx, unit, "unit")
        for uid, unit in [
            (ARCHIVES, "市档案馆"),
            (UNITED_FRONT, "市委统战部"),
        ]
    }
    ctx.db.dispose()
    process = BotProcess(api, tmp_path, now=NOW)
    try:
        process.wait_polling()
        for uid, code in codes.items():
            assert "绑定成功" in say(api, f"/bind {code}", uid).params["text"]
        yield process
    finally:
        process.stop()


def bookings(tmp_path: Path) -> dict[str, list[tuple[int, int, str]]]:
    """unit name → [(slot id, seats, status)] of every booking, from the database."""
    check = create_context(load_config(), db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        with check.db.session() as s:
            rows = s.exec(
                select(SeatBooking, Unit)
                .join(Unit, Unit.id == SeatBooking.unit_id)
                .order_by(SeatBooking.id)
            ).all()
            found: dict[str, list[tuple[int, int, str]]] = {}
            for booking, unit in rows:
                found.setdefault(unit.name, []).append(
                    (booking.slot_id, booking.seats, booking.status)
                )
            return found
    finally:
        check.db.dispose()


def used(tmp_path: Path) -> int:
    check = create_context(load_config(), db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        with check.db.session() as s:
            return sum(slot.used for slot in s.exec(select(SeatSlot)))
    finally:
        check.db.dispose()


def datas(call: ApiCall) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def plan_for(api: FakeBotAPI, uid: int, seats: int) -> ApiCall:
    """/seats_book N and the first slot: the edited message showing the plan, with 确认预约."""
    offer = say(api, f"/seats_book {seats}", uid)
    assert "请选择场次" in offer.params["text"], offer.params["text"]
    plan = press(api, offer, 0, uid)
    assert "确认预约" in str(plan.params["reply_markup"]), plan.params
    return plan


def test_pressing_confirm_three_times_books_once(api, bot, tmp_path):
    plan = plan_for(api, ARCHIVES, 30)
    (ok, _no) = datas(plan)
    assert ok.count(":") == 2, ok  # st:ok:PROPOSAL: the button carries only the proposal's id
    mark = api.mark()
    for _ in range(3):  # faster than the edit that removes the button
        api.press_button(plan.result, ok, user_id=ARCHIVES, check=False)
    api.wait_for_call(
        "editMessageText", lambda c: "已预约" in c.params["text"], after=mark, timeout=20
    )
    bot.wait_until(
        lambda: len(api.calls_of("answerCallbackQuery", after=mark)) >= 3, 20, "three answers"
    )
    time.sleep(0.5)
    assert bookings(tmp_path) == {"市档案馆": [(1, 30, "pre")]}
    assert used(tmp_path) == 30
    edits = [c.params["text"] for c in api.calls_of("editMessageText", after=mark)]
    assert all("已预约" in text for text in edits), edits  # the message keeps the booking
    assert sum("确认过了" not in text for text in edits) == 1, edits  # the repeats say so


def test_a_forged_confirmation_books_nothing(api, bot, tmp_path):
    """No /seats_book before it: the old shape st:ok:SLOT:N and a proposal id that does not
    exist (or is another administrator's) book nothing."""
    start = say(api, "/seats", ARCHIVES)
    for data in ["st:ok:3:80", "st:ok:1", "st:ok:999"]:
        mark = api.mark()
        api.press_button(start.result, data, user_id=ARCHIVES, check=False)
        api.wait_for_call("answerCallbackQuery", after=mark, timeout=20)
    plan = plan_for(api, UNITED_FRONT, 20)  # someone else's proposal
    start = say(api, "/seats", ARCHIVES)  # a fresh message (an edit to the same text fails)
    mark = api.mark()
    api.press_button(start.result, datas(plan)[0], user_id=ARCHIVES, check=False)
    forged = api.wait_for_call("editMessageText", after=mark, timeout=20)
    assert "无效或不属于您" in forged.params["text"], forged.params["text"]
    time.sleep(0.5)
    assert bookings(tmp_path) == {} and used(tmp_path) == 0


def test_a_slot_filled_in_between_asks_again(api, bot, tmp_path):
    """市档案馆 is shown 30 seats in the first slot; 市委统战部 takes all 80 of it before
    市档案馆 confirms: 市档案馆 is asked to choose again (the slots that have seats), not booked
    into the next slot silently; its new choice books."""
    mine = plan_for(api, ARCHIVES, 30)
    theirs = plan_for(api, UNITED_FRONT, 80)
    assert "已预约" in press(api, theirs, 0, UNITED_FRONT).params["text"]
    again = press(api, mine, 0, ARCHIVES)
    assert "已预约" not in again.params["text"], again.params["text"]
    assert "请选择场次" in again.params["text"], again.params["text"]
    choices = datas(again)
    assert choices and all(d.startswith("st:p:") for d in choices), choices
    assert bookings(tmp_path) == {"市委统战部": [(1, 80, "pre")]}
    plan = press(api, again, 0, ARCHIVES)  # the first slot with seats left: the second one
    assert "已预约" in press(api, plan, 0, ARCHIVES).params["text"]
    assert bookings(tmp_path) == {"市委统战部": [(1, 80, "pre")], "市档案馆": [(2, 30, "pre")]}


def test_seats_cancel_asks_first(api, bot, tmp_path):
    plan = plan_for(api, ARCHIVES, 30)
    press(api, plan, 0, ARCHIVES)
    ask = say(api, "/seats_cancel", ARCHIVES)
    assert "30" in ask.params["text"] and len(datas(ask)) == 2
    assert bookings(tmp_path) == {"市档案馆": [(1, 30, "pre")]}  # asking changes nothing
    kept = press(api, ask, 1, ARCHIVES)  # 不退回
    assert "未退回" in kept.params["text"]
    assert bookings(tmp_path) == {"市档案馆": [(1, 30, "pre")]}
    ask = say(api, "/seats_cancel", ARCHIVES)
    mark = api.mark()
    for _ in range(2):
        api.press_button(ask.result, datas(ask)[0], user_id=ARCHIVES, check=False)
    api.wait_for_call(
        "editMessageText", lambda c: "已退回" in c.params["text"], after=mark, timeout=20
    )
    bot.wait_until(
        lambda: len(api.calls_of("answerCallbackQuery", after=mark)) >= 2, 20, "two answers"
    )
    assert bookings(tmp_path) == {"市档案馆": [(1, 30, "cancelled")]} and used(tmp_path) == 0


def test_proposals_are_kept_on_the_server(api, bot, tmp_path):
    """/seats_book writes the proposal (unit, count, proposer, expiry) the buttons refer to."""
    from bot.registration.models import SeatProposal

    plan_for(api, ARCHIVES, 12)
    check = create_context(load_config(), db_url=f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        with check.db.session() as s:
            (proposal,) = s.exec(select(SeatProposal)).all()
            assert (proposal.seats, proposal.telegram_user_id, proposal.status) == (
                12,
                ARCHIVES,
                "pending",
            )
            assert proposal.expires_at > proposal.created_at
    finally:
        check.db.dispose()
