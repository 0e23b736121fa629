"""Which exam a unit takes, as the city office records it: /category, /consent, /allow_zone.

Thin adapters over ``bot.org.assignment_admin``, which authorizes (the city office only),
resolves the unit by code or full name, writes and audits. Private chat only.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.org import assignment_admin as service
from bot.registration import changes
from handlers.commands import CITY, Command
from handlers.common import act, private_only, reply

COMMANDS = [
    Command("category", roles=CITY),
    Command("consent", roles=CITY),
    Command("allow_zone", roles=CITY),
]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("category", category))
    app.add_handler(CommandHandler("consent", consent))
    app.add_handler(CommandHandler("allow_zone", allow_zone))


def _request(name: str, context: ContextTypes.DEFAULT_TYPE) -> service.UnitCommand:
    return service.UnitCommand.from_words(name, list(context.args or []))


@private_only("category")
async def category(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = _request("category", context)
    view = await act(update, context, lambda uow: service.category(uow, request))
    await reply(update, context, "category_shown", v=view)


@private_only("consent")
async def consent(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = _request("consent", context)
    toggled = await act(update, context, lambda uow: service.consent(uow, request))
    await _reply_toggled(update, context, toggled)


@private_only("allow_zone")
async def allow_zone(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    request = _request("allow_zone", context)
    toggled = await act(update, context, lambda uow: service.allow_zone(uow, request))
    await _reply_toggled(update, context, toggled)


async def _reply_toggled(
    update: Update, context: ContextTypes.DEFAULT_TYPE, toggled: service.Toggled
) -> None:
    """The new state; a leave to take the zone exam withdrawn also names the unit's zone
    registrations still to come, which stay as they are until cancelled (/myreg)."""
    standing = []
    if toggled.changed and not toggled.granted:
        code = toggled.unit_code
        standing = await act(
            update, context, lambda uow: changes.standing_zone_registrations(uow, code)
        )
    await reply(update, context, "assignment_toggled", t=toggled, standing=standing)
