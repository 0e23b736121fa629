"""The reminders' APScheduler wiring: an AsyncIOScheduler in the bot's own event loop.

Design (see README): the ``reminders`` and ``reminder_sends`` tables are the source of truth; the
scheduler's jobs live in memory and are rebuilt from the tables at every start, one date job per
upcoming reminder with a stable id (``reminder:<id>``, ``replace_existing``), plus a sweep every
``sweep_seconds``. Every job calls the same :func:`run_due`, which asks the database what is due
by the injected clock and sends only what it manages to claim in the sent-log, so a late job, a
restart, a moved clock or a second instance never sends twice.

``misfire_grace_time`` is ``[reminders] misfire_grace_seconds`` (APScheduler's default of 1 s
would silently drop a job that is a little late, e.g. after a busy moment or a suspended host) and
``coalesce`` is on: a sweep missed several times runs once. Whatever a job still misses, the
next sweep picks up from the database, under the same deadline rule.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram import LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import Application

from bot.context import AppContext
from reminders import service
from reminders.models import SendStatus

log = logging.getLogger(__name__)

STATE_KEY = "reminders"
SWEEP_JOB = "reminders:sweep"
JOB_PREFIX = "reminder:"
PARALLEL_CHATS = 16  # chats served at once; the rate limiter paces them
STOP_WAIT_SECONDS = 15.0


@dataclass(frozen=True)
class Outcome:
    reminder_id: str
    chat_id: int
    status: str  # "sent" | "failed"
    text: str
    attempts: int
    error: str = ""


@dataclass
class _State:
    scheduler: AsyncIOScheduler | None = None
    lock: asyncio.Lock | None = None
    logged: set = field(default_factory=set)
    running: set[asyncio.Task] = field(default_factory=set)  # job runs in progress
    stopping: bool = False

    def get_lock(self) -> asyncio.Lock:
        if self.lock is None:
            self.lock = asyncio.Lock()
        return self.lock


def _ctx(app: Application) -> AppContext:
    return app.bot_data["ctx"]


def _state(app: Application) -> _State:
    state = app.bot_data.get(STATE_KEY)
    if state is None:
        state = app.bot_data[STATE_KEY] = _State()
    return state


def scheduler_of(app: Application) -> AsyncIOScheduler | None:
    return _state(app).scheduler


# --- lifecycle ---------------------------------------------------------------------------------


Hook = Callable[[Application], Awaitable[None]]


def attach(app: Application) -> None:
    """Start the reminders after the Application's own post_init, stop them before its
    post_shutdown (which closes the database)."""
    before_init: Hook | None = app.post_init
    before_shutdown: Hook | None = app.post_shutdown

    async def post_init(application: Application) -> None:
        if before_init is not None:
            await before_init(application)
        await start(application)

    async def post_shutdown(application: Application) -> None:
        await stop(application)
        if before_shutdown is not None:
            await before_shutdown(application)

    app.post_init = post_init
    app.post_shutdown = post_shutdown


async def start(app: Application) -> None:
    """Sync the calendar, report interrupted sends, rebuild the jobs and start the scheduler;
    the first sweep runs at once and sends what fell due while the bot was down."""
    ctx = _ctx(app)
    config = ctx.config
    rcfg = config.reminders
    now = ctx.clock.now()
    with ctx.db.session() as session:
        service.sync_calendar(session, config, now)
    _recover_stale(ctx)
    state = _state(app)
    state.stopping = False
    if state.scheduler is not None and state.scheduler.running:
        return
    scheduler = AsyncIOScheduler(
        timezone=config.tz,
        job_defaults={
            "misfire_grace_time": rcfg.misfire_grace_seconds,
            "coalesce": True,
            "max_instances": 1,
        },
    )
    state.scheduler = scheduler
    scheduler.start()
    rebuild_jobs(app)
    scheduler.add_job(
        _sweep,
        "interval",
        seconds=rcfg.sweep_seconds,
        args=[app],
        id=SWEEP_JOB,
        name="reminders: send what is due",
        replace_existing=True,
        next_run_time=dt.datetime.now(config.tz),
    )
    log.info("reminders scheduled: %d jobs", len(scheduler.get_jobs()))


async def stop(app: Application) -> None:
    """Stop dispatching, let a run in progress finish recording its sends (up to
    STOP_WAIT_SECONDS), then shut the scheduler down: a send is not cut off mid-way."""
    state = _state(app)
    state.stopping = True
    scheduler, state.scheduler = state.scheduler, None
    if scheduler is None or not scheduler.running:
        return
    scheduler.pause()
    await asyncio.sleep(0)  # job runs already dispatched start, see ``stopping`` and return
    if state.running:
        await asyncio.wait(set(state.running), timeout=STOP_WAIT_SECONDS)
    scheduler.shutdown(wait=False)
    await asyncio.sleep(0)  # the shutdown is delivered through the loop


def _recover_stale(ctx: AppContext) -> None:
    """Claims that never finished (the process was killed between claiming and recording),
    older than ``claim_timeout_minutes``: recorded as failed and logged, not re-sent. Checked at
    start and at every sweep, so a quick restart still reports them once they are old enough."""
    timeout = dt.timedelta(minutes=ctx.config.reminders.claim_timeout_minutes)
    with ctx.db.session() as session:
        stale = service.recover_stale(session, ctx.clock.now(), timeout)
    for row in stale:
        log.error(
            "reminder %s to chat %s was claimed at %s and never finished (the bot stopped "
            "mid-send?); recorded as failed, not re-sent",
            row.reminder_id,
            row.chat_id,
            row.claimed_at.isoformat(),
        )


def _real_time(ctx: AppContext, moment: dt.datetime) -> dt.datetime:
    """The wall-clock moment at which the injected clock will show ``moment``."""
    tz = ctx.config.tz
    return moment - (ctx.clock.now() - dt.datetime.now(tz))


def rebuild_jobs(app: Application) -> int:
    """One date job per upcoming, unpaused reminder (stable ids, replace_existing); jobs of
    reminders that went away or were paused are removed. Returns the number of date jobs."""
    scheduler = scheduler_of(app)
    if scheduler is None:
        return 0
    ctx = _ctx(app)
    now = ctx.clock.now()
    with ctx.db.session() as session:
        rows = service.upcoming(session, now)
    wanted = set()
    for row in rows:
        job_id = JOB_PREFIX + row.id
        wanted.add(job_id)
        scheduler.add_job(
            _fire,
            "date",
            run_date=_real_time(ctx, row.fire_at),
            args=[app, row.id],
            id=job_id,
            name=f"reminder {row.id}",
            replace_existing=True,
        )
    for job in scheduler.get_jobs():
        if job.id.startswith(JOB_PREFIX) and job.id not in wanted:
            job.remove()
    return len(wanted)


def reschedule(app: Application, reminder_id: str) -> None:
    """After /remind_add, /remind_pause or /remind_resume: add, move or drop that one job."""
    scheduler = scheduler_of(app)
    if scheduler is None:
        return
    ctx = _ctx(app)
    job_id = JOB_PREFIX + reminder_id
    with ctx.db.session() as session:
        row = service.load(session, reminder_id)
    if row is None or row.paused or row.fire_at <= ctx.clock.now():
        with contextlib.suppress(Exception):
            scheduler.remove_job(job_id)
        return
    scheduler.add_job(
        _fire,
        "date",
        run_date=_real_time(ctx, row.fire_at),
        args=[app, row.id],
        id=job_id,
        name=f"reminder {row.id}",
        replace_existing=True,
    )


async def _fire(app: Application, reminder_id: str) -> None:
    log.debug("job for reminder %s fired", reminder_id)
    await _sweep(app)


async def _sweep(app: Application) -> None:
    state = _state(app)
    task = asyncio.current_task()
    if state.stopping or task is None:
        return
    state.running.add(task)
    try:
        _recover_stale(_ctx(app))
        await run_due(app)
    except Exception:
        log.exception("sending due reminders failed; the next sweep tries again")
    finally:
        state.running.discard(task)


# --- sending -------------------------------------------------------------------------------------


async def run_due(
    app: Application,
    now: dt.datetime | None = None,
    *,
    group_ids: list[int] | None = None,
    record_skips: bool = True,
) -> list[Outcome]:
    """Send every due reminder not yet claimed for its chats; the one function behind the jobs,
    the sandbox's /now and the tests. ``group_ids`` overrides config's group chats."""
    ctx = _ctx(app)
    state = _state(app)
    groups = list(ctx.config.telegram.group_chat_ids) if group_ids is None else list(group_ids)
    async with state.get_lock():
        moment = now or ctx.clock.now()
        deliveries = service.prepare(
            ctx.db, ctx.config, moment, groups, logged=state.logged, record_skips=record_skips
        )
        if not deliveries:
            return []
        by_chat: dict[int, list[service.Delivery]] = {}
        for item in deliveries:
            by_chat.setdefault(item.chat_id, []).append(item)
        gate = asyncio.Semaphore(PARALLEL_CHATS)

        async def one_chat(items: list[service.Delivery]) -> list[Outcome]:
            outcomes = []
            async with gate:
                for item in items:  # in order, per chat
                    if state.stopping:  # left unclaimed: the next start sends it
                        break
                    claimed = service.claim_delivery(ctx.db, item, ctx.clock.now())
                    if claimed is not None:  # else another instance has it
                        outcomes.append(await deliver(app, claimed))
            return outcomes

        results = await asyncio.gather(*(one_chat(items) for items in by_chat.values()))
    return [outcome for chunk in results for outcome in chunk]


def _retry_after_seconds(exc: RetryAfter) -> float:
    value = getattr(exc, "_retry_after", None)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return float(getattr(exc, "retry_after", 1) or 1)


PERMANENT = (BadRequest, Forbidden, InvalidToken, ChatMigrated)
# Transport failures after the whole request may have reached Telegram: it may have delivered
# the message and only the answer was lost. (A refused, reset-before-sending or dropped
# connection, a connect or pool timeout, a 5xx: Telegram did not take it.)
MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError)
UNREADABLE_ANSWER = "Invalid server response"  # PTB: HTTP 2xx, but the body is not JSON


def _maybe_sent(exc: NetworkError) -> bool:
    cause = exc.__cause__
    if isinstance(exc, TimedOut) and cause is None:
        return True  # a timeout PTB does not explain: assume the worst
    return isinstance(cause, MAYBE_SENT)


async def deliver(app: Application, item: service.Delivery) -> Outcome:
    """Send one claimed message: flood waits and network errors are retried with backoff (the
    AIORateLimiter already retries flood waits itself); a final failure is recorded in the
    sent-log and logged as an error.

    Sending again is only safe when the first try did not go out: a 429, a 5xx, a refused or
    dropped connection, a connect or pool timeout. A *read* timeout (or a connection reset while
    reading the answer) is not retried — Telegram may have delivered the message and only the
    answer was late, and a duplicate in the group is worse than a logged gap — it is recorded as
    failed ("may have been sent"). An HTTP 2xx answer that cannot be read means Telegram took
    the message: recorded as sent."""
    ctx = _ctx(app)
    rcfg = ctx.config.reminders
    assert item.send_id is not None, "deliver() needs a claimed delivery"
    attempts, error = 0, ""
    for attempt in range(1, rcfg.send_attempts + 1):
        attempts = attempt
        message_id, note = None, ""
        try:
            message = await app.bot.send_message(
                item.chat_id,
                item.text,
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
            message_id = message.message_id
        except PERMANENT as exc:  # BadRequest is a NetworkError: catch it first
            error = f"{type(exc).__name__}: {exc}"
            break
        except RetryAfter as exc:
            error = f"RetryAfter: {exc}"
            wait = _retry_after_seconds(exc) + 0.1
        except NetworkError as exc:
            error = f"{type(exc).__name__}: {exc}"
            if _maybe_sent(exc):
                error += " (the answer was lost: it may have been sent, so it is not sent again)"
                break
            wait = rcfg.retry_backoff_seconds * 2 ** (attempt - 1)
        except TelegramError as exc:
            if str(exc) != UNREADABLE_ANSWER:
                error = f"{type(exc).__name__}: {exc}"
                break
            note = "sent (HTTP 2xx), but the answer could not be read"
            log.warning("reminder %s to chat %s: %s", item.reminder_id, item.chat_id, note)
        if message_id is not None or note:
            with ctx.db.session() as session:
                service.mark_sent(
                    session,
                    item.send_id,
                    ctx.clock.now(),
                    attempts=attempt,
                    message_id=message_id,
                    note=note,
                )
            log.info("reminder %s sent to chat %s", item.reminder_id, item.chat_id)
            return Outcome(item.reminder_id, item.chat_id, SendStatus.SENT, item.text, attempt)
        if attempt < rcfg.send_attempts:
            log.warning(
                "reminder %s to chat %s: %s; retrying in %.1f s",
                item.reminder_id,
                item.chat_id,
                error,
                wait,
            )
            await asyncio.sleep(wait)
    with ctx.db.session() as session:
        service.mark_failed(session, item.send_id, attempts=attempts, error=error)
    log.error(
        "reminder %s to chat %s FAILED after %d attempt(s): %s",
        item.reminder_id,
        item.chat_id,
        attempts,
        error,
    )
    return Outcome(item.reminder_id, item.chat_id, SendStatus.FAILED, item.text, attempts, error)


async def on_clock_moved(app: Application, group_ids: list[int] | None = None) -> list[Outcome]:
    """The injected clock jumped (the sandbox's /now): send what is now due, re-time the jobs.
    Skips are not recorded: a clock that jumps may jump back."""
    outcomes = await run_due(app, group_ids=group_ids, record_skips=False)
    rebuild_jobs(app)
    return outcomes
