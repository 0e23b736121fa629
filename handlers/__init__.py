"""Telegram adapters: parse an update, call a service, render a template, reply."""

from __future__ import annotations

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from handlers import admin, basic, faq


def register(app: Application) -> None:
    app.add_handler(CommandHandler("start", basic.start))
    app.add_handler(CommandHandler("help", basic.help_command))
    app.add_handler(CommandHandler("faq", faq.faq_command))
    app.add_handler(CallbackQueryHandler(faq.on_suggestion, pattern=f"^{faq.CALLBACK_PREFIX}"))
    for name, callback in (
        ("bind", admin.bind),
        ("whoami", admin.whoami),
        ("revoke", admin.revoke),
        ("resetpw", admin.resetpw),
        ("transfer", admin.transfer),
        ("audit", admin.audit_log),
    ):
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(CallbackQueryHandler(admin.on_action_button, pattern=f"^{admin.ACTION_PREFIX}"))
    # Anything else that looks like a command: a short hint. Added last to the same group, so it
    # runs only when no handler above took the update.
    app.add_handler(MessageHandler(filters.COMMAND, basic.unknown_command))
    # Free text: the FAQ (new messages only; edits are not new questions).
    app.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, faq.on_text)
    )
