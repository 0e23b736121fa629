"""Telegram adapters: parse an update, call a service, render a template, reply."""

from __future__ import annotations

import importlib

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import basic, commands, faq

FREE_TEXT = filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND


def register(app: Application) -> None:
    # Edits of commands stop here, before any command or conversation handler (which would take
    # an edited command as a new one).
    app.add_handler(
        MessageHandler(filters.UpdateType.EDITED_MESSAGE & filters.COMMAND, basic.edited_command),
        group=-1,
    )
    # Free text: the FAQ (new messages only; edits are not new questions). First in its group:
    # no other handler of the group takes text that is no command (they take commands, buttons
    # and documents), and most updates are such text, which then is not checked against every
    # command handler in turn.
    app.add_handler(MessageHandler(FREE_TEXT, faq.on_text))
    app.add_handler(CommandHandler("start", basic.start))
    app.add_handler(CommandHandler("help", basic.help_command))
    app.add_handler(CommandHandler("faq", faq.faq_command))
    app.add_handler(CallbackQueryHandler(faq.on_suggestion, pattern=f"^{faq.CALLBACK_PREFIX}"))
    for module in commands.FEATURES:
        importlib.import_module(module).register(app)
    # Anything else that looks like a command: a short hint. Added last to the same group, so it
    # runs only when no handler above took the update.
    app.add_handler(MessageHandler(filters.COMMAND, basic.unknown_command))
