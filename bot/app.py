"""Builds the python-telegram-bot Application: the same one serves Telegram, a test server and
the offline sandbox."""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    LinkPreviewOptions,
)
from telegram.constants import FloodLimit, ParseMode
from telegram.error import TelegramError
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes, Defaults
from telegram.request import BaseRequest, HTTPXRequest

import handlers
from bot.context import AppContext
from bot.updates import PerSenderOrder
from handlers import commands
from handlers import platform as platform_worker
from reminders import scheduler as reminder_scheduler
from reminders.transport import watched

log = logging.getLogger(__name__)

# Connections for the Bot API calls other than getUpdates (PTB 22's default is 256 as well; set
# here so a broadcast running at the rate limiter's pace never waits for a free connection).
CONNECTION_POOL_SIZE = 64
PACE_BURST = 2  # see rate_limiter()
MENUS_KEY = "set_menus"  # bot_data: whether post_init sets the command menus
DEFAULTS = Defaults(
    parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
)


def rate_limiter() -> AIORateLimiter:
    """Telegram's limits: about 30 messages a second overall, 20 a minute into one group.

    The overall limit is a bucket of PACE_BURST messages refilled at 30/s, instead of PTB's
    default bucket of 30: that one lets a broadcast start with a burst of 30 on top of the
    steady 30/s (60 in its first second, twice the limit, inviting 429s). A bucket of 1 paces
    too slowly (aiolimiter wakes a waiter a little late: 28.5/s). Measured (``make bench``):
    200 private chats at 30/s, at most 32 in any second. Flood waits (429) are retried up to 3
    times, after the wait Telegram asks for."""
    return AIORateLimiter(
        overall_max_rate=PACE_BURST,
        overall_time_period=PACE_BURST / FloodLimit.MESSAGES_PER_SECOND,
        group_max_rate=FloodLimit.MESSAGES_PER_MINUTE_PER_GROUP,
        group_time_period=60,
        max_retries=3,
    )


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


FAQ_READY = "FAQ index ready"  # logged once the FAQ answers (tests wait for it)
FAQ_TASK = "faq_warm_up"  # bot_data: the warm-up task


def _warm_faq(ctx: AppContext) -> None:
    started = time.perf_counter()
    ctx.faq  # noqa: B018 - builds and caches the engine
    log.info("%s in %.2f s", FAQ_READY, time.perf_counter() - started)


async def _post_init(app: Application) -> None:
    ctx: AppContext = app.bot_data["ctx"]
    # Build the FAQ index (jieba's dictionary takes a second or two) in a worker thread while
    # the bot already serves commands; until it is ready the group gets silence, never a guess,
    # and a question asked in private waits for it (handlers.faq).
    # (A plain asyncio task: post_init runs before the application is "running".)
    app.bot_data[FAQ_TASK] = asyncio.create_task(
        asyncio.to_thread(_warm_faq, ctx), name="faq-warm-up"
    )
    if app.bot_data.get(MENUS_KEY, True):
        await _set_command_menus(app)
    # Sync the calendar, send what fell due while the bot was down, schedule the JobQueue jobs.
    await reminder_scheduler.start(app)
    # Deliver platform tasks (and tell requesters of finished ones) on the JobQueue.
    await platform_worker.start(app)


async def _post_shutdown(app: Application) -> None:
    ctx: AppContext = app.bot_data["ctx"]
    warming = app.bot_data.pop(FAQ_TASK, None)
    if warming is not None and not warming.done():
        warming.cancel()  # stopped during the warm-up: nothing to wait for
    await reminder_scheduler.stop(app)
    await platform_worker.stop(app)
    await ctx.gateway.close()
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
    builder = (
        ApplicationBuilder()
        .token(token)
        .concurrent_updates(PerSenderOrder())
        .defaults(DEFAULTS)  # every message is Telegram HTML, without link previews
    )
    if base_url:
        base = base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.rsplit("/", 1)[0] + "/file/bot")
    # The request object tells the reminders the moment a message is written, after the rate
    # limiter's wait (reminders.transport): only from then on may it have reached Telegram.
    if request is not None:
        builder = builder.request(watched(request)).get_updates_request(updates_request or request)
    else:
        # A read timeout on sendMessage leaves it unknown whether the message went out (it is
        # then not re-sent: reminders.sending.deliver); config says how long to wait.
        sending = HTTPXRequest(
            connection_pool_size=CONNECTION_POOL_SIZE,
            read_timeout=ctx.config.telegram.read_timeout_seconds,
        )
        builder = builder.request(watched(sending))
    if rate_limit:
        # PTB types the builder by the limiter's rate-limit argument; AIORateLimiter takes an int.
        builder = builder.rate_limiter(rate_limiter())  # type: ignore[arg-type]
    builder = builder.post_init(_post_init).post_shutdown(_post_shutdown)
    app = builder.build()
    app.bot_data["ctx"] = ctx
    app.bot_data[MENUS_KEY] = set_menus
    handlers.register(app)
    app.add_error_handler(_log_errors)
    return app
