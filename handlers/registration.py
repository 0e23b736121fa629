"""Exam registration in private chat: /register (a conversation with inline keyboards) and
/myreg (list, change, cancel); the centralized exam's seats are ``handlers.seats`` (registered
from here, listed in COMMANDS here).

Thin adapters: each update is one unit of work (``act``) on a service of ``bot.registration``
(where every rule lives), rendered by a template. /register's state is a draft in the database
(``bot.registration.drafts``), not the process: plain handlers read and move it, so a restart
resumes the conversation and any instance behind the webhook serves its next step. The typed
learner list is taken only when the sender's draft waits for it; any other private text goes on
to the FAQ. /myreg's buttons carry what they act on in their data (stateless), and the service
checks the presser's scope again on every press. Cancelling a registration asks first; the
confirmation claims it once. The services are told what the gateway is like
(``queues_for_operator``) and decide whether the platform is asked; a unit of work that
submitted a platform task starts its delivery at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core import rounds
from bot.core.batch import Batcher
from bot.core.config import OnlineSession
from bot.core.errors import Refused
from bot.core.render import hm, render
from bot.core.rounds import ExamRound
from bot.core.uow import UnitOfWork
from bot.registration import changes, drafts, schedule
from handlers import platform, seats
from handlers.commands import ADMINS, CITY, Command
from handlers.common import (
    act,
    app_ctx,
    chat_id_of,
    edit_message,
    private_only,
    refuse,
    reply,
    send_text,
    sender_id,
)
from handlers.registration_ui import button_label, is_id, markup_of, render_text

COMMANDS = [
    Command("register", roles=ADMINS),
    Command("myreg", roles=ADMINS),
    Command("seats", roles=ADMINS),
    Command("seats_book", roles=ADMINS),
    Command("seats_cancel", roles=ADMINS),
    Command("seats_confirm", roles=CITY),
]

T = TypeVar("T")

# The group of the typed learner list and /cancel: after the operator's task-failure reason
# (handlers.platform_tasks, -2), before the default group, where the FAQ answers free text.
DRAFT_GROUP = -1
PRIVATE_TEXT = (
    filters.UpdateType.MESSAGES & filters.ChatType.PRIVATE & filters.TEXT & ~filters.COMMAND
)


def _days_keyboard(item: ExamRound, prefix: str) -> InlineKeyboardMarkup:
    days = [(render("day_label", day=d), f"{prefix}{d:%Y%m%d}") for d in item.exam.days()]
    return markup_of([days[i : i + 3] for i in range(0, len(days), 3)])


def _sessions_keyboard(sessions: list[OnlineSession], prefix: str) -> InlineKeyboardMarkup:
    rows: dict[str, list[tuple[str, str]]] = {}
    for s in sessions:
        rows.setdefault(s.period, []).append((hm(s.time), f"{prefix}{s.time:%H%M}"))
    return markup_of(list(rows.values()))


def _parse_day(text: str) -> dt.date:
    try:
        return dt.datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise Refused("action_unknown") from None


def _parse_time(text: str) -> str:
    try:
        return dt.datetime.strptime(text, "%H%M").strftime("%H:%M")
    except ValueError:
        raise Refused("action_unknown") from None


# --- /register: plain handlers on the draft the database keeps ---------------------------------


def _queues_for_operator(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """What the services need to know of the gateway (they decide what follows from it)."""
    return app_ctx(context).gateway.queues_for_operator


def _kick_if(context: ContextTypes.DEFAULT_TYPE, task_id: str | None) -> None:
    if task_id is not None:
        platform.kick(context.application)


@private_only("register")
async def register_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    unit_code = context.args[0] if context.args else None
    opening = await act(update, context, lambda uow: drafts.open_draft(uow, unit_code))
    if not opening.open_rounds:
        await reply(
            update,
            context,
            "register_closed",
            rounds=opening.rounds,
            today=opening.today,
            states=opening.states,
            closing=opening.closing,
        )
        return
    if not opening.allowed:  # open rounds, none of them this unit's exam (said why)
        await reply(
            update, context, "register_round", unit=opening.unit.name, rounds=[], opening=opening
        )
        return
    config = app_ctx(context).config
    choices = [[(rounds.name(config, r.key), f"rg:r:{r.key}")] for r in opening.allowed]
    await reply(
        update,
        context,
        "register_round",
        unit=opening.unit.name,
        rounds=opening.allowed,
        opening=opening,
        keyboard=markup_of(choices),
    )


async def _stale(query: CallbackQuery) -> None:
    """A button of no draft waiting for it (answered, nothing done)."""
    await query.answer(render("register_stale"))


async def _end_with(
    update: Update, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, refusal: Refused
) -> None:
    """A step refused: the draft ends (as a conversation did) and the refusal replaces the
    question."""
    await act(update, context, drafts.discard)
    await query.answer()
    await edit_message(query, refusal.render(c=app_ctx(context).config))


async def _step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, work: Callable[[UnitOfWork], T]
) -> T | None:
    """One step of the draft for a pressed button; None when it was answered already (stale,
    or refused: the draft ended)."""
    query = update.callback_query
    assert query is not None
    try:
        return await act(update, context, work)
    except drafts.Stale:
        await _stale(query)
    except Refused as refusal:
        await _end_with(update, context, query, refusal)
    return None


async def choose_round(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    key = (query.data or "").removeprefix("rg:r:")
    chosen = await _step(update, context, lambda uow: drafts.choose_round(uow, key))
    if chosen is None:
        return
    await query.answer()
    if chosen.learners is not None:  # the platform schedules it: on to the learners
        return await _ask_learners(context, query, chosen.learners)
    text = render_text(context, "register_day", round=chosen.round, unit=chosen.unit_name)
    await edit_message(query, text, _days_keyboard(chosen.round, "rg:d:"))


async def choose_day(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        day = _parse_day((query.data or "").removeprefix("rg:d:"))
    except Refused:
        return await _stale(query)
    chosen = await _step(update, context, lambda uow: drafts.choose_day(uow, day))
    if chosen is None:
        return
    await query.answer()
    text = render_text(context, "register_session", day=day, sessions=chosen.sessions)
    await edit_message(query, text, _sessions_keyboard(chosen.sessions, "rg:s:"))


async def choose_session(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        time = _parse_time((query.data or "").removeprefix("rg:s:"))
    except Refused:
        return await _stale(query)
    prompt = await _step(update, context, lambda uow: drafts.choose_session(uow, time))
    if prompt is None:
        return
    await query.answer()
    await _ask_learners(context, query, prompt)


async def _ask_learners(
    context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, prompt: drafts.LearnersPrompt
) -> None:
    """The learner step, with the unit's makeup list for the makeup."""
    text = render_text(
        context,
        "register_learners",
        round=prompt.round,
        day=prompt.day,
        time=prompt.time,
        makeup=prompt.makeup,
    )
    await edit_message(query, text)


WAITING_KEY = "drafts_waiting"  # bot_data: the batched "is a draft waiting?" lookup


def _waiting_for_learners(
    context: ContextTypes.DEFAULT_TYPE,
) -> Batcher[tuple[int, int], bool]:
    """Whether (user, chat)'s draft waits for the learner list: asked of every private text,
    so the texts of a burst are asked together, in one query off the event loop."""
    batcher: Batcher[tuple[int, int], bool] | None = context.bot_data.get(WAITING_KEY)
    if batcher is None:
        ctx = app_ctx(context)

        async def lookup(owners: frozenset[tuple[int, int]]) -> dict[tuple[int, int], bool]:
            now = ctx.now()
            step = drafts.Step.LEARNERS
            return await ctx.read(lambda c: drafts.waiting_at(c, owners, step, now))

        batcher = context.bot_data[WAITING_KEY] = Batcher(lookup)
    return batcher


async def give_learners(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Private text: the learner list when the sender's draft waits for it (the message stops
    here), otherwise nothing (the FAQ answers it). Costs the FAQ one indexed read."""
    message = update.effective_message
    if message is None:
        return
    user, chat = sender_id(update), chat_id_of(update)
    if user is None or chat is None:
        return
    if not await _waiting_for_learners(context).get((user, chat)):
        return
    typed = (message.text or "")[:5000]
    gateway = _queues_for_operator(context)
    try:
        planned = await act(update, context, lambda uow: drafts.give_learners(uow, typed, gateway))
    except drafts.Stale:
        return  # moved on meanwhile (another instance took a message): not the draft's
    except Refused as refusal:
        await refuse(update, context, refusal)
        if refusal.ends:
            await act(update, context, drafts.discard)
        else:  # let them correct the list
            await act(update, context, lambda uow: drafts.touch(uow, drafts.Step.LEARNERS))
        raise ApplicationHandlerStop from None
    keyboard = markup_of([[(button_label("register"), "rg:ok"), (button_label("cancel"), "rg:no")]])
    await reply(update, context, "register_summary", plan=planned, keyboard=keyboard)
    raise ApplicationHandlerStop


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """确认 registers once (the draft is claimed with the registration); 取消 ends the draft."""
    query = update.callback_query
    if query is None:
        return
    if query.data == "rg:no":
        ended = await act(update, context, lambda uow: drafts.discard(uow, drafts.Step.CONFIRM))
        if not ended:
            return await _stale(query)
        await query.answer()
        return await edit_message(query, render("register_cancelled"))
    gateway = _queues_for_operator(context)
    done = await _step(update, context, lambda uow: drafts.confirm(uow, gateway))
    if done is None:
        return
    await query.answer()
    await edit_message(query, render_text(context, "register_done", done=done))
    _kick_if(context, done.task_id)


async def cancel_draft(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/cancel ends the sender's draft; without one, /cancel is someone else's to answer."""
    if not await act(update, context, drafts.discard):
        return
    await send_text(update, render("register_quit"))
    raise ApplicationHandlerStop


async def _stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /register button no handler above took (a shape of data it never sends)."""
    if update.callback_query is not None:
        await _stale(update.callback_query)


# --- /myreg: list, change, cancel -----------------------------------------------------------------


@private_only("myreg")
async def myreg(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    mine = await act(update, context, changes.my_registrations)
    rows = [
        [
            (button_label("change_registration", id=i.id), f"rg:c:{i.id}"),
            (button_label("cancel_registration", id=i.id), f"rg:x:{i.id}"),
        ]
        for i in mine.items
        if i.editable
    ]
    keyboard = markup_of(rows) if rows else None
    await reply(update, context, "myreg", items=mine.items, booked=mine.booked, keyboard=keyboard)


# verb → parts of "rg:VERB:ID[:DAY[:TIME]]"
MYREG_SHAPES = {"x": 3, "xy": 3, "xn": 3, "c": 3, "cd": 4, "cs": 5}


async def on_myreg_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stateless buttons: rg:x:ID asks whether to cancel, rg:xy:ID cancels (once: the service
    claims the registration), rg:xn:ID keeps it; rg:c:ID pick a day; rg:cd:ID:DAY pick a
    session; rg:cs:ID:DAY:TIME apply the change."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    parts = (query.data or "").split(":")
    try:
        if len(parts) < 3 or MYREG_SHAPES.get(parts[1]) != len(parts) or not is_id(parts[2]):
            raise Refused("action_unknown")
        text, markup, task_id = await _myreg_step(
            update, context, parts[1], int(parts[2]), parts[3:]
        )
    except Refused as refusal:
        text, markup, task_id = refusal.render(c=app_ctx(context).config), None, None
    await edit_message(query, text, markup)
    _kick_if(context, task_id)


async def _myreg_step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str, reg_id: int, rest: list[str]
) -> tuple[str, InlineKeyboardMarkup | None, str | None]:
    """The step's text and buttons, and the platform task it submitted (if any)."""
    config = app_ctx(context).config
    gateway = _queues_for_operator(context)
    if verb == "x":
        listed = await act(update, context, lambda uow: changes.cancellation(uow, reg_id))
        keyboard = markup_of(
            [
                [
                    (button_label("confirm_cancel_registration"), f"rg:xy:{reg_id}"),
                    (button_label("keep_registration"), f"rg:xn:{reg_id}"),
                ]
            ]
        )
        return render_text(context, "myreg_cancel_confirm", item=listed), keyboard, None
    if verb == "xn":
        return render("myreg_kept"), None, None
    if verb == "xy":
        request = changes.CancelRegistration(reg_id, queues_for_operator=gateway)
        cancelled = await act(update, context, lambda uow: changes.cancel(uow, request))
        text = render_text(
            context, "myreg_cancelled", item=cancelled.item, task_id=cancelled.task_id
        )
        return text, None, cancelled.task_id
    if verb == "c":
        item = await act(update, context, lambda uow: changes.changeable(uow, reg_id))
        schedule.require_sessions(config, item)
        text = render_text(context, "register_day", round=item, unit="")
        return text, _days_keyboard(item, f"rg:cd:{reg_id}:"), None
    if verb == "cd":
        item = await act(update, context, lambda uow: changes.changeable(uow, reg_id))
        sessions = schedule.sessions(config, item)
        text = render_text(context, "register_session", day=_parse_day(rest[0]), sessions=sessions)
        return text, _sessions_keyboard(sessions, f"rg:cs:{reg_id}:{rest[0]}:"), None
    change = changes.ChangeRegistration(
        reg_id, _parse_day(rest[0]), _parse_time(rest[1]), queues_for_operator=gateway
    )
    changed = await act(update, context, lambda uow: changes.change(uow, change))
    text = render_text(context, "myreg_changed", item=changed.item, task_id=changed.task_id)
    return text, None, changed.task_id


def register(app: Application) -> None:
    app.add_handler(CommandHandler("register", register_start))
    app.add_handler(CallbackQueryHandler(choose_round, pattern=r"^rg:r:"))
    app.add_handler(CallbackQueryHandler(choose_day, pattern=r"^rg:d:"))
    app.add_handler(CallbackQueryHandler(choose_session, pattern=r"^rg:s:"))
    app.add_handler(CallbackQueryHandler(confirm, pattern=r"^rg:(ok|no)$"))
    # The typed learner list and /cancel, before the FAQ's free text and the unknown-command
    # hint (default group); they stop the update only when a draft took it.
    app.add_handler(MessageHandler(PRIVATE_TEXT, give_learners), group=DRAFT_GROUP)
    app.add_handler(CommandHandler("cancel", cancel_draft), group=DRAFT_GROUP)
    app.add_handler(CommandHandler("myreg", myreg))
    app.add_handler(CallbackQueryHandler(on_myreg_button, pattern=r"^rg:(x|xy|xn|c|cd|cs):"))
    app.add_handler(CallbackQueryHandler(_stale_button, pattern=r"^rg:"))
    seats.register(app)
