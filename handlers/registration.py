"""Exam registration in private chat: /register (a conversation with inline keyboards), /myreg
(list, change, cancel), and the centralized exam's seats (/seats, /seats_book, /seats_cancel,
/seats_confirm).

Thin adapters: each update is one unit of work (``act``) on a service of ``bot.registration``
(where every rule lives), rendered by a template. Buttons carry what they act on in their data
(stateless), and the service checks the presser's scope again on every press.
"""

from __future__ import annotations

import datetime as dt
import warnings
from typing import Any

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
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
from bot.core.config import Config
from bot.core.errors import Refused
from bot.core.render import hm, render
from bot.core.rounds import ExamRound
from bot.registration import changes, seats
from bot.registration import service as reg
from handlers.commands import ADMINS, CITY, Command
from handlers.common import act, app_ctx, private_only, refuse, reply, send_text

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
MAX_ID_DIGITS = 12  # longer numbers in button data cannot be ours (and overflow the database)

Rows = list[list[tuple[str, str]]]


def _buttons(rows: Rows) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def _label(key: str, **params: Any) -> str:
    return render("registration_button", key=key, **params)


def _text(context: ContextTypes.DEFAULT_TYPE, template: str, **variables: Any) -> str:
    return render(template, c=app_ctx(context).config, **variables)


async def _edit(
    query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    await query.edit_message_text(text, reply_markup=markup)


def _days_keyboard(item: ExamRound, prefix: str) -> InlineKeyboardMarkup:
    days = [(render("day_label", day=d), f"{prefix}{d:%Y%m%d}") for d in item.exam.days()]
    return _buttons([days[i : i + 3] for i in range(0, len(days), 3)])


def _sessions_keyboard(config: Config, prefix: str) -> InlineKeyboardMarkup:
    rows: dict[str, list[tuple[str, str]]] = {}
    for s in config.online_sessions:
        rows.setdefault(s.period, []).append((hm(s.time), f"{prefix}{s.time:%H%M}"))
    return _buttons(list(rows.values()))


def _is_id(text: str) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS


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


def _request(state: dict[str, Any], learners: str) -> reg.RegistrationRequest:
    return reg.RegistrationRequest(
        round_key=state["round"],
        exam_date=dt.date.fromisoformat(state["day"]),
        session_time=state["time"],
        learners=learners,
        unit_code=state["unit"],
    )


@private_only("register")
async def register_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    unit_code = context.args[0] if context.args else None
    opening = await act(update, context, lambda uow: reg.open_registration(uow, unit_code))
    if not opening.open_rounds:
        await reply(update, context, "register_closed", rounds=opening.rounds, today=opening.today)
        return ConversationHandler.END
    if context.user_data is not None:
        context.user_data["reg"] = {"unit": opening.unit.code, "unit_name": opening.unit.name}
    config = app_ctx(context).config
    choices = [[(rounds.name(config, r.key), f"rg:r:{r.key}")] for r in opening.open_rounds]
    await reply(
        update,
        context,
        "register_round",
        unit=opening.unit.name,
        rounds=opening.open_rounds,
        keyboard=_buttons(choices),
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
    await _edit(query, text)
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
    text = _text(context, "register_day", round=item, unit=state["unit_name"])
    await _edit(query, text, _days_keyboard(item, "rg:d:"))
    return DAY


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
    config = app_ctx(context).config
    text = _text(context, "register_session", day=day)
    await _edit(query, text, _sessions_keyboard(config, "rg:s:"))
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
    try:
        offer = await act(
            update, context, lambda uow: reg.makeup_offer(uow, state["unit"], state["round"])
        )
    except Refused as refusal:
        return await _end_with(query, context, refusal.render(c=app_ctx(context).config))
    day = dt.date.fromisoformat(state["day"])
    text = _text(context, "register_learners", day=day, time=state["time"], makeup=offer)
    await _edit(query, text)
    return LEARNERS


async def give_learners(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    state, message = _state(context), update.effective_message
    if state is None or "time" not in state or message is None:
        return ConversationHandler.END
    typed = (message.text or "")[:5000]
    request = _request(state, typed)
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
    keyboard = _buttons([[(_label("register"), "rg:ok"), (_label("cancel"), "rg:no")]])
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
    request = _request(state, state["learners"])
    try:
        done = await act(update, context, lambda uow: reg.commit(uow, request))
    except Refused as refusal:
        return await _end_with(query, context, refusal.render(c=app_ctx(context).config))
    return await _end_with(query, context, _text(context, "register_done", done=done))


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
            (_label("change_registration", id=i.id), f"rg:c:{i.id}"),
            (_label("cancel_registration", id=i.id), f"rg:x:{i.id}"),
        ]
        for i in mine.items
        if i.editable
    ]
    keyboard = _buttons(rows) if rows else None
    await reply(update, context, "myreg", items=mine.items, booked=mine.booked, keyboard=keyboard)


MYREG_SHAPES = {"x": 3, "c": 3, "cd": 4, "cs": 5}  # verb → parts of "rg:VERB:ID[:DAY[:TIME]]"


async def on_myreg_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stateless buttons: rg:x:ID cancel; rg:c:ID pick a day; rg:cd:ID:DAY pick a session;
    rg:cs:ID:DAY:TIME apply the change."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    parts = (query.data or "").split(":")
    try:
        if len(parts) < 3 or MYREG_SHAPES.get(parts[1]) != len(parts) or not _is_id(parts[2]):
            raise Refused("action_unknown")
        text, markup = await _myreg_step(update, context, parts[1], int(parts[2]), parts[3:])
    except Refused as refusal:
        text, markup = refusal.render(c=app_ctx(context).config), None
    await _edit(query, text, markup)


async def _myreg_step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str, reg_id: int, rest: list[str]
) -> tuple[str, InlineKeyboardMarkup | None]:
    config = app_ctx(context).config
    if verb == "x":
        request = changes.CancelRegistration(reg_id)
        cancelled = await act(update, context, lambda uow: changes.cancel(uow, request))
        return _text(context, "myreg_cancelled", item=cancelled), None
    if verb == "c":
        item = await act(update, context, lambda uow: changes.changeable(uow, reg_id))
        text = _text(context, "register_day", round=item, unit="")
        return text, _days_keyboard(item, f"rg:cd:{reg_id}:")
    if verb == "cd":
        await act(update, context, lambda uow: changes.changeable(uow, reg_id))
        text = _text(context, "register_session", day=_parse_day(rest[0]))
        return text, _sessions_keyboard(config, f"rg:cs:{reg_id}:{rest[0]}:")
    change = changes.ChangeRegistration(reg_id, _parse_day(rest[0]), _parse_time(rest[1]))
    changed = await act(update, context, lambda uow: changes.change(uow, change))
    return _text(context, "myreg_changed", item=changed), None


# --- centralized seats ---------------------------------------------------------------------------


@private_only("seats")
async def seats_table(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    table = await act(update, context, seats.table)
    await reply(update, context, "seats", views=table.views, mine=table.mine)


@private_only("seats_book")
async def seats_book(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    wanted = " ".join(context.args or [])
    offer = await act(update, context, lambda uow: seats.offer(uow, wanted))
    rows = [[(render("slot_label", view=v), f"st:p:{v.id}:{offer.wanted}")] for v in offer.free]
    await reply(
        update,
        context,
        "seats_choose",
        unit=offer.unit_name,
        wanted=offer.wanted,
        keyboard=_buttons(rows) if rows else None,
        none_left=not rows,
    )


SEAT_VERBS = ("p", "ok", "cf")  # propose, book, confirm (the city office)


async def on_seats_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:p:SLOT:N propose (with a split when needed); st:ok:SLOT:N book;
    st:cf:UPTO:COUNT confirm the pending bookings /seats_confirm showed."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    parts = (query.data or "").split(":")
    try:
        if len(parts) != 4 or parts[1] not in SEAT_VERBS or not all(map(_is_id, parts[2:])):
            raise Refused("action_unknown")
        text, markup = await _seats_step(update, context, parts[1], int(parts[2]), int(parts[3]))
    except Refused as refusal:
        text, markup = refusal.render(c=app_ctx(context).config), None
    await _edit(query, text, markup)


async def _seats_step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str, first: int, second: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    if verb == "cf":
        request = seats.ConfirmSeats(up_to=first, count=second)
        count = await act(update, context, lambda uow: seats.confirm(uow, request))
        return _text(context, "seats_confirmed", count=count), None
    wish = seats.SeatRequest(slot_id=first, seats=second)
    if verb == "p":
        proposal = await act(update, context, lambda uow: seats.propose(uow, wish))
        book = f"st:ok:{first}:{second}"
        markup = _buttons([[(_label("book"), book), (_label("cancel"), "st:no")]])
        text = _text(
            context, "seats_plan", unit=proposal.unit_name, plan=proposal.parts, wanted=second
        )
        return text, markup
    booked = await act(update, context, lambda uow: seats.book(uow, wish))
    return _text(context, "seats_booked", unit=booked.unit_name, plan=booked.parts), None


async def on_seats_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:no (a seat proposal) and st:cx (the city office's confirmation): nothing is done."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await _edit(
        query, render("seats_confirm_cancelled" if query.data == "st:cx" else "seats_not_booked")
    )


@private_only("seats_cancel")
async def seats_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    freed = await act(update, context, seats.cancel_unit)
    await reply(update, context, "seats_cancelled", unit=freed.unit_name, freed=freed.seats)


@private_only("seats_confirm")
async def seats_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows what would be confirmed, with a confirm button: a message never confirms by
    itself. Authorization comes first, so others learn only that the command is not theirs."""
    preview = await act(update, context, seats.confirmation)
    if context.args:
        raise Refused("seats_confirm_usage")
    data = f"st:cf:{preview.up_to}:{preview.bookings}"
    keyboard = (
        _buttons([[(_label("confirm_seats"), data), (_label("cancel"), "st:cx")]])
        if preview.pending
        else None
    )
    await reply(update, context, "seats_confirm", preview=preview, keyboard=keyboard)


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
    app.add_handler(CallbackQueryHandler(on_myreg_button, pattern=r"^rg:(x|c|cd|cs):"))
    app.add_handler(CallbackQueryHandler(_stale_button, pattern=r"^rg:"))
    app.add_handler(CommandHandler("seats", seats_table))
    app.add_handler(CommandHandler("seats_book", seats_book))
    app.add_handler(CommandHandler("seats_cancel", seats_cancel))
    app.add_handler(CommandHandler("seats_confirm", seats_confirm))
    app.add_handler(CallbackQueryHandler(on_seats_cancel_button, pattern=r"^st:(no|cx)$"))
    app.add_handler(CallbackQueryHandler(on_seats_button, pattern=r"^st:"))
