"""The platform tasks' Telegram side: the delivery worker on PTB's JobQueue, and telling each
requester the outcome in a new private message once the platform has applied or refused it.

The database is the source of truth (``bot.platform.delivery``): the worker claims due tasks,
hands each to the gateway, records the answer, then claims and sends the notices. A job that is
missed or a process that dies leaves nothing behind that the next run does not pick up.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application, CallbackContext

from bot.context import AppContext
from bot.core.render import render
from bot.core.uow import Origin
from bot.effects import EFFECTS
from bot.outgoing import send
from bot.platform import delivery
from bot.platform.gateway import Outcome
from handlers import platform_reminders

log = logging.getLogger(__name__)

ORIGIN = Origin.system("platform")
JOB = "platform:deliver"
KICK = "platform:kick"
LOCK_KEY = "platform_lock"

App = Application[Any, Any, Any, Any, Any, Any]


def _ctx(app: App) -> AppContext:
    ctx: AppContext = app.bot_data["ctx"]
    return ctx


def delivery_lock(app: App) -> asyncio.Lock:
    """Held by each delivery run: one run at a time in a process."""
    lock: asyncio.Lock = app.bot_data.setdefault(LOCK_KEY, asyncio.Lock())
    return lock


def _job_kwargs(name: str) -> dict[str, Any]:
    return {"id": name, "misfire_grace_time": None, "coalesce": True, "max_instances": 1}


async def start(app: App) -> None:
    """Deliver every ``delivery_interval_seconds``; the first run soon after start picks up
    what was left when the bot stopped."""
    if app.job_queue is None:
        return
    interval = _ctx(app).config.platform.delivery_interval_seconds
    for job in app.job_queue.get_jobs_by_name(JOB):
        job.schedule_removal()
    app.job_queue.run_repeating(
        _on_job, interval=interval, first=1, name=JOB, job_kwargs=_job_kwargs(JOB)
    )


async def stop(app: App) -> None:
    if app.job_queue is None:
        return
    for name in (JOB, KICK):
        for job in app.job_queue.get_jobs_by_name(name):
            job.schedule_removal()


def kick(app: App) -> None:
    """Deliver now (after an action submitted a task), not at the next interval."""
    if app.job_queue is not None:
        app.job_queue.run_once(_on_job, when=0, name=KICK)


async def _on_job(context: CallbackContext[Any, Any, Any, Any]) -> None:
    try:
        await run_once(context.application)
    except Exception:
        log.exception("delivering platform tasks failed; the next run tries again")


async def run_once(app: App) -> int:
    """Deliver the due tasks and tell the requesters of the finished ones; how many messages
    were sent. One run at a time in a process (a second instance is kept apart by the claims)."""
    ctx = _ctx(app)
    async with delivery_lock(app):
        gateway = ctx.gateway
        if not gateway.queues_for_operator:
            for _ in range(delivery.BATCH):
                due = await ctx.run(delivery.claim_due, ORIGIN)
                if not due:
                    break
                claimed = due[0]
                outcome = await _deliver(gateway, claimed)
                record = functools.partial(
                    delivery.record, claimed=claimed, outcome=outcome, effects=EFFECTS
                )
                await ctx.run(record, ORIGIN)
        # operator mode: remind the operators of tasks left open too long
        return await notify(app) + await platform_reminders.remind(app)


async def _deliver(gateway: Any, claimed: delivery.Claimed) -> Outcome:
    try:
        outcome: Outcome = await gateway.deliver(claimed.body)
    except Exception as exc:  # a gateway bug or an unexpected transport error: try again later
        log.exception("platform task %s: delivery raised", claimed.id)
        return Outcome.retry(type(exc).__name__)
    if outcome.kind == "retry":
        log.warning(
            "platform task %s: %s (attempt %d)", claimed.id, outcome.reason, claimed.attempts
        )
    else:
        log.info("platform task %s %s", claimed.id, outcome.kind)
    return outcome


async def notify(app: App) -> int:
    """Tell each requester of a finished task, once (claimed before sending)."""
    ctx = _ctx(app)
    sent = 0
    for notice in await ctx.run(delivery.claim_notices, ORIGIN):
        text = render("platform_result", c=ctx.config, task=notice.task)
        try:
            await send(app.bot, notice.chat_id, text)
            sent += 1
        except TelegramError as exc:  # claimed: not sent again (it may have arrived)
            log.warning("platform task %s: notice not delivered: %s", notice.task.id, exc)
    return sent
