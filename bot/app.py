"""Builds the python-telegram-bot Application: the same one serves Telegram, a test server and
the offline sandbox."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Coroutine
from typing import Any

import httpx
from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
)
from telegram import (
    BotCommand,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
)
from telegram.constants import FloodLimit
from telegram.error import TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    ContextTypes,
    JobQueue,
)
from telegram.request import BaseRequest, HTTPXRequest

import handlers
from bot import workers
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
AFTER_START_JOB = "startup:after-start"  # the JobQueue job that starts the background work
BACKGROUND_KEY = "startup_tasks"  # bot_data: the background start-up tasks, cancelled at stop
CATCH_UP_KEY = "startup_catch_up"  # bot_data: set once the reminders' catch-up has run
REMINDERS_KEY = "startup_reminders"  # bot_data: the reminders' start, when in the background
START_FAILED_KEY = "startup_failed"  # bot_data: that background start failed
# The FAQ warm-up waits for the catch-up (both want the CPU: jieba's dictionary and the index
# hold the interpreter a second or two, which slows a broadcast's bookkeeping) at most this
# long: a catch-up held up by a flood wait must not keep the group without answers for long.
CATCH_UP_WAIT_SECONDS = 10.0
_JOB_DONE = EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED


_heap_frozen = False


def _freeze_heap() -> None:
    """Once per process, with the FAQ index built: what is loaded by now (the index, jieba's
    dictionary, the modules) lives as long as the process, so it is moved out of the garbage
    collector's sight. A full collection then scans only what came after instead of the whole
    heap, which stopped every thread, the event loop's too, for 0.3-0.5 s (make bench)."""
    global _heap_frozen
    if not _heap_frozen:
        gc.collect()  # garbage first: what is frozen is never collected
        gc.freeze()
        _heap_frozen = True


def _warm_faq(ctx: AppContext) -> None:
    started = time.perf_counter()
    ctx.faq  # noqa: B018 - builds and caches the engine
    _freeze_heap()
    log.info("%s in %.2f s", FAQ_READY, time.perf_counter() - started)


def _background(app: Application, work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """A start-up step that serving does not wait for: a plain asyncio task (PTB's create_task
    wants a running application; post_init runs before it is), cancelled at shutdown."""
    task = asyncio.create_task(work, name=name)
    app.bot_data.setdefault(BACKGROUND_KEY, []).append(task)
    return task


async def _logged(what: str, work: Awaitable[object]) -> None:
    """A step the bot serves without: a failure is logged and serving goes on (without the
    index, the first question builds it: handlers.faq)."""
    try:
        await work
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("start-up step failed: %s", what)


def _watch_catch_up(app: Application, queue: JobQueue[Any]) -> asyncio.Event:
    """An event set when the reminders' catch-up job has run (or was missed)."""
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_job(event: JobExecutionEvent) -> None:
        if event.job_id == reminder_scheduler.CATCH_UP_JOB:
            loop.call_soon_threadsafe(done.set)
            queue.scheduler.remove_listener(on_job)

    queue.scheduler.add_listener(on_job, _JOB_DONE)
    app.bot_data[CATCH_UP_KEY] = done
    return done


async def _map_then_start_reminders(app: Application) -> None:
    """For a start that left the unit mapping for later: the mapping, then the reminders (the
    catch-up's lists of units yet to register read the mapping), beside the updater's
    bootstrap. The bot must not serve without its reminders: a failure stops it, as a failure
    in post_init would (``_after_start`` stops it if it is not running yet)."""
    ctx: AppContext = app.bot_data["ctx"]
    try:
        await asyncio.to_thread(ctx.map_units)
        await reminder_scheduler.start(app)
    except Exception:
        log.exception("start-up failed (the unit mapping or the reminders): stopping")
        app.bot_data[START_FAILED_KEY] = True
        if app.running:
            app.stop_running()


async def _warm_up_later(app: Application) -> None:
    """Build the FAQ index once the start-up's other work is done (the reminders started and
    their catch-up sent), in a worker thread, so updates are served meanwhile; until it is
    ready the group gets silence, never a guess, and a question asked in private waits for it
    (handlers.faq)."""
    ctx: AppContext = app.bot_data["ctx"]
    reminders: asyncio.Task[None] | None = app.bot_data.get(REMINDERS_KEY)
    if reminders is not None:  # started in the background (after a deferred unit mapping)
        await asyncio.gather(reminders, return_exceptions=True)
    catch_up: asyncio.Event | None = app.bot_data.get(CATCH_UP_KEY)
    if catch_up is not None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(catch_up.wait(), CATCH_UP_WAIT_SECONDS)
    if not app.running:  # stopping already: a thread started now would hold up the exit
        return
    await _logged("FAQ warm-up", asyncio.to_thread(_warm_faq, ctx))


async def _after_start(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Runs once the JobQueue starts, with ``Application.start``, right after the updater sent
    its first getUpdates: nothing from here on delays the first update. It only starts a task
    (a job that waited for it would hold up a stop)."""
    app = context.application
    if app.bot_data.get(START_FAILED_KEY):  # failed before the application was running
        app.stop_running()
        return
    _background(app, _warm_up_later(app), "faq-warm-up")


async def _post_init(app: Application) -> None:
    ctx: AppContext = app.bot_data["ctx"]
    queue = app.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is a dependency"
    _watch_catch_up(app, queue)
    # Sync the calendar and schedule the JobQueue jobs (milliseconds); the catch-up of what
    # fell due while the bot was down is one of them, run as soon as the JobQueue starts.
    if ctx.units_to_map:  # the mapping first: then beside the polling's bootstrap
        app.bot_data[REMINDERS_KEY] = _background(
            app, _map_then_start_reminders(app), "unit-mapping-and-reminders"
        )
    else:
        await reminder_scheduler.start(app)
    # Deliver platform tasks (and tell requesters of finished ones) on the JobQueue.
    await platform_worker.start(app)
    # The command menus: two round trips to Telegram, beside the updater's bootstrap (over
    # their own connection) rather than before it; a convenience, not a precondition.
    if app.bot_data.get(MENUS_KEY, True):
        _background(app, _set_command_menus(app), "command-menus")
    # The FAQ index once the bot polls.
    queue.run_once(
        _after_start,
        when=0,
        name=AFTER_START_JOB,
        job_kwargs={"id": AFTER_START_JOB, "misfire_grace_time": None, "replace_existing": True},
    )


async def _post_shutdown(app: Application) -> None:
    ctx: AppContext = app.bot_data["ctx"]
    # Stopped during the background start-up (the FAQ warm-up, say): nothing to wait for.
    tasks: list[asyncio.Task[None]] = app.bot_data.pop(BACKGROUND_KEY, [])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    await reminder_scheduler.stop(app)
    await platform_worker.stop(app)
    await workers.stop(app.bot_data)  # the export worker process, if one was started
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
        ApplicationBuilder().token(token).concurrent_updates(PerSenderOrder())
    )  # no PTB Defaults: every call that sends a text names its parse mode (bot.outgoing)
    if base_url:
        base = base_url.rstrip("/")
        builder = builder.base_url(base).base_file_url(base.rsplit("/", 1)[0] + "/file/bot")
    # The request object tells the reminders the moment a message is written, after the rate
    # limiter's wait (reminders.transport): only from then on may it have reached Telegram.
    if request is not None:
        builder = builder.request(watched(request)).get_updates_request(updates_request or request)
    else:
        # One TLS context for both connections (loading the CA bundle takes a tenth of a
        # second, which PTB's default get_updates request would spend again).
        tls = {"verify": httpx.create_ssl_context()}
        # A read timeout on sendMessage leaves it unknown whether the message went out (it is
        # then not re-sent: reminders.sending.deliver); config says how long to wait.
        sending = HTTPXRequest(
            connection_pool_size=CONNECTION_POOL_SIZE,
            read_timeout=ctx.config.telegram.read_timeout_seconds,
            httpx_kwargs=tls,
        )
        # getUpdates as PTB would make it: one connection, PTB's default timeouts.
        polling = HTTPXRequest(connection_pool_size=1, httpx_kwargs=tls)
        builder = builder.request(watched(sending)).get_updates_request(polling)
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
