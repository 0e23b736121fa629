"""Looking things up: /units [TEXT] and /find ACCOUNT|NAME.

Thin adapters over ``bot.org.directory`` and ``bot.roster.search``, which decide the scope and
what may be shown. Private chat only (names and accounts are personal data).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.org import directory
from bot.roster import search
from handlers.commands import ADMINS, Command
from handlers.common import act, private_only, reply

COMMANDS = [
    Command("units", roles=ADMINS),
    Command("find", roles=ADMINS),
]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("units", units))
    app.add_handler(CommandHandler("find", find))


def _text(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or [])


@private_only("units")
async def units(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = _text(context)
    listing = await act(update, context, lambda uow: directory.list_units(uow, text))
    await reply(update, context, "units_found", listing=listing)


@private_only("find")
async def find(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    text = _text(context)
    found = await act(update, context, lambda uow: search.find_learners(uow, text))
    await reply(update, context, "learners_found", found=found)
