"""/start, /help and the hint for unknown commands."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from handlers import commands
from handlers.common import is_private, reply, who


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    identity = await who(update, context)
    await reply(update, context, "start", identity=identity, private=is_private(update))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    identity = await who(update, context)
    private = is_private(update)
    shown = commands.visible(identity.role if identity else None, private=private)
    await reply(
        update,
        context,
        "help",
        identity=identity,
        commands=shown,
        private=private,
        can_bind=commands.known("bind"),
    )


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None or not message.text:
        return
    word = message.text.split()[0][1:]
    name, _, target = word.partition("@")
    if target and target.lower() != (context.bot.username or "").lower():
        return  # meant for another bot in the group
    await reply(update, context, "unknown_command", command=name[:32])


async def edited_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An edited command is not a new one: running it again would repeat its action (a second
    reminder to the group, another reset request, another wrong invite code counted). Say so
    in private chat, stay silent in the group, and let no other handler see the edit."""
    if is_private(update):
        await reply(update, context, "edited_command")
    raise ApplicationHandlerStop
