"""Builds the python-telegram-bot Application: the same one serves Telegram, a test server and
the offline sandbox."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, BotCommandScopeAllGroupChats, BotCommandScopeAllPrivateChats
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes
from telegram.request import BaseRequest

import handlers
from bot.context import AppContext
from handlers import commands
from reminders import scheduler as reminder_scheduler

log = logging.getLogger(__name__)


async def _set_command_menus(app: Application) -> None:
    for scope, private in (
        (BotCommandScopeAllPrivateChats(), True),
        (BotCommandScopeAllGroupChats(), False),
    ):
        menu = [BotCommand(name, desc) for name, desc in commands.menu(private=private)]
        try:
            await app.bot.set_my_commands(menu, scope=scope)
        except TelegramError as exc:  # the menu is a convenience; serving matters more
            log.warning("set_my_commands failed for %s: %s", type(scope).__name__, exc)


async def _post_init(app: Application) -> None:
    ctx: AppContext = app.bot_data["ctx"]
    # Build the FAQ index (jieba's dictionary takes about a second) off the event loop, before
    # the first update arrives.
    await asyncio.to_thread(lambda: ctx.faq)
    await _set_command_menus(app)


async def _post_shutdown(app: Application) -> None:
    ctx: AppContext = app.bot_data["ctx"]
    ctx.db.dispose()


async def _log_errors(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("error while handling an update: %s", context.error, exc_info=context.error)


def build_application(
    ctx: AppContext,
    token: str,
    *,
    base_url: str | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    rate_limit: bool = True,
    set_menus: bool = True,
) -> Application:
    builder = ApplicationBuilder().token(token).concurrent_updates(False)
    if base_url:
        base = base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.rsplit("/", 1)[0] + "/file/bot")
    if request is not None:
        builder = builder.request(request).get_updates_request(updates_request or request)
    if rate_limit:
        builder = builder.rate_limiter(AIORateLimiter(max_retries=3))
    builder = builder.post_shutdown(_post_shutdown)
    if set_menus:
        builder = builder.post_init(_post_init)
    app = builder.build()
    app.bot_data["ctx"] = ctx
    handlers.register(app)
    app.add_error_handler(_log_errors)
    reminder_scheduler.attach(app)  # starts in post_init, stops in post_shutdown
    return app
