"""Exam registration in private chat: /register (a conversation with inline keyboards), /myreg
(list, change, cancel), and the centralized exam's seats (/seats, /seats_book, /seats_cancel,
/seats_confirm). Rules live in bot.registration.service and bot.registration.seats."""

from __future__ import annotations

import datetime as dt
import warnings

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
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

from bot.core.errors import Refused
from bot.core.render import render
from bot.org import admins
from bot.org.models import Unit
from bot.registration import seats
from bot.registration import service as reg
from bot.results import service as makeup
from handlers.commands import ADMINS, CITY, Command
from handlers.common import app_ctx, authorized, chat_id_of, private_only, refuse, reply

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


def _buttons(rows: list[list[tuple[str, str]]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


def _days_keyboard(item: reg.Round, prefix: str) -> InlineKeyboardMarkup:
    days = [(render("day_label", day=d), f"{prefix}{d:%Y%m%d}") for d in item.exam.days()]
    return _buttons([days[i : i + 3] for i in range(0, len(days), 3)])


def _sessions_keyboard(config, prefix: str) -> InlineKeyboardMarkup:
    rows: dict[str, list[tuple[str, str]]] = {}
    for s in config.online_sessions:
        rows.setdefault(s.period, []).append(
            (f"{s.time.hour}:{s.time.minute:02d}", f"{prefix}{s.time:%H%M}")
        )
    return _buttons(list(rows.values()))


def _parse_day(text: str) -> dt.date:
    return dt.datetime.strptime(text, "%Y%m%d").date()


def _parse_time(text: str) -> str:
    return dt.datetime.strptime(text, "%H%M").strftime("%H:%M")


# --- /register conversation -------------------------------------------------------------------


@private_only("register")
async def register_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    unit_code = context.args[0] if context.args else None
    with ctx.db.session() as session:
        unit = reg.registering_unit(session, identity, unit_code)
    now = ctx.now()
    open_rounds = reg.open_rounds(ctx.config, now)
    if not open_rounds:
        await reply(
            update, context, "register_closed", rounds=reg.rounds(ctx.config), today=now.date()
        )
        return ConversationHandler.END
    context.user_data["reg"] = {"unit": unit.code, "unit_name": unit.name}
    keyboard = _buttons([[(r.name, f"rg:r:{r.key}")] for r in open_rounds])
    await reply(
        update, context, "register_round", unit=unit.name, rounds=open_rounds, keyboard=keyboard
    )
    return ROUND


async def _stale(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    await query.answer("这一步已失效，请重新发送 /register。")
    return ConversationHandler.END


async def choose_round(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    state = context.user_data.get("reg")
    if state is None:
        return await _stale(update, context)
    ctx = app_ctx(context)
    try:
        item = reg.find_round(ctx.config, query.data.removeprefix("rg:r:"))
        reg.require_open(ctx.config, item, ctx.now())
    except Refused as refusal:
        await query.answer()
        await query.edit_message_text(refusal.render(c=ctx.config), parse_mode=ParseMode.HTML)
        return ConversationHandler.END
    state["round"] = item.key
    await query.answer()
    text = render("register_day", c=ctx.config, round=item, unit=state["unit_name"])
    await query.edit_message_text(
        text, parse_mode=ParseMode.HTML, reply_markup=_days_keyboard(item, "rg:d:")
    )
    return DAY


async def choose_day(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    state = context.user_data.get("reg")
    if state is None or "round" not in state:
        return await _stale(update, context)
    ctx = app_ctx(context)
    try:
        day = _parse_day(query.data.removeprefix("rg:d:"))
    except ValueError:
        return await _stale(update, context)
    state["day"] = day.isoformat()
    await query.answer()
    text = render("register_session", c=ctx.config, day=day)
    await query.edit_message_text(
        text, parse_mode=ParseMode.HTML, reply_markup=_sessions_keyboard(ctx.config, "rg:s:")
    )
    return SESSION


async def choose_session(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    state = context.user_data.get("reg")
    if state is None or "day" not in state:
        return await _stale(update, context)
    ctx = app_ctx(context)
    try:
        state["time"] = _parse_time(query.data.removeprefix("rg:s:"))
    except ValueError:
        return await _stale(update, context)
    await query.answer()
    offer = None
    if state.get("round") == "makeup":  # offer the unit's makeup list (bot.results.service)
        with ctx.db.session() as session:
            unit = admins.find_unit(session, state["unit"])  # authorized by /register already
            offer = makeup.makeup_list(session, ctx.config, unit, ctx.now()) if unit else None
    text = render(
        "register_learners",
        c=ctx.config,
        day=dt.date.fromisoformat(state["day"]),
        time=state["time"],
        makeup=offer,
    )
    await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    return LEARNERS


def _plan(
    context: ContextTypes.DEFAULT_TYPE, update: Update, session, state: dict, learners_text: str
) -> reg.Plan:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    return reg.plan(
        session,
        ctx.config,
        identity,
        round_key=state["round"],
        exam_date=dt.date.fromisoformat(state["day"]),
        session_time=state["time"],
        learners_text=learners_text,
        now=ctx.now(),
        unit_code=state["unit"],
    )


async def give_learners(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    state = context.user_data.get("reg")
    if state is None or "time" not in state:
        return ConversationHandler.END
    ctx = app_ctx(context)
    text = (update.effective_message.text or "")[:5000]
    try:
        with ctx.db.session() as session:
            planned = _plan(context, update, session, state, text)
    except Refused as refusal:
        await refuse(update, context, refusal)
        if refusal.key.startswith(("round_", "not_bound", "out_of_scope", "category")):
            context.user_data.pop("reg", None)
            return ConversationHandler.END
        return LEARNERS  # let them correct the list
    state["learners"] = text
    keyboard = _buttons([[("确认报名", "rg:ok"), ("取消", "rg:no")]])
    deadline = reg.study_deadline(ctx.config, planned.exam_date)
    await reply(
        update, context, "register_summary", plan=planned, deadline=deadline, keyboard=keyboard
    )
    return CONFIRM


async def confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    query = update.callback_query
    state = context.user_data.pop("reg", None)
    ctx = app_ctx(context)
    await query.answer()
    if query.data == "rg:no" or state is None or "learners" not in state:
        await query.edit_message_text("已取消，未报名。")
        return ConversationHandler.END
    try:
        with ctx.db.session() as session:
            planned = _plan(context, update, session, state, state["learners"])
            identity = authorized(update, context)
            saved = reg.commit(
                session, ctx.config, identity, planned, ctx.now(), chat_id_of(update)
            )
            reg_id = saved.id
    except Refused as refusal:
        await query.edit_message_text(refusal.render(c=ctx.config), parse_mode=ParseMode.HTML)
        return ConversationHandler.END
    deadline = reg.study_deadline(ctx.config, planned.exam_date)
    text = render("register_done", c=ctx.config, plan=planned, deadline=deadline, reg_id=reg_id)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML)
    return ConversationHandler.END


async def cancel_conversation(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    context.user_data.pop("reg", None)
    await update.effective_message.reply_text("已退出报名，未做任何修改。")
    return ConversationHandler.END


async def conversation_timeout(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.user_data.pop("reg", None)


# --- /myreg: list, change, cancel -----------------------------------------------------------------


@private_only("myreg")
async def myreg(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    with ctx.db.session() as session:
        items = reg.list_registrations(session, ctx.config, identity, ctx.now())
        booked = []
        unit = session.get(Unit, identity.unit_id)
        if unit is not None and unit.name in ctx.config.centralized.units:
            booked = seats.unit_bookings(session, ctx.config, unit)
    rows = [
        [(f"改 #{i.id}", f"rg:c:{i.id}"), (f"取消 #{i.id}", f"rg:x:{i.id}")]
        for i in items
        if i.editable
    ]
    await reply(
        update,
        context,
        "myreg",
        items=items,
        booked=booked,
        keyboard=_buttons(rows) if rows else None,
    )


async def on_myreg_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stateless buttons: rg:x:ID cancel; rg:c:ID pick a day; rg:cd:ID:DAY pick a session;
    rg:cs:ID:DAY:TIME apply the change."""
    query = update.callback_query
    ctx = app_ctx(context)
    parts = query.data.split(":")
    await query.answer()
    try:
        identity = authorized(update, context)
        if len(parts) < 3 or not (parts[2].isascii() and parts[2].isdigit()) or len(parts[2]) > 12:
            raise Refused("action_unknown")
        reg_id = int(parts[2])
        with ctx.db.session() as session:
            if parts[1] == "x" and len(parts) == 3:
                done = reg.cancel(
                    session, ctx.config, identity, reg_id, ctx.now(), chat_id_of(update)
                )
                text = render("myreg_cancelled", c=ctx.config, item=done)
                markup = None
            elif parts[1] == "c" and len(parts) == 3:
                item = reg.changeable(session, ctx.config, identity, reg_id, ctx.now())
                text = render("register_day", c=ctx.config, round=item, unit="")
                markup = _days_keyboard(item, f"rg:cd:{reg_id}:")
            elif parts[1] == "cd" and len(parts) == 4:
                reg.changeable(session, ctx.config, identity, reg_id, ctx.now())
                day = _parse_day(parts[3])
                text = render("register_session", c=ctx.config, day=day)
                markup = _sessions_keyboard(ctx.config, f"rg:cs:{reg_id}:{parts[3]}:")
            elif parts[1] == "cs" and len(parts) == 5:
                done = reg.change(
                    session,
                    ctx.config,
                    identity,
                    reg_id,
                    exam_date=_parse_day(parts[3]),
                    session_time=_parse_time(parts[4]),
                    now=ctx.now(),
                    chat_id=chat_id_of(update),
                )
                text = render("myreg_changed", c=ctx.config, item=done)
                markup = None
            else:
                raise Refused("action_unknown")
    except Refused as refusal:
        text, markup = refusal.render(c=ctx.config), None
    except ValueError:
        text, markup = Refused("action_unknown").render(c=ctx.config), None
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


# --- centralized seats ---------------------------------------------------------------------------


@private_only("seats")
async def seats_table(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    with ctx.db.session() as session:
        views = seats.slots(session, ctx.config)
        unit = session.get(Unit, identity.unit_id)
        mine = seats.unit_bookings(session, ctx.config, unit) if unit else []
    await reply(update, context, "seats", views=views, mine=mine)


@private_only("seats_book")
async def seats_book(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    args = context.args or []
    if len(args) != 1 or not (args[0].isascii() and args[0].isdigit()):
        raise Refused("count_range", max=seats.MAX_SEATS)
    wanted = int(args[0])
    with ctx.db.session() as session:
        seats.require_window(ctx.config, ctx.now())
        unit = seats.centralized_unit(session, ctx.config, identity, None)
        if not 1 <= wanted <= seats.MAX_SEATS:
            raise Refused("count_range", max=seats.MAX_SEATS)
        views = [v for v in seats.slots(session, ctx.config) if v.left > 0]
    rows = [[(render("slot_label", view=v), f"st:p:{v.id}:{wanted}")] for v in views]
    await reply(
        update,
        context,
        "seats_choose",
        unit=unit.name,
        wanted=wanted,
        keyboard=_buttons(rows) if rows else None,
        none_left=not rows,
    )


async def on_seats_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:p:SLOT:N propose (with a split when needed); st:ok:SLOT:N book."""
    query = update.callback_query
    ctx = app_ctx(context)
    await query.answer()
    parts = query.data.split(":")
    markup = None
    try:
        if (
            len(parts) != 4
            or parts[1] not in ("p", "ok")
            or not (
                parts[2].isascii()
                and parts[2].isdigit()
                and parts[3].isascii()
                and parts[3].isdigit()
            )
        ):
            raise Refused("action_unknown")
        slot_id, wanted = int(parts[2]), int(parts[3])
        identity = authorized(update, context)
        with ctx.db.session() as session:
            unit, plan = seats.propose(
                session, ctx.config, identity, slot_id=slot_id, seats=wanted, now=ctx.now()
            )
            if parts[1] == "p":
                text = render("seats_plan", c=ctx.config, unit=unit.name, plan=plan, wanted=wanted)
                markup = _buttons([[("确认预约", f"st:ok:{slot_id}:{wanted}"), ("取消", "st:no")]])
            else:
                seats.book(
                    session,
                    ctx.config,
                    identity,
                    unit,
                    [(v.id, n) for v, n in plan],
                    ctx.now(),
                    chat_id_of(update),
                )
                text = render("seats_booked", c=ctx.config, unit=unit.name, plan=plan)
    except Refused as refusal:
        text = refusal.render(c=ctx.config)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=markup)


async def on_seats_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    await query.answer()
    await query.edit_message_text("已取消，未预约。")


@private_only("seats_cancel")
async def seats_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    with ctx.db.session() as session:
        unit = seats.centralized_unit(session, ctx.config, identity, None)
        freed = seats.cancel_unit(
            session, ctx.config, identity, unit, ctx.now(), chat_id_of(update)
        )
    await reply(update, context, "seats_cancelled", unit=unit.name, freed=freed)


@private_only("seats_confirm")
async def seats_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    with ctx.db.session() as session:
        count = seats.confirm_all(session, identity, ctx.now(), chat_id_of(update))
        views = seats.slots(session, ctx.config)
    await reply(update, context, "seats_confirmed", count=count, views=views)


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
    app.add_handler(CallbackQueryHandler(on_seats_cancel_button, pattern=r"^st:no$"))
    app.add_handler(CallbackQueryHandler(on_seats_button, pattern=r"^st:"))


async def _stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A /register button pressed outside its conversation (after a restart or a timeout)."""
    await update.callback_query.answer("这一步已失效，请重新发送 /register。")
