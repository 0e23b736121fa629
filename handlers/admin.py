"""Administrator commands: /bind, /whoami, /revoke (and its confirm), /resetpw, /transfer (and
its approval), /audit; and the watch for invite codes posted in a group.

Thin adapters: each update is one unit of work (``act``), in which the service authorizes the
sender through the binding alone. Private chat only; refusals are rendered from ``refused.j2``
and change nothing.
"""

from __future__ import annotations

import logging

from telegram import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.core.errors import Refused
from bot.core.render import render
from bot.org import admins, assignment_admin, invites
from bot.outgoing import send
from bot.roster import learners, transfers
from handlers import platform as platform_worker
from handlers.commands import ADMINS, CITY, Command
from handlers.common import (
    act,
    app_ctx,
    edit_message,
    forget_who,
    private_only,
    reply,
    topic_of,
)

log = logging.getLogger(__name__)

ACTION_PREFIX = "act:"
CONFIRM, CANCEL = "ok", "no"  # the verbs of the buttons under a pending action
APPROVE, DENY = "ap", "dn"  # the verbs of the buttons under a transfer awaiting approval
MAX_ACTION_ID_DIGITS = 12
AUDIT_ROWS = 20
REVOKE_PREFIX = "rv:"  # rv:ok:UPTO:uTELEGRAM_ID | rv:ok:UPTO:nUNIT_ID, rv:no
MAX_BUTTON_NUMBER = 16  # digits of a Telegram user id (52 bits), of a row id
# Before every other handler (edited commands are -1, conversations -2): an invite code seen in a
# group is voided before the FAQ or /bind's "use private chat" could answer the message.
INVITE_WATCH = -10

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
    app.add_handler(CallbackQueryHandler(on_revoke_button, pattern=f"^{REVOKE_PREFIX}"))
    app.add_handler(
        MessageHandler(filters.ChatType.GROUPS & (filters.TEXT | filters.CAPTION), invite_seen),
        group=INVITE_WATCH,
    )


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
    me = await act(update, context, assignment_admin.whoami)
    await reply(
        update,
        context,
        "whoami",
        identity=me.identity,
        user_id=me.identity.telegram_user_id,
        exam=me.exam,
    )


@private_only("revoke")
async def revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Say whose bindings would end, with a confirm button; nothing ends yet."""
    request = admins.revoke_request(" ".join(_words(context)))
    preview = await act(update, context, lambda uow: admins.prepare_revoke(uow, request))
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    render("revoke_button", choice=CONFIRM),
                    callback_data=f"{REVOKE_PREFIX}{CONFIRM}:{preview.button}",
                ),
                InlineKeyboardButton(
                    render("revoke_button", choice=CANCEL),
                    callback_data=f"{REVOKE_PREFIX}{CANCEL}",
                ),
            ]
        ]
    )
    await reply(update, context, "confirm_revoke", preview=preview, keyboard=keyboard)


def _revoke_pressed(data: str) -> admins.RevokeRequest | None:
    """The confirm button's request (the target and the newest binding it may end, carried in
    the button: no state on the server), or None for data this bot never sent."""
    verb, _, rest = data.removeprefix(REVOKE_PREFIX).partition(":")
    upto, _, target = rest.partition(":")
    if verb != CONFIRM or not upto.isascii() or not upto.isdigit() or len(target) < 2:
        return None
    kind, number = target[0], target[1:]
    if len(upto) > MAX_BUTTON_NUMBER or len(number) > MAX_BUTTON_NUMBER:
        return None
    if not (number.isascii() and number.isdigit()) or kind not in "un":
        return None
    if kind == "u":
        return admins.RevokeRequest(telegram_user_id=int(number), upto=int(upto))
    return admins.RevokeRequest(unit_id=int(number), upto=int(upto))


async def on_revoke_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Confirm: end the bindings the preview showed (once: a second press finds them ended,
    and a binding made since is not in the button's reach). Cancel: nothing happens."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    config = app_ctx(context).config
    await query.answer()
    if query.data == f"{REVOKE_PREFIX}{CANCEL}":
        await edit_message(query, render("revoke_cancelled", c=config))
        return
    request = _revoke_pressed(query.data)
    try:
        if request is None:
            raise Refused("action_unknown")
        ended = await act(update, context, lambda uow: admins.revoke(uow, request))
    except Refused as refusal:
        await edit_message(query, refusal.render(c=config))
        return
    forget_who(context, *ended.telegram_user_ids)
    await edit_message(query, render("revoked", c=config, count=ended.count, target=ended.target))


# --- an invite code seen in a group -------------------------------------------------------------


async def invite_seen(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any group message that carries a live invite code voids it, before anything else sees
    the message: deleted where the bot may, the group warned (without the code), whoever
    issued it told to issue a new one. Messages without a code's shape cost a regex only."""
    message = update.effective_message
    if message is None:
        return
    codes = invites.codes_in(message.text or message.caption or "")
    if not codes:
        return
    voided = await act(update, context, lambda uow: invites.void_seen(uow, codes))
    if not voided:
        return
    deleted = await _delete(message)
    config = app_ctx(context).config
    try:  # the code is void already: a warning that fails must not let the message go on
        await send(
            message.get_bot(),
            message.chat_id,
            render("invite_exposed", c=config, deleted=deleted),
            message_thread_id=topic_of(message),
            reply_parameters=None
            if deleted
            else ReplyParameters(message.message_id, allow_sending_without_reply=True),
        )
    except TelegramError as exc:
        log.warning("warning about an invite code not sent to chat %s: %s", message.chat_id, exc)
    chat_title = message.chat.title or ""
    for chat_id in sorted({chat for v in voided for chat in v.issuer_chats}):
        mine = [v for v in voided if chat_id in v.issuer_chats]
        text = render(
            "invite_exposed_issuer", c=config, voided=mine, chat=chat_title, deleted=deleted
        )
        await _send(context, chat_id, text)
    raise ApplicationHandlerStop  # nothing else answers the message (the FAQ, /bind's hint)


async def _delete(message: Message) -> bool:
    """Delete a group member's message; False when the bot may not (it is no administrator
    of the group with the right to delete messages) or the message is gone."""
    try:
        return await message.delete()
    except TelegramError as exc:
        log.warning(
            "could not delete a message with an invite code in chat %s: %s", message.chat_id, exc
        )
        return False


# --- password reset and transfer ----------------------------------------------------------------
#
# The confirm button writes a platform task (bot.roster.learners.decide); the edited message says
# it was submitted and what happens next, and the worker is kicked to deliver it now. The result
# arrives as a new private message once the platform has applied or refused it
# (handlers.platform). A transfer from another county first waits for the origin's approval:
# its buttons carry the task id (act:ap:ID, act:dn:ID) and are checked like any other press.


def _keyboard(choices: tuple[str, ...], ref: str | int) -> InlineKeyboardMarkup:
    buttons = [
        InlineKeyboardButton(
            render("confirm_button", choice=verb), callback_data=f"{ACTION_PREFIX}{verb}:{ref}"
        )
        for verb in choices
    ]
    return InlineKeyboardMarkup([buttons])


def _confirm_keyboard(action_id: int) -> InlineKeyboardMarkup:
    return _keyboard((CONFIRM, CANCEL), action_id)


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


Pressed = learners.Decision | transfers.Approval


def _pressed(data: str) -> Pressed | None:
    """What a button's data asks for, or None for data this bot never sent."""
    verb, _, ref = data.removeprefix(ACTION_PREFIX).partition(":")
    if verb in (APPROVE, DENY):
        return transfers.Approval.parse(ref, approve=verb == APPROVE)
    if verb not in (CONFIRM, CANCEL) or len(ref) > MAX_ACTION_ID_DIGITS:
        return None
    if not (ref.isascii() and ref.isdigit()):
        return None
    return learners.Decision(int(ref), confirm=verb == CONFIRM)


async def on_action_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The confirm / cancel buttons of /resetpw and /transfer, and the approve / deny buttons
    of a transfer from another county."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    config = app_ctx(context).config
    pressed = _pressed(query.data)
    if pressed is None:
        await query.answer(Refused("action_unknown").render(c=config))
        return
    try:
        if isinstance(pressed, transfers.Approval):
            await _approval(update, context, query, pressed)
        else:
            await _decision(update, context, query, pressed)
    except Refused as refusal:
        await query.answer()
        if query.message is not None:
            await edit_message(query, refusal.render(c=config))


def _operator(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether the platform operator carries tasks out by hand (no API)."""
    return app_ctx(context).gateway.queues_for_operator


async def _decision(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    query: CallbackQuery,
    decision: learners.Decision,
) -> None:
    """Submit (or cancel) the pending action; tell the origin unit of a transfer; say what was
    submitted and what happens next; deliver it now."""
    done = await act(update, context, lambda uow: learners.decide(uow, decision))
    await query.answer()
    config = app_ctx(context).config
    try:
        told = 0  # the origin unit's administrators who were sent the notice
        for notice in done.notices if done else ():
            text = render("transfer_notice", c=config, n=notice)
            keyboard = _keyboard((APPROVE, DENY), notice.task_id) if notice.asks_approval else None
            sent = await _send(context, notice.chat_id, text, keyboard)
            told += int(sent and notice.to_origin)
        text = render(
            "action_submitted", c=config, done=done, operator=_operator(context), told=told
        )
        await edit_message(query, text)
    finally:  # the task is committed: deliver it even if a message above failed
        if done is not None and not done.awaiting_approval:
            platform_worker.kick(context.application)


async def _approval(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    query: CallbackQuery,
    approval: transfers.Approval,
) -> None:
    """Approved: deliver it now. Denied: tell the requester (the task never reaches the
    platform). Then edit the approver's message."""
    decided = await act(update, context, lambda uow: transfers.decide_approval(uow, approval))
    await query.answer()
    config = app_ctx(context).config
    told = False
    if decided.approved:
        platform_worker.kick(context.application)
    elif decided.requester_chat_id is not None:
        text = render("transfer_denied", c=config, d=decided)
        told = await _send(context, decided.requester_chat_id, text)
    text = render("transfer_decided", c=config, d=decided, operator=_operator(context), told=told)
    await edit_message(query, text)


async def _send(
    context: ContextTypes.DEFAULT_TYPE,
    chat_id: int,
    text: str,
    keyboard: InlineKeyboardMarkup | None = None,
) -> bool:
    """A private message to another administrator; False when Telegram did not take it (they
    never started a chat with the bot, or blocked it)."""
    try:
        await send(context.bot, chat_id, text, reply_markup=keyboard)
    except TelegramError as exc:
        log.warning("message to chat %s not delivered: %s", chat_id, exc)
        return False
    return True


# --- the audit log ------------------------------------------------------------------------------


@private_only("audit")
async def audit_log(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    rows = await act(update, context, lambda uow: admins.audit_trail(uow, limit=AUDIT_ROWS))
    await reply(update, context, "audit", rows=rows, tz=app_ctx(context).config.tz)
