"""Telegram adapters: parse an update, call a service, render a template, reply."""

from __future__ import annotations

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from handlers import basic


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", basic.start))
    app.add_handler(CommandHandler("help", basic.help_command))
    # Anything else that looks like a command: a short hint. Added last to the same group, so it
    # runs only when no handler above took the update.
    app.add_handler(MessageHandler(filters.COMMAND, basic.unknown_command))
