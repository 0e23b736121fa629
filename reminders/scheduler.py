"""The reminders on PTB's JobQueue: when to look, and sending what is due.

The ``reminders`` and ``reminder_sends`` tables are the source of truth; the JobQueue's jobs live
in memory and are rebuilt from the tables at every start: one ``run_once`` job per upcoming
reminder, named ``reminder:<id>`` (a later schedule replaces the job of that name), and one
``run_repeating`` sweep every ``sweep_seconds``. Every job calls the same :func:`run_due`, which asks the database what is due by the injected clock and sends only what
it manages to claim in the sent-log, so a late job, a restart, a moved clock or a second
instance never sends twice.

Each job has ``misfire_grace_time`` ``[reminders] misfire_grace_seconds`` (APScheduler's default
of 1 s would silently drop a job that is a little late, e.g. after a busy moment or a suspended
host), ``coalesce`` on (a sweep missed several times runs once) and one instance at a time.
Whatever a job still misses, the next sweep picks up from the database, under the same
deadline rule.

Lifecycle: the Application's post_init calls :func:`start`, which also sends at once what fell
due while the bot was down (before the first update is served; the jobs begin when the JobQueue
starts), and its post_shutdown calls :func:`stop`. ``Application.stop`` stops the JobQueue and
waits for a running job; a run sees ``Application.running`` turn False and stops after the
messages it has in flight, leaving the rest unclaimed for the next start.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from telegram.ext import CallbackContext, JobQueue

from reminders import dispatch, sending, sendlog, store, transport
from reminders.dispatch import Overdue
from reminders.runtime import ORIGIN, App, Context, context_of
from reminders.sendlog import Delivery, Outcome
from reminders.views import ReminderView

log = logging.getLogger(__name__)

STATE_KEY = "reminders"
CATCH_UP_JOB = "reminders:catch-up"
SWEEP_JOB = "reminders:sweep"
JOB_PREFIX = "reminder:"
PARALLEL_CHATS = 16  # chats served at once; the rate limiter paces them

Queue = JobQueue[Any]


@dataclass
class SchedulerState:
    """Per Application: whether the reminders are started, the one-run-at-a-time lock, and the
    overdue reminders already logged (when skips are not recorded, they are logged once)."""

    started: bool = False
    stopping: bool = False
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    logged: set[tuple[str, dt.datetime]] = field(default_factory=set)


def state_of(app: App) -> SchedulerState:
    state: SchedulerState = app.bot_data.setdefault(STATE_KEY, SchedulerState())
    return state


def scheduler_of(app: App) -> AsyncIOScheduler | None:
    """The APScheduler under the JobQueue, once the reminders are started (for /health)."""
    if not state_of(app).started or app.job_queue is None:
        return None
    return app.job_queue.scheduler


def _queue(app: App) -> Queue:
    if app.job_queue is None:
        raise RuntimeError("the reminders need python-telegram-bot[job-queue]")
    return app.job_queue


# --- lifecycle -----------------------------------------------------------------------------


async def start(app: App) -> None:
    """Sync the calendar from config and schedule the jobs; the sweep's first run, as soon as
    the JobQueue starts, sends what fell due while the bot was down (still before its deadline)
    and reports interrupted sends. Calling it again duplicates nothing."""
    ctx = context_of(app)
    rcfg = ctx.config.reminders
    await ctx.run(store.sync_calendar, ORIGIN)
    await _recover_stale(ctx)
    if not transport.is_watched(app.bot.request):
        log.info(
            "the bot's request object does not tell when a request is written "
            "(reminders.transport.watched): a claim is taken as written before the rate "
            "limiter's wait, so a crash may lose the messages then waiting"
        )
    state = state_of(app)
    state.started, state.stopping = True, False
    queue = _queue(app)
    await rebuild_jobs(app)
    _drop(queue, SWEEP_JOB)
    queue.run_repeating(
        _on_job,
        interval=rcfg.sweep_seconds,
        first=rcfg.sweep_seconds,
        name=SWEEP_JOB,
        job_kwargs=_job_kwargs(ctx, SWEEP_JOB),
    )
    # The catch-up, as soon as the JobQueue starts (the bot is serving by then): what fell due
    # while the bot was down. Not a job of the start-up itself, which must not wait on a broadcast.
    _drop(queue, CATCH_UP_JOB)
    queue.run_once(_on_job, when=0, name=CATCH_UP_JOB, job_kwargs=_job_kwargs(ctx, CATCH_UP_JOB))
    log.info("reminders scheduled: %d jobs", len(_ours(queue)))


async def stop(app: App) -> None:
    """Stop sending (a run in progress stops after its messages in flight) and remove the
    reminders' jobs."""
    state = state_of(app)
    state.stopping, state.started = True, False
    if app.job_queue is not None:
        for job in _ours(app.job_queue):
            job.schedule_removal()


async def _recover_stale(ctx: Context) -> None:
    """Claims that never finished (the process was killed between claiming and recording),
    older than ``claim_timeout_minutes``: one whose request was never written is released and
    sent by this very sweep; one that was written is recorded as failed and logged, not re-sent.
    Checked at start and at every job run, so a quick restart still settles them once they are
    old enough."""
    found = await ctx.run(sendlog.recover_stale, ORIGIN)
    for row in found.released:
        log.warning(
            "reminder %s to chat %s was claimed at %s and never written (the bot stopped "
            "before sending it); released, it is sent now",
            row.reminder_id,
            row.chat_id,
            row.claimed_at.isoformat(),
        )
    for row in found.interrupted:
        log.error(
            "reminder %s to chat %s was written at %s and never finished (the bot stopped "
            "mid-send?); recorded as failed, not re-sent: it may have been sent",
            row.reminder_id,
            row.chat_id,
            (row.written_at or row.claimed_at).isoformat(),
        )


# --- the jobs --------------------------------------------------------------------------------


def _job_kwargs(ctx: Context, name: str) -> dict[str, Any]:
    return {
        "id": name,
        "misfire_grace_time": ctx.config.reminders.misfire_grace_seconds,
        "coalesce": True,
        "max_instances": 1,
    }


def _ours(queue: Queue) -> list[Any]:
    return [
        job
        for job in queue.jobs()
        if job.name and (job.name.startswith(JOB_PREFIX) or job.name in (SWEEP_JOB, CATCH_UP_JOB))
    ]


def _drop(queue: Queue, name: str) -> None:
    for job in queue.get_jobs_by_name(name):
        job.schedule_removal()


def _schedule(app: App, reminder_id: str, fire_at: dt.datetime) -> bool:
    """(Re)place the job of one reminder; none when its time has already come (then the sweep
    has it). The JobQueue runs on the wall clock: the job is set the injected clock's distance
    away."""
    ctx = context_of(app)
    queue = _queue(app)
    name = JOB_PREFIX + reminder_id
    _drop(queue, name)
    delay = fire_at - ctx.clock.now()
    if delay <= dt.timedelta(0):
        return False
    queue.run_once(_on_job, when=delay, name=name, job_kwargs=_job_kwargs(ctx, name))
    return True


async def rebuild_jobs(app: App) -> int:
    """One job per upcoming, unpaused reminder; jobs of reminders that went away or were paused
    are removed. Returns the number of reminder jobs."""
    if not state_of(app).started:
        return 0
    ctx = context_of(app)
    rows = await ctx.run(lambda uow: [(r.id, r.fire_at) for r in store.upcoming(uow)], ORIGIN)
    wanted = {JOB_PREFIX + rid for rid, fire_at in rows if _schedule(app, rid, fire_at)}
    for job in _ours(_queue(app)):
        if job.name.startswith(JOB_PREFIX) and job.name not in wanted:
            job.schedule_removal()
    return len(wanted)


def reschedule(app: App, reminder: ReminderView) -> None:
    """After /remind_add, /remind_pause or /remind_resume: add, move or drop that one job."""
    if not state_of(app).started:
        return
    if reminder.paused:
        _drop(_queue(app), JOB_PREFIX + reminder.id)
        return
    _schedule(app, reminder.id, reminder.fire_at)


async def _on_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    """Every job: a sweep, until the Application stops."""
    app = context.application
    await _sweep(app, interrupted=lambda: not app.running)


async def _sweep(app: App, interrupted: Callable[[], bool] | None = None) -> None:
    """Report stale claims, then send what is due; a failure is logged, and the next sweep
    tries again."""
    if state_of(app).stopping:
        return
    try:
        await _recover_stale(context_of(app))
        await run_due(app, interrupted=interrupted)
    except Exception:
        log.exception("sending due reminders failed; the next sweep tries again")


# --- sending what is due -----------------------------------------------------------------------


async def run_due(
    app: App,
    *,
    group_ids: list[int] | None = None,
    record_skips: bool = True,
    interrupted: Callable[[], bool] | None = None,
) -> list[Outcome]:
    """Send every due reminder not yet claimed for its chats, at the injected clock's time; the
    one function behind the jobs, the sandbox's /now and the tests. ``group_ids`` overrides
    the served groups (``reminders.groups``); ``record_skips=False`` only logs reminders not
    sent (for a clock that may travel back); ``interrupted`` says when to stop between
    messages."""
    ctx = context_of(app)
    state = state_of(app)

    def stopped() -> bool:
        return state.stopping or (interrupted is not None and interrupted())

    async with state.lock:
        plan = await ctx.run(lambda uow: dispatch.plan_due(uow, group_ids), ORIGIN)
        await _settle_overdue(ctx, state, plan.overdue, bool(plan.chats) and record_skips)
        by_chat: dict[int, list[Delivery]] = {}
        for item in plan.deliveries:
            by_chat.setdefault(item.chat_id, []).append(item)
        gate = asyncio.Semaphore(PARALLEL_CHATS)

        async def one_chat(items: list[Delivery]) -> list[Outcome]:
            outcomes = []
            moved: dict[int, int] = {}  # a group that got a new id on the way
            async with gate:
                for item in items:  # in order, per chat
                    if stopped():  # left unclaimed: the next start sends it
                        break
                    item = replace(item, chat_id=moved.get(item.chat_id, item.chat_id))
                    claimed = await ctx.run(functools.partial(sendlog.claim, item=item), ORIGIN)
                    if claimed is None:  # another instance has it
                        continue
                    outcome = await sending.deliver(ctx, app.bot, claimed)
                    if outcome.chat_id != item.chat_id:
                        moved[item.chat_id] = outcome.chat_id
                    outcomes.append(outcome)
            return outcomes

        results = await asyncio.gather(*(one_chat(items) for items in by_chat.values()))
    return [outcome for chunk in results for outcome in chunk]


async def _settle_overdue(
    ctx: Context, state: SchedulerState, overdue: list[Overdue], record: bool
) -> None:
    """Record (once per chat) and log the due reminders not sent — their deadline passed, or a
    newer one of their series is sent instead; with ``record`` False (no group chats, or a
    clock that may travel back) only log them, once."""
    tz = ctx.config.tz
    for item in overdue:
        for skip in item.skips() if record else []:
            if await ctx.run(functools.partial(sendlog.record_skip, skip=skip), ORIGIN):
                log.info(
                    "reminder %s skipped for chat %s: due %s, %s",
                    item.reminder_id,
                    skip.chat_id,
                    item.fire_at.astimezone(tz).isoformat(),
                    _why(item, tz),
                )
        if not record and (item.reminder_id, item.fire_at) not in state.logged:
            state.logged.add((item.reminder_id, item.fire_at))
            log.info("reminder %s not sent: %s", item.reminder_id, _why(item, tz))


def _why(item: Overdue, tz: dt.tzinfo) -> str:
    if item.newer is not None:
        return f"{item.newer}, newer in its series, is due too"
    deadline = item.deadline.astimezone(tz).isoformat()
    return f"deadline {deadline} passed before it could be sent"


async def on_clock_moved(app: App, group_ids: list[int] | None = None) -> list[Outcome]:
    """The injected clock jumped (the sandbox's /now): send what is now due, re-time the jobs.
    Skips are not recorded: a clock that jumps may jump back."""
    outcomes = await run_due(app, group_ids=group_ids, record_skips=False)
    await rebuild_jobs(app)
    return outcomes
