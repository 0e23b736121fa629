"""Exam registration in private chat: /register (a conversation with inline keyboards) and
/myreg (list, change, cancel); the centralized exam's seats are ``handlers.seats`` (registered
from here, listed in COMMANDS here).

Thin adapters: each update is one unit of work (``act``) on a service of ``bot.registration``
(where every rule lives), rendered by a template. Buttons carry what they act on in their data
(stateless), and the service checks the presser's scope again on every press. Cancelling a
registration asks first; the confirmation claims it once. The services are told what the
gateway is like (``queues_for_operator``) and decide whether the platform is asked; a unit of
work that submitted a platform task starts its delivery at once.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.core import rounds
from bot.core.config import OnlineSession
from bot.core.errors import Refused
from bot.core.render import hm, render
from bot.core.rounds import ExamRound
from bot.registration import changes, schedule
from bot.registration import service as reg
from handlers import platform, seats
from handlers.commands import ADMINS, CITY, Command
from handlers.common import act, app_ctx, private_only, refuse, reply, send_text
from handlers.registration_ui import button_label, edit_message, is_id, markup_of, render_text

COMMANDS = [
    Command("register", roles=ADMINS),
    Command("myreg", roles=ADMINS),
    Command("seats", roles=ADMINS),
    Command("seats_book", roles=ADMINS),
    Command("seats_cancel", roles=ADMINS),
    Command("seats_confirm", roles=CITY),
]

ROUND, DAY, SESSION, LEARNERS, CONFIRM = range(5)
TIMEOUT = dt.timedelta(minutes=10)


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


# --- /register conversation -------------------------------------------------------------------


def _state(context: ContextTypes.DEFAULT_TYPE) -> dict[str, Any] | None:
    data = context.user_data
    return data.get("reg") if data is not None else None


def _queues_for_operator(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """What the services need to know of the gateway (they decide what follows from it)."""
    return app_ctx(context).gateway.queues_for_operator


def _kick_if(context: ContextTypes.DEFAULT_TYPE, task_id: str | None) -> None:
    if task_id is not None:
        platform.kick(context.application)


def _request(
    context: ContextTypes.DEFAULT_TYPE, state: dict[str, Any], learners: str
) -> reg.RegistrationRequest:
    day = state.get("day")
    return reg.RegistrationRequest(
        round_key=state["round"],
        exam_date=dt.date.fromisoformat(day) if day else None,
        session_time=state.get("time"),
        learners=learners,
        unit_code=state["unit"],
        queues_for_operator=_queues_for_operator(context),
    )


@private_only("register")
async def register_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    unit_code = context.args[0] if context.args else None
    opening = await act(update, context, lambda uow: reg.open_registration(uow, unit_code))
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
        return ConversationHandler.END
    if not opening.allowed:  # open rounds, none of them this unit's exam (said why)
        await reply(
            update, context, "register_round", unit=opening.unit.name, rounds=[], opening=opening
        )
        return ConversationHandler.END
    if context.user_data is not None:
        context.user_data["reg"] = {"unit": opening.unit.code, "unit_name": opening.unit.name}
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
    return ROUND


async def _stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """A button of a conversation that is no longer running (answered, nothing done)."""
    if update.callback_query is not None:
        await update.callback_query.answer(render("register_stale"))
    return ConversationHandler.END


async def _end_with(query: CallbackQuery, context: ContextTypes.DEFAULT_TYPE, text: str) -> int:
    if context.user_data is not None:
        context.user_data.pop("reg", None)
    await edit_message(query, text)
    return ConversationHandler.END


async def choose_round(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query, state = update.callback_query, _state(context)
    if query is None or state is None:
        return await _stale(update, context)
    await query.answer()
    key = (query.data or "").removeprefix("rg:r:")
    try:
        item = await act(update, context, lambda uow: reg.choose_round(uow, state["unit"], key))
    except Refused as refusal:
        return await _end_with(query, context, refusal.render(c=app_ctx(context).config))
    state["round"] = item.key
    if not schedule.books_sessions(app_ctx(context).config, item):
        state["day"] = state["time"] = None  # the platform schedules it: on to the learners
        return await _ask_learners(update, context, query, state)
    text = render_text(context, "register_day", round=item, unit=state["unit_name"])
    await edit_message(query, text, _days_keyboard(item, "rg:d:"))
    return DAY


def _round_sessions(context: ContextTypes.DEFAULT_TYPE, round_key: str) -> list[OnlineSession]:
    config = app_ctx(context).config
    return schedule.sessions(config, schedule.find_round(config, round_key))


async def choose_day(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query, state = update.callback_query, _state(context)
    if query is None or state is None or "round" not in state:
        return await _stale(update, context)
    try:
        day = _parse_day((query.data or "").removeprefix("rg:d:"))
    except Refused:
        return await _stale(update, context)
    state["day"] = day.isoformat()
    await query.answer()
    sessions = _round_sessions(context, state["round"])
    text = render_text(context, "register_session", day=day, sessions=sessions)
    await edit_message(query, text, _sessions_keyboard(sessions, "rg:s:"))
    return SESSION


async def choose_session(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query, state = update.callback_query, _state(context)
    if query is None or state is None or "day" not in state:
        return await _stale(update, context)
    try:
        state["time"] = _parse_time((query.data or "").removeprefix("rg:s:"))
    except Refused:
        return await _stale(update, context)
    await query.answer()
    return await _ask_learners(update, context, query, state)


async def _ask_learners(
    update: Update, context: ContextTypes.DEFAULT_TYPE, query: CallbackQuery, state: dict[str, Any]
) -> int:
    """The learner step, with the unit's makeup list for the makeup."""
    try:
        offer = await act(
            update, context, lambda uow: reg.makeup_offer(uow, state["unit"], state["round"])
        )
    except Refused as refusal:
        return await _end_with(query, context, refusal.render(c=app_ctx(context).config))
    day = dt.date.fromisoformat(state["day"]) if state["day"] else None
    text = render_text(
        context,
        "register_learners",
        round=schedule.find_round(app_ctx(context).config, state["round"]),
        day=day,
        time=state["time"],
        makeup=offer,
    )
    await edit_message(query, text)
    return LEARNERS


async def give_learners(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    state, message = _state(context), update.effective_message
    if state is None or "time" not in state or message is None:
        return ConversationHandler.END
    typed = (message.text or "")[:5000]
    request = _request(context, state, typed)
    try:
        planned = await act(update, context, lambda uow: reg.plan(uow, request))
    except Refused as refusal:
        await refuse(update, context, refusal)
        if not refusal.ends:
            return LEARNERS  # let them correct the list
        if context.user_data is not None:
            context.user_data.pop("reg", None)
        return ConversationHandler.END
    state["learners"] = typed
    keyboard = markup_of([[(button_label("register"), "rg:ok"), (button_label("cancel"), "rg:no")]])
    await reply(update, context, "register_summary", plan=planned, keyboard=keyboard)
    return CONFIRM


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    if query is None:
        return ConversationHandler.END
    state = context.user_data.pop("reg", None) if context.user_data is not None else None
    await query.answer()
    if query.data == "rg:no" or state is None or "learners" not in state:
        return await _end_with(query, context, render("register_cancelled"))
    request = _request(context, state, state["learners"])
    try:
        done = await act(update, context, lambda uow: reg.commit(uow, request))
    except Refused as refusal:
        return await _end_with(query, context, refusal.render(c=app_ctx(context).config))
    ended = await _end_with(query, context, render_text(context, "register_done", done=done))
    _kick_if(context, done.task_id)
    return ended


async def cancel_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    if context.user_data is not None:
        context.user_data.pop("reg", None)
    await send_text(update, render("register_quit"))
    return ConversationHandler.END


async def conversation_timeout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if context.user_data is not None:
        context.user_data.pop("reg", None)


async def _stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /register button pressed outside its conversation (after a restart or a timeout)."""
    await _stale(update, context)


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
    with warnings.catch_warnings():
        # per_message=False is deliberate: the flow mixes buttons and a typed reply.
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[CommandHandler("register", register_start)],
            states={
                ROUND: [CallbackQueryHandler(choose_round, pattern=r"^rg:r:")],
                DAY: [CallbackQueryHandler(choose_day, pattern=r"^rg:d:")],
                SESSION: [CallbackQueryHandler(choose_session, pattern=r"^rg:s:")],
                LEARNERS: [MessageHandler(filters.TEXT & ~filters.COMMAND, give_learners)],
                CONFIRM: [CallbackQueryHandler(confirm, pattern=r"^rg:(ok|no)$")],
                ConversationHandler.TIMEOUT: [
                    MessageHandler(filters.ALL, conversation_timeout),
                    CallbackQueryHandler(conversation_timeout),
                ],
            },
            fallbacks=[CommandHandler("cancel", cancel_conversation)],
            conversation_timeout=TIMEOUT.total_seconds(),
            name="register",
            allow_reentry=True,
        )
    app.add_handler(conversation)
    app.add_handler(CommandHandler("myreg", myreg))
    app.add_handler(CallbackQueryHandler(on_myreg_button, pattern=r"^rg:(x|xy|xn|c|cd|cs):"))
    app.add_handler(CallbackQueryHandler(_stale_button, pattern=r"^rg:"))
    seats.register(app)
