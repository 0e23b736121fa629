"""The centralized exam's seats in private chat: /seats, /seats_book (through a proposal the
server keeps: the buttons carry only its id), /seats_cancel (asks first) and the city office's
/seats_confirm (asks first).

Thin adapters: each update is one unit of work (``act``) on ``bot.registration.seats`` or
``bot.registration.seat_proposals``, where every rule lives, rendered by a template.
"""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.core.errors import Refused
from bot.core.render import render
from bot.registration import seat_proposals, seats
from handlers.common import act, app_ctx, edit_message, private_only, reply
from handlers.registration_ui import button_label, is_id, markup_of, render_text


@private_only("seats")
async def seats_table(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    table = await act(update, context, seats.table)
    await reply(update, context, "seats", views=table.views, mine=table.mine)


def _offer_reply(offer: seat_proposals.SeatOffer) -> dict[str, Any]:
    """The slot choice of a proposal (/seats_book, or asked again): template variables."""
    rows = [
        [(render("slot_label", view=v), f"st:p:{offer.proposal_id}:{v.id}")] for v in offer.free
    ]
    return {
        "unit": offer.unit_name,
        "wanted": offer.wanted,
        "keyboard": markup_of(rows) if rows else None,
        "none_left": not offer.free,
        "asked_again": offer.asked_again,
    }


@private_only("seats_book")
async def seats_book(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    wanted = " ".join(context.args or [])
    offer = await act(update, context, lambda uow: seat_proposals.offer(uow, wanted))
    await reply(update, context, "seats_choose", **_offer_reply(offer))


# verb → parts of "st:VERB:…": p:PROPOSAL:SLOT choose a slot, ok:PROPOSAL book, no:PROPOSAL
# drop; cf:UPTO:COUNT the city office confirms, rl:UPTO:COUNT the unit gives its seats back
SEAT_SHAPES = {"p": 4, "ok": 3, "no": 3, "cf": 4, "rl": 4}


async def on_seats_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The seat buttons; each carries only ids the service checks again (the proposal's
    owner, the pending bookings shown)."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    parts = (query.data or "").split(":")
    try:
        if (
            len(parts) < 3
            or SEAT_SHAPES.get(parts[1]) != len(parts)
            or not all(map(is_id, parts[2:]))
        ):
            raise Refused("action_unknown")
        numbers = [int(p) for p in parts[2:]]
        text, markup = await _seats_step(update, context, parts[1], numbers)
    except Refused as refusal:
        text, markup = refusal.render(c=app_ctx(context).config), None
    await edit_message(query, text, markup)


async def _seats_step(
    update: Update, context: ContextTypes.DEFAULT_TYPE, verb: str, numbers: list[int]
) -> tuple[str, InlineKeyboardMarkup | None]:
    first = numbers[0]
    if verb == "cf":
        confirm = seats.ConfirmSeats(up_to=first, count=numbers[1])
        count = await act(update, context, lambda uow: seats.confirm(uow, confirm))
        return render_text(context, "seats_confirmed", count=count), None
    if verb == "rl":
        give_back = seats.ReleaseSeats(up_to=first, count=numbers[1])
        freed = await act(update, context, lambda uow: seats.release(uow, give_back))
        return render_text(
            context, "seats_cancelled", unit=freed.unit_name, freed=freed.seats
        ), None
    if verb == "p":
        choice = seat_proposals.ChooseSlot(proposal_id=first, slot_id=numbers[1])
        plan = await act(update, context, lambda uow: seat_proposals.choose(uow, choice))
        markup = markup_of(
            [[(button_label("book"), f"st:ok:{first}"), (button_label("cancel"), f"st:no:{first}")]]
        )
        text = render_text(
            context, "seats_plan", unit=plan.unit_name, plan=plan.parts, wanted=plan.wanted
        )
        return text, markup
    if verb == "no":
        drop = seat_proposals.DropProposal(first)
        await act(update, context, lambda uow: seat_proposals.drop(uow, drop))
        return render("seats_not_booked"), None
    booking = seat_proposals.BookProposal(first)
    outcome = await act(update, context, lambda uow: seat_proposals.book(uow, booking))
    if isinstance(outcome, seat_proposals.SeatOffer):
        offered = _offer_reply(outcome)
        return render_text(context, "seats_choose", **offered), offered["keyboard"]
    text = render_text(
        context,
        "seats_booked",
        unit=outcome.unit_name,
        plan=outcome.parts,
        again=outcome.again,
        online=outcome.online,
    )
    return text, None


async def on_seats_cancel_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """st:cx (the city office's confirmation) and st:kx (giving seats back): nothing is done."""
    query = update.callback_query
    if query is None:
        return
    await query.answer()
    await edit_message(
        query, render("seats_confirm_cancelled" if query.data == "st:cx" else "seats_kept")
    )


@private_only("seats_cancel")
async def seats_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows the seats that would be given back, with a confirm button: a message never
    gives seats back by itself."""
    preview = await act(update, context, seats.release_preview)
    data = f"st:rl:{preview.up_to}:{preview.bookings}"
    keyboard = (
        markup_of([[(button_label("release_seats"), data), (button_label("keep_seats"), "st:kx")]])
        if preview.held
        else None
    )
    await reply(update, context, "seats_release_confirm", release=preview, keyboard=keyboard)


@private_only("seats_confirm")
async def seats_confirm(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Shows what would be confirmed, with a confirm button: a message never confirms by
    itself. Authorization comes first, so others learn only that the command is not theirs."""
    preview = await act(update, context, seats.confirmation)
    if context.args:
        raise Refused("seats_confirm_usage")
    data = f"st:cf:{preview.up_to}:{preview.bookings}"
    keyboard = (
        markup_of([[(button_label("confirm_seats"), data), (button_label("cancel"), "st:cx")]])
        if preview.pending
        else None
    )
    await reply(update, context, "seats_confirm", preview=preview, keyboard=keyboard)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("seats", seats_table))
    app.add_handler(CommandHandler("seats_book", seats_book))
    app.add_handler(CommandHandler("seats_cancel", seats_cancel))
    app.add_handler(CommandHandler("seats_confirm", seats_confirm))
    app.add_handler(CallbackQueryHandler(on_seats_cancel_button, pattern=r"^st:(cx|kx)$"))
    app.add_handler(CallbackQueryHandler(on_seats_button, pattern=r"^st:"))
