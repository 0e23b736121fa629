"""Administrator commands: /bind, /whoami, /revoke, /resetpw, /transfer, /audit.

Every action goes through ``bot.org.admins.authorize`` (the binding alone says who someone
is) and runs in private chat only; refusals are rendered from ``refused.j2`` and change nothing.
"""

from __future__ import annotations

import re

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.core import audit
from bot.core.errors import Refused
from bot.core.render import render
from bot.org import admins
from bot.roster import learners
from handlers.commands import ADMINS, CITY, Command
from handlers.common import (
    app_ctx,
    authorized,
    chat_id_of,
    forget_who,
    private_only,
    reply,
    sender_id,
)

ACTION_PREFIX = "act:"
USER_ID_RE = re.compile(r"-?[0-9]{1,16}")

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


# --- binding ----------------------------------------------------------------------------------


@private_only("bind")
async def bind(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    user = update.effective_user
    uid = sender_id(update)
    if uid is None or user is None:
        raise Refused("anonymous")
    code = " ".join(context.args or []).strip()
    if not code or len(code) > 64:
        raise Refused("bind_usage")
    now = ctx.now()
    try:
        with ctx.db.session() as session:
            result = admins.bind(
                session,
                ctx.config,
                code=code,
                telegram_user_id=uid,
                telegram_name=user.full_name,
                chat_id=chat_id_of(update),
                now=now,
            )
    except Refused as refusal:
        if refusal.key.startswith("invite_"):
            with ctx.db.session() as session:
                admins.record_failed_bind(
                    session,
                    telegram_user_id=uid,
                    chat_id=chat_id_of(update),
                    reason=refusal.key,
                    now=now,
                )
        raise
    forget_who(context)  # this binding may have ended others' (the account changed hands)
    await reply(
        update, context, "bound", identity=result.identity, replaced=result.replaced_other_person
    )


@private_only("whoami")
async def whoami(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    identity = authorized(update, context)
    await reply(update, context, "whoami", identity=identity, user_id=sender_id(update))


@private_only("revoke")
async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    admins.require_city(identity)
    target = " ".join(context.args or []).strip()
    if not target:
        raise Refused("revoke_usage")
    # A Telegram user id is at most 52 bits; other text (and other digits: "²", "١") is a code.
    kwargs = (
        {"telegram_user_id": int(target)} if USER_ID_RE.fullmatch(target) else {"unit_code": target}
    )
    with ctx.db.session() as session:
        ended = admins.revoke(
            session, now=ctx.now(), actor=identity, chat_id=chat_id_of(update), **kwargs
        )
    forget_who(context, *(b.telegram_user_id for b in ended))
    await reply(update, context, "revoked", count=len(ended), target=target)


# --- password reset and transfer ----------------------------------------------------------------


def _confirm_keyboard(action_id: int) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("确认", callback_data=f"{ACTION_PREFIX}ok:{action_id}"),
                InlineKeyboardButton("取消", callback_data=f"{ACTION_PREFIX}no:{action_id}"),
            ]
        ]
    )


@private_only("resetpw")
async def resetpw(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    account = (
        context.args[0] if context.args and len(context.args) == 1 else " ".join(context.args or [])
    )
    with ctx.db.session() as session:
        if not account:
            raise Refused("account_missing", command="/resetpw")
        preview = learners.prepare_reset(session, ctx.config, identity, account, ctx.now())
    await reply(
        update,
        context,
        "confirm_reset",
        preview=preview,
        keyboard=_confirm_keyboard(preview.action_id),
    )


@private_only("transfer")
async def transfer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    args = context.args or []
    if not args or len(args) > 2:
        raise Refused("account_missing", command="/transfer")
    with ctx.db.session() as session:
        preview = learners.prepare_transfer(
            session, identity, args[0], ctx.now(), unit_code=args[1] if len(args) == 2 else None
        )
    await reply(
        update,
        context,
        "confirm_transfer",
        preview=preview,
        keyboard=_confirm_keyboard(preview.action_id),
    )


async def on_action_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirm / cancel buttons of /resetpw and /transfer."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    ctx = app_ctx(context)
    verb, _, raw_id = query.data.removeprefix(ACTION_PREFIX).partition(":")
    if verb not in ("ok", "no") or not (raw_id.isascii() and raw_id.isdigit()) or len(raw_id) > 12:
        await query.answer(Refused("action_unknown").render(c=ctx.config))
        return
    chat_id = query.message.chat.id if query.message else None
    try:
        identity = authorized(update, context)
        with ctx.db.session() as session:
            if verb == "no":
                learners.cancel(session, identity, int(raw_id), ctx.now())
                done = None
            else:
                done = learners.confirm(
                    session, ctx.config, identity, int(raw_id), ctx.now(), chat_id
                )
    except Refused as refusal:
        await query.answer()
        text = refusal.render(c=ctx.config)
        if query.message is not None:
            await query.edit_message_text(text, parse_mode=ParseMode.HTML)
        return
    await query.answer()
    text = render("action_done", c=ctx.config, done=done)
    await query.edit_message_text(text, parse_mode=ParseMode.HTML)


# --- the audit log ------------------------------------------------------------------------------


@private_only("audit")
async def audit_log(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    admins.require_city(identity)
    with ctx.db.session() as session:
        rows = audit.recent(session, limit=20)
    await reply(update, context, "audit", rows=rows, tz=ctx.config.tz)
