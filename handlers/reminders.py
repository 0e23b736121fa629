"""Reminder commands: /reminders (anyone, anywhere), and for the city office in private chat
/remind_add, /remind_pause, /remind_resume. Who may do what, and every check of the input, is
in reminders.custom (audited there, in the same transaction); refusals are rendered from
reminder_refused.j2, which words the reminders' own reasons and passes every other to
refused.j2.

Also the liaison groups' upgrades: the ``migrate_to_chat_id`` / ``migrate_from_chat_id``
service messages Telegram sends when a group becomes a supergroup move the group in the
database (reminders.groups) and the city office is told, once."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.core.errors import Refused
from handlers.commands import CITY, Command
from handlers.common import act, app_ctx, is_private, reply
from reminders import custom, groups, scheduler, sending, views

COMMANDS = [
    Command("reminders", group=True),
    Command("remind_add", roles=CITY),
    Command("remind_pause", roles=CITY),
    Command("remind_resume", roles=CITY),
]


# A handler group of its own: a service message never waits behind (or is taken by) the
# conversation and text handlers of group 0.
GROUP_MOVES = -2


def register(app: Application) -> None:
    app.add_handler(CommandHandler("reminders", list_reminders))
    app.add_handler(CommandHandler("remind_add", remind_add))
    app.add_handler(CommandHandler("remind_pause", remind_pause))
    app.add_handler(CommandHandler("remind_resume", remind_resume))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, group_moved), group=GROUP_MOVES)


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def private_command(command: str) -> Callable[[Handler], Handler]:
    """Private chat only; a refusal is answered and changes nothing."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def inner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            try:
                if not is_private(update):
                    raise Refused("private_only", command=f"/{command}")
                await handler(update, context)
            except Refused as refusal:
                await reply(update, context, "reminder_refused", key=refusal.key, p=refusal.params)

        return inner

    return wrap


async def list_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    private = is_private(update)  # paused reminders and ids only in private chat
    items = await act(update, context, lambda uow: views.upcoming(uow, include_paused=private))
    await reply(update, context, "reminder_list", items=items, show_ids=private)


@private_command("remind_add")
async def remind_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    words = (message.text or "").split(maxsplit=3)[1:] if message else []  # keeps the text's lines
    item = await act(
        update, context, lambda uow: custom.add_custom(uow, custom.parse_custom(uow, words))
    )
    scheduler.reschedule(context.application, item)
    await reply(update, context, "reminder_done", action="add", item=item)


async def _set_paused(update: Update, context: ContextTypes.DEFAULT_TYPE, paused: bool) -> None:
    args = context.args or []
    item = await act(
        update,
        context,
        lambda uow: custom.set_paused(uow, custom.pause_request(uow, args, paused)),
    )
    scheduler.reschedule(context.application, item)
    await reply(update, context, "reminder_done", action="pause" if paused else "resume", item=item)


@private_command("remind_pause")
async def remind_pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_paused(update, context, True)


@private_command("remind_resume")
async def remind_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_paused(update, context, False)


async def group_moved(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: both service messages (in the old chat and in the new) say
    so; the first moves the group, and only a move of a served group is told."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    request = groups.GroupMove(old, new, via="message", title=message.chat.title or "")
    moved = await act(update, context, lambda uow: groups.move(uow, request))
    if moved.changed:
        await sending.announce_move(app_ctx(context), context.bot, moved)
