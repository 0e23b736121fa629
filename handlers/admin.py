"""Administrator commands: /bind, /whoami, /revoke, /resetpw, /transfer, /audit.

Thin adapters: each update is one unit of work (``act``), in which the service authorizes the
sender through the binding alone. Private chat only; refusals are rendered from ``refused.j2``
and change nothing.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.core.errors import Refused
from bot.core.render import render
from bot.org import admins, invites
from bot.org.identity import Identity
from bot.roster import learners
from handlers.commands import ADMINS, CITY, Command
from handlers.common import act, app_ctx, forget_who, private_only, reply

ACTION_PREFIX = "act:"
CONFIRM, CANCEL = "ok", "no"  # the verbs of the buttons under a pending action
MAX_ACTION_ID_DIGITS = 12
AUDIT_ROWS = 20

COMMANDS = [
    Command("bind"),
    Command("whoami", roles=ADMINS),
    Command("resetpw", roles=ADMINS),
    Command("transfer", roles=ADMINS),
    Command("revoke", roles=CITY),
    Command("audit", roles=CITY),
]


def register(app: Application) -> None:
    for name, callback in (
        ("bind", bind),
        ("whoami", whoami),
        ("revoke", revoke),
        ("resetpw", resetpw),
        ("transfer", transfer),
        ("audit", audit_log),
    ):
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(CallbackQueryHandler(on_action_button, pattern=f"^{ACTION_PREFIX}"))


def _words(context: ContextTypes.DEFAULT_TYPE) -> list[str]:
    return list(context.args or [])


# --- binding ----------------------------------------------------------------------------------


@private_only("bind")
async def bind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    user = update.effective_user
    request = invites.BindRequest(
        code=" ".join(_words(context)), telegram_name=user.full_name if user else ""
    )
    result = await act(update, context, lambda uow: invites.bind(uow, request))
    forget_who(context)  # this binding may have ended others' (the account changed hands)
    await reply(
        update, context, "bound", identity=result.identity, replaced=result.replaced_other_person
    )


@private_only("whoami")
async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    identity: Identity = await act(update, context, lambda uow: uow.authorize())
    await reply(update, context, "whoami", identity=identity, user_id=identity.telegram_user_id)


@private_only("revoke")
async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    target = " ".join(_words(context)).strip()
    request = admins.revoke_request(target)
    ended = await act(update, context, lambda uow: admins.revoke(uow, request))
    forget_who(context, *ended.telegram_user_ids)
    await reply(update, context, "revoked", count=ended.count, target=target)


# --- password reset and transfer ----------------------------------------------------------------


def _confirm_keyboard(action_id: int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            render("confirm_button", choice=verb),
            callback_data=f"{ACTION_PREFIX}{verb}:{action_id}",
        )
        for verb in (CONFIRM, CANCEL)
    ]
    return InlineKeyboardMarkup([buttons])


@private_only("resetpw")
async def resetpw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = learners.ResetRequest(" ".join(_words(context)))
    preview = await act(update, context, lambda uow: learners.prepare_reset(uow, request))
    await reply(
        update,
        context,
        "confirm_reset",
        preview=preview,
        keyboard=_confirm_keyboard(preview.action_id),
    )


@private_only("transfer")
async def transfer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = learners.TransferRequest.from_words(_words(context))
    preview = await act(update, context, lambda uow: learners.prepare_transfer(uow, request))
    await reply(
        update,
        context,
        "confirm_transfer",
        preview=preview,
        keyboard=_confirm_keyboard(preview.action_id),
    )


def _decision(data: str) -> learners.Decision | None:
    """The decision a button's data carries, or None for data this bot never sent."""
    verb, _, raw_id = data.removeprefix(ACTION_PREFIX).partition(":")
    if verb not in (CONFIRM, CANCEL) or len(raw_id) > MAX_ACTION_ID_DIGITS:
        return None
    if not (raw_id.isascii() and raw_id.isdigit()):
        return None
    return learners.Decision(int(raw_id), confirm=verb == CONFIRM)


async def on_action_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirm / cancel buttons of /resetpw and /transfer."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    config = app_ctx(context).config
    decision = _decision(query.data)
    if decision is None:
        await query.answer(Refused("action_unknown").render(c=config))
        return
    try:
        done = await act(update, context, lambda uow: learners.decide(uow, decision))
    except Refused as refusal:
        await query.answer()
        if query.message is not None:
            await query.edit_message_text(refusal.render(c=config))
        return
    await query.answer()
    await query.edit_message_text(render("action_done", c=config, done=done))


# --- the audit log ------------------------------------------------------------------------------


@private_only("audit")
async def audit_log(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rows = await act(update, context, lambda uow: admins.audit_trail(uow, limit=AUDIT_ROWS))
    await reply(update, context, "audit", rows=rows, tz=app_ctx(context).config.tz)
