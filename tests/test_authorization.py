"""Authorization (issue 9): every administrator command from people who may not use it, forged
button data from people who did not start the flow, and stale buttons after /revoke.

The command table is driven by the catalogue (handlers.commands.COMMANDS, roles not None): a new
administrator command fails test_every_admin_command_is_in_the_table until it is given
arguments here, and every CallbackQueryHandler must be reached by a forged press.

Each refusal is the exact Chinese text of refused.j2 for the expected reason, the only thing
sent, and nothing in the database changes (every row of every table is compared).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlmodel import select

from bot.core.errors import Refused
from bot.core.uow import Origin
from bot.exemptions.models import ExemptionFiling
from bot.org.models import Administrator, Role, TelegramBinding
from bot.platform.models import TaskKind
from bot.platform.tasks import TaskRequest, submit
from bot.registration.models import Registration, SeatProposal, SeatSlot
from bot.roster.models import PendingAction
from handlers import commands, platform
from tests import factories
from tests.hostile import (
    Sender,
    callback_patterns,
    callback_update,
    changes,
    check_calls,
    message_update,
    snapshot,
)

# Who is who: every account is bound through a real invite.
CITY, LY, HD, UNIT = "市办", "耒阳县", "衡东县", "教育局"  # city, two counties, a unit of 耒阳市
CENTRAL, BANK, NOBODY = "统战部", "宣传部", "路人"  # centralized-exam unit, question bank, unbound
ADMIN_COMMANDS = [c for c in commands.COMMANDS if c.roles is not None]
MAKEUP_OVER = dt.datetime(2022, 11, 2, 10)  # /affected checks its scope once the makeup is over


@dataclass(frozen=True)
class Row:
    """How an allowed administrator would use the command. ``scoped``: the arguments name a
    learner, unit or filing under 耒阳市 (so 衡东县's administrator must be refused)."""

    args: str = ""
    scoped: bool = False
    at: dt.datetime | None = None


TABLE: dict[str, Row] = {
    "whoami": Row(),
    "category": Row("LY-JY"),
    "consent": Row("LY-JY"),
    "allow_zone": Row("市委统战部"),
    "resetpw": Row("ly1zhang", scoped=True),
    "transfer": Row("sfjwang LY-JY-1", scoped=True),
    "revoke": Row("{unit_admin}"),
    "audit": Row(),
    "register": Row("LY-JY", scoped=True),
    "myreg": Row(),
    "seats": Row(),
    "seats_book": Row("5"),
    "seats_cancel": Row(),
    "seats_confirm": Row(),
    "template": Row(),
    "questions": Row(),
    "exempt": Row("ly1zhang 产假", scoped=True),
    "exempt_review": Row("{filing}", scoped=True),
    "exempt_approve": Row("{filing}", scoped=True),
    "exempt_file": Row("{filing}", scoped=True),
    "exempt_reject": Row("{filing} 材料不全", scoped=True),
    "exempt_revoke": Row("{filing} 抽查不符", scoped=True),
    "exempt_list": Row(),
    "plan": Row("6 9月20日、9月21日"),
    "plans": Row(),
    "status": Row(),
    "export": Row(),
    "remind_add": Row("2022-09-15 9:00 请各单位核对报名"),
    "remind_pause": Row("{reminder}"),
    "remind_resume": Row("{reminder}"),
    "results": Row(),
    "results_export": Row(),
    "makeup_list": Row("LY-JY", scoped=True),
    "affected": Row("LY-JY", scoped=True, at=MAKEUP_OVER),
    "tasks": Row(),
    "task_fail": Row("abcdef12 材料不全"),
    "units": Row("耒阳"),
    "find": Row("ly1zhang"),
}


def test_every_admin_command_is_in_the_table():
    names = {c.name for c in ADMIN_COMMANDS}
    assert names - TABLE.keys() == set(), "new administrator command: add it to TABLE"
    assert TABLE.keys() - names == set(), "TABLE names a command the catalogue no longer has"


@pytest.fixture
def world(bot, ctx):
    factories.tree(ctx)
    config = ctx.config
    for name, code, role in [
        (CITY, "city", "city"),
        (LY, "LY", "county"),
        (HD, "HD", "county"),
        (UNIT, "LY-JY", "unit"),
        (CENTRAL, config.centralized.units[0], "unit"),
        (BANK, config.question_bank[0].department, "unit"),
    ]:
        factories.bind(ctx, code, role, bot.user_id(name))
    bot.user_id(NOBODY)
    return bot


async def open_filing(bot) -> int:
    await bot.send("/exempt ly1zhang 产假", user=UNIT)
    with bot.ctx.db.session() as s:
        return s.exec(select(ExemptionFiling)).one().id


def reminder_id(bot) -> str:
    from reminders.models import StoredReminder

    with bot.ctx.db.session() as s:
        return s.exec(select(StoredReminder).order_by(StoredReminder.id)).first().id


def allowed_admin(command: commands.Command) -> str:
    """The administrator the command is meant for (scoped arguments are under 耒阳市)."""
    if command.roles in (commands.CITY, commands.OPERATORS):
        return CITY
    return LY


def refusal(bot, key: str, command: str, **params) -> str:
    return Refused(key, command=f"/{command}", **params).render(c=bot.ctx.config)


async def refused(bot, value: str, sender: Sender, expected: set[str], label: str = "") -> str:
    """Send ``value``; exactly one message comes back, one of ``expected``; nothing changes."""
    before = snapshot(bot.ctx)
    mark = bot.request.mark()
    await bot._process(message_update(bot, value, sender))
    sent = check_calls(bot.request.calls[mark:])
    assert changes(before, snapshot(bot.ctx)) == {}, (label, value)
    assert [s.method for s in sent] == ["sendMessage"], (label, value, sent)
    assert sent[0].raw in expected, (label, value, sent[0].raw)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in sent[0].plain)
    return sent[0].raw


def callers(command: commands.Command, row: Row) -> list[tuple[str, Sender, set[str]]]:
    """(label, who, refusal keys) for everyone who must be refused this command."""
    roles = command.roles
    cases = [
        ("unbound user", Sender(NOBODY), {"not_bound"}),
        ("anonymous group admin", Sender(None, group=True, anonymous=True), {"private_only"}),
        ("in the group", Sender(allowed_admin(command), group=True), {"private_only"}),
    ]
    not_theirs = {"operator_only"} if roles == commands.OPERATORS else {"city_only"}
    if Role.COUNTY not in roles:
        cases.append(("another county's admin", Sender(HD), not_theirs))
    elif row.scoped:
        # a learner outside one's scope, or a unit outside it, whichever the command names
        scope_keys = {"out_of_scope", "learner_not_in_scope", "unit_out_of_scope"}
        cases.append(("another county's admin", Sender(HD), scope_keys))
    if Role.UNIT not in roles:
        keys = not_theirs if roles in (commands.CITY, commands.OPERATORS) else {"plan_county_only"}
        cases.append(("a unit admin", Sender(UNIT), keys))
    return cases


@pytest.mark.parametrize("command", ADMIN_COMMANDS, ids=lambda c: c.name)
async def test_admin_command_refused_to_the_wrong_people(world, clock, command):
    bot = world
    row = TABLE[command.name]
    if row.at is not None:
        clock.freeze(row.at)
    args = row.args.format(
        unit_admin=bot.user_id(UNIT),
        filing=await open_filing(bot) if "{filing}" in row.args else "",
        reminder=reminder_id(bot),
    )
    value = f"/{command.name} {args}".strip()
    account = args.split()[0] if args else ""  # a learner's account, where the command names one
    for label, sender, keys in callers(command, row):
        expected = {refusal(bot, key, command.name, account=account) for key in keys}
        await refused(bot, value, sender, expected, label)
    # the control: the administrator it is meant for is not refused for who they are
    mark = bot.request.mark()
    await bot._process(message_update(bot, value, Sender(allowed_admin(command))))
    sent = check_calls(bot.request.calls[mark:])
    assert sent, value
    who_refusals = {
        refusal(bot, key, command.name, account=account)
        for key in (
            "not_bound",
            "private_only",
            "anonymous",
            "city_only",
            "operator_only",
            "out_of_scope",
            "learner_not_in_scope",
            "unit_out_of_scope",
        )
    }
    assert not who_refusals & {s.raw for s in sent}, (value, sent)


async def test_every_admin_command_is_private_only(world):
    """Nothing an administrator does happens in the group, whoever asks."""
    bot = world
    for command in ADMIN_COMMANDS:
        for name in [CITY, LY, UNIT, NOBODY]:
            expected = {refusal(bot, "private_only", command.name)}
            await refused(bot, f"/{command.name}", Sender(name, group=True), expected)


# --- forged button data -------------------------------------------------------------------------

STALE = "这一步已失效，请重新发送 /register。"


async def as_user(bot, name: str, *steps) -> list[str]:
    """Run sandbox steps (text to send, or a button number to press) as ``name``."""
    saved, bot.user = bot.user, name
    out: list[str] = []
    try:
        for step in steps:
            out += await (bot.press(step) if isinstance(step, int) else bot.send(step))
    finally:
        bot.user = saved
    return out


async def registration_of_the_unit(bot) -> int:
    """耒阳市教育局 registers 1 of its 2 eligible learners for the first zone exam, 9:00 on its
    first day (a head count is checked against the roster)."""
    await as_user(bot, UNIT, "/register", 1, 1)
    session = [text for text, _ in bot.last_buttons[1]].index("9:00") + 1
    out = await as_user(bot, UNIT, session, "1", 1)
    assert "已提交报名" in "".join(out), out
    # Deliver its platform task now, so that its result message does not land inside the
    # forged-button checks that follow (they expect no change and one message each).
    await platform.run_once(bot.app)
    bot.drain()
    with bot.ctx.db.session() as s:
        return s.exec(select(Registration)).one().id


async def seat_proposal(bot) -> int:
    """市委统战部 asks for 5 seats and chooses the first slot: a plan waiting for 确认预约."""
    await as_user(bot, CENTRAL, "/seats_book 5", 1)
    with bot.ctx.db.session() as s:
        return s.exec(select(SeatProposal)).one().id


async def pending_reset(bot) -> int:
    await bot.send("/resetpw ly1zhang", user=UNIT)
    with bot.ctx.db.session() as s:
        return s.exec(select(PendingAction)).one().id


def platform_task(bot) -> str:
    """A transfer task 耒阳市教育局's administrator submitted, waiting for the origin unit's
    approval (so that no worker delivers it while others press its buttons)."""
    uid = bot.user_id(UNIT)
    request = TaskRequest(TaskKind.TRANSFER, "sfjwang", "LY-JY", needs_approval=True)

    def work(uow) -> str:
        uow.authorize()
        return submit(uow, request).id

    return bot.ctx.run_sync(work, Origin.telegram(uid, uid))


@pytest.fixture
async def flows(world):
    """Flows 耒阳市教育局's administrator started: a registration, a pending password reset, a
    platform task."""
    bot = world
    with bot.ctx.db.session() as s:
        slot = s.exec(select(SeatSlot).order_by(SeatSlot.id)).first().id
    bot.ids = {
        "reg": await registration_of_the_unit(bot),
        "action": await pending_reset(bot),
        "task": platform_task(bot),
        "slot": slot,
        "proposal": await seat_proposal(bot),
        "faq": next(iter(bot.ctx.faq.by_id)),
        "day": "20220919",
        "time": "0900",
        **unit_admin_binding(bot),
    }
    return bot


def unit_admin_binding(bot) -> dict[str, int]:
    """耒阳市教育局's administrator: the newest binding id, their Telegram id and unit id (what
    a /revoke confirm button carries)."""
    with bot.ctx.db.session() as s:
        binding = s.exec(select(TelegramBinding).order_by(TelegramBinding.id.desc())).first()
        admin = s.exec(
            select(Administrator)
            .join(TelegramBinding, TelegramBinding.admin_id == Administrator.id)
            .where(TelegramBinding.telegram_user_id == bot.user_id(UNIT))
        ).first()
    return {"binding": binding.id, "unit_admin": bot.user_id(UNIT), "unit": admin.unit_id}


def unit_refusal(bot, key: str, who: str) -> str:
    return Refused(key, unit=who).render(c=bot.ctx.config)


# data → {presser: what they get}. A key of refused.j2, STALE (the answer to a button outside its
# conversation) or None (a button anyone may press: it shows public information or nothing).
FORGED: dict[str, dict[str, str | None]] = {
    "act:ok:{action}": {NOBODY: "not_bound", HD: "action_unknown", CITY: "action_unknown"},
    "act:no:{action}": {NOBODY: "not_bound", HD: "action_unknown", CITY: "action_unknown"},
    "rg:x:{reg}": {NOBODY: "not_bound", HD: "unit_out_of_scope", CENTRAL: "unit_out_of_scope"},
    "rg:xy:{reg}": {NOBODY: "not_bound", HD: "unit_out_of_scope", CENTRAL: "unit_out_of_scope"},
    "rg:xn:{reg}": {NOBODY: None, HD: None},
    "rg:c:{reg}": {NOBODY: "not_bound", HD: "unit_out_of_scope", CENTRAL: "unit_out_of_scope"},
    "rg:cs:{reg}:{day}:1000": {
        NOBODY: "not_bound",
        HD: "unit_out_of_scope",
        CENTRAL: "unit_out_of_scope",
    },
    "rg:cd:{reg}:{day}": {NOBODY: "not_bound", HD: "unit_out_of_scope"},
    "rg:r:zone1": {NOBODY: STALE, HD: STALE},
    "rg:d:{day}": {NOBODY: STALE, HD: STALE},
    "rg:s:{time}": {NOBODY: STALE, HD: STALE},
    "rg:ok": {NOBODY: STALE, HD: STALE, CITY: STALE},
    "rg:no": {NOBODY: STALE, HD: STALE},
    # A seat button carries only the proposal's id: it is its proposer's alone, and the old
    # shape st:ok:SLOT:N (no proposal behind it) books nothing for anyone.
    "st:p:{proposal}:{slot}": {NOBODY: "not_bound", HD: "action_unknown", UNIT: "action_unknown"},
    "st:ok:{proposal}": {NOBODY: "not_bound", HD: "action_unknown", UNIT: "action_unknown"},
    "st:no:{proposal}": {NOBODY: "not_bound", HD: "action_unknown", UNIT: "action_unknown"},
    "st:ok:{slot}:5": {
        NOBODY: "action_unknown",
        HD: "action_unknown",
        UNIT: "action_unknown",
        CENTRAL: "action_unknown",
    },
    "st:rl:1:1": {NOBODY: "not_bound", HD: "not_centralized", UNIT: "not_centralized"},
    "st:kx": {NOBODY: None, HD: None},
    # A makeup-list page names a unit by id (here 耒阳市教育局's): shown only within scope.
    "mk:{unit}:0": {NOBODY: "not_bound", HD: "unit_out_of_scope", CENTRAL: "unit_out_of_scope"},
    # An /affected page likewise; before the makeup is over it shows nobody (its scope after
    # the makeup: tests/test_results_tally.py).
    "af:{unit}:0": {NOBODY: "not_bound", HD: None, CENTRAL: None},
    "st:cf:1:1": {NOBODY: "not_bound", HD: "city_only", UNIT: "city_only", CENTRAL: "city_only"},
    "st:cx": {NOBODY: None, HD: None},
    "faq:{faq}": {NOBODY: None, HD: None},
    "rv:ok:{binding}:u{unit_admin}": {NOBODY: "not_bound", HD: "city_only", UNIT: "city_only"},
    "rv:ok:{binding}:n{unit}": {NOBODY: "not_bound", HD: "city_only", UNIT: "city_only"},
    "rv:ok:1:u1": {NOBODY: "not_bound", HD: "city_only", CITY: "action_done"},
    "rv:ok:x:q1": {NOBODY: "action_unknown", HD: "action_unknown", CITY: "action_unknown"},
    "rv:no": {NOBODY: None, HD: None, CITY: None},
    "tk:d:{task}": {
        NOBODY: "not_bound",
        HD: "operator_only",
        UNIT: "operator_only",
        CITY: "tasks_delivered_by_bot",  # the sandbox delivers tasks itself
    },
    "tk:f:{task}": {
        NOBODY: "not_bound",
        HD: "operator_only",
        UNIT: "operator_only",
        CITY: "tasks_delivered_by_bot",
    },
}


def test_every_button_handler_is_forged(bot):
    ids = {"action": 1, "reg": 1, "slot": 1, "faq": "x", "day": "20220919", "time": "0900"}
    ids["proposal"] = 1
    ids |= {"binding": 1, "unit_admin": 1, "unit": 1}
    ids["task"] = "0" * 32
    forged = [data.format(**ids) for data in FORGED]
    for pattern in callback_patterns(bot.app):
        assert pattern is None or any(pattern.match(d) for d in forged), (
            f"no forged press reaches the handler for {pattern.pattern}: add one to FORGED"
        )


async def press(bot, data: str, sender: Sender) -> tuple[list[str], dict]:
    """Press a button with ``data`` on a bot message in the sender's chat; what was shown
    (callback answers and edited texts) and what changed in the database."""
    before = snapshot(bot.ctx)
    mark = bot.request.mark()
    await bot._process(callback_update(bot, data, sender))
    calls = bot.request.calls[mark:]
    check_calls(calls)
    shown = [
        str(c.params.get("text") or "")
        for c in calls
        if c.method in ("answerCallbackQuery", "editMessageText", "sendMessage")
    ]
    return [s for s in shown if s], changes(before, snapshot(bot.ctx))


@pytest.mark.parametrize("template", list(FORGED))
async def test_forged_button_data(flows, template):
    bot = flows
    data = template.format(**bot.ids)
    for who, outcome in FORGED[template].items():
        shown, changed = await press(bot, data, Sender(who))
        assert changed == {}, (data, who, changed)
        if outcome == STALE:
            assert shown == [STALE], (data, who, shown)
        elif outcome is not None:
            params = {"unit": bot.ctx.config.campaign.city_office} if who == CITY else {}
            wanted = {
                Refused(outcome, **params).render(c=bot.ctx.config),
                unit_refusal(bot, outcome, {HD: "衡东县", UNIT: "耒阳市教育局"}.get(who, "")),
            }
            assert wanted & set(shown), (data, who, shown)
        text = "\n".join(shown)
        assert "张" not in text and "ly1zhang" not in text, (data, who, shown)


async def test_a_flow_in_progress_is_not_finished_by_someone_else(flows):
    """耒阳市教育局's administrator is at the confirm step; others press its confirm button (in
    their own chats and in the group): nothing is registered."""
    bot = flows
    await as_user(bot, UNIT, "/register", 1, 1, 2, "1")
    with bot.ctx.db.session() as s:
        registered = len(s.exec(select(Registration)).all())
    for who in [NOBODY, HD, LY, CITY]:
        for sender in [Sender(who), Sender(who, group=True)]:
            shown, changed = await press(bot, "rg:ok", sender)
            assert changed == {} and shown == [STALE], (who, shown)
    out = await as_user(bot, UNIT, 1)  # the owner still can
    assert "已提交报名" in "".join(out)
    with bot.ctx.db.session() as s:
        assert len(s.exec(select(Registration)).all()) == registered + 1


# --- stale buttons after /revoke -------------------------------------------------------------


async def revoke_unit_admin(bot) -> None:
    out = await as_user(bot, CITY, f"/revoke {bot.user_id(UNIT)}", 1)  # asks first: confirm
    assert "已解除 1 个绑定" in out[-1], out


async def test_buttons_of_a_revoked_administrator_do_nothing(flows):
    bot = flows
    ids = bot.ids
    await as_user(bot, UNIT, "/register", 1, 1, 2, "1")  # a conversation at its confirm step
    await revoke_unit_admin(bot)
    not_bound = Refused("not_bound").render(c=bot.ctx.config)
    for data in [
        f"act:ok:{ids['action']}",
        f"act:no:{ids['action']}",
        f"rg:x:{ids['reg']}",
        f"rg:xy:{ids['reg']}",
        f"rg:c:{ids['reg']}",
        f"rg:cs:{ids['reg']}:{ids['day']}:1000",
        "rg:ok",
    ]:
        shown, changed = await press(bot, data, Sender(UNIT))
        assert changed == {}, (data, changed)
        assert not_bound in shown, (data, shown)
    with bot.ctx.db.session() as s:
        assert s.get(Registration, ids["reg"]).status == "active"
        assert s.get(PendingAction, ids["action"]).status == "pending"


async def test_seat_buttons_of_a_revoked_administrator_do_nothing(world):
    bot = world
    with bot.ctx.db.session() as s:
        slot = s.exec(select(SeatSlot).order_by(SeatSlot.id)).first().id
    await as_user(bot, CENTRAL, "/seats_book 5", 1)  # the split proposal, with 确认预约
    with bot.ctx.db.session() as s:
        proposal = s.exec(select(SeatProposal)).one().id
    assert bot.last_buttons[1][0][1] == f"st:ok:{proposal}"
    out = await as_user(bot, CITY, f"/revoke {bot.user_id(CENTRAL)}", 1)
    assert "已解除 1 个绑定" in out[-1]
    for data in [f"st:ok:{proposal}", f"st:p:{proposal}:{slot}", f"st:no:{proposal}"]:
        shown, changed = await press(bot, data, Sender(CENTRAL))
        assert changed == {} and Refused("not_bound").render(c=bot.ctx.config) in shown


async def test_revoked_administrator_mid_conversation_cannot_continue(world):
    bot = world
    await as_user(bot, UNIT, "/register", 1, 1, 2)  # waiting for the number of people
    await revoke_unit_admin(bot)
    before = snapshot(bot.ctx)
    out = await as_user(bot, UNIT, "12")
    assert "还没有绑定" in "".join(out)
    assert changes(before, snapshot(bot.ctx)) == {}
    out = await as_user(bot, UNIT, "/whoami")
    assert "还没有绑定" in out[0]
