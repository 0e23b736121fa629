"""Reminding the operators of platform tasks left open too long (operator mode): called from
the delivery worker's run (``handlers.platform.run_once``). Each overdue task is claimed for one
reminder per ``[platform] operator_reminder_hours`` (``bot.platform.queue.claim_reminders``), so
two workers, or a run repeated, remind it once; the bound operators and city office
administrators receive one private message naming the overdue tasks."""

from __future__ import annotations

import logging
from typing import Any

from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import AppContext
from bot.core.render import render
from bot.core.uow import Origin
from bot.outgoing import send
from bot.platform import queue

log = logging.getLogger(__name__)

ORIGIN = Origin.system("platform")


async def remind(app: Application[Any, Any, Any, Any, Any, Any]) -> int:
    """Remind the operators of the overdue tasks, if any; how many messages were sent."""
    ctx: AppContext = app.bot_data["ctx"]
    if not ctx.gateway.queues_for_operator:
        return 0
    reminder = await ctx.run(queue.claim_reminders, ORIGIN)
    if reminder is None:
        return 0
    text = render("platform_operator_reminder", c=ctx.config, reminder=reminder)
    sent = 0
    for chat_id in reminder.chat_ids:
        try:
            await send(app.bot, chat_id, text)
            sent += 1
        except TelegramError as exc:  # claimed: reminded again only after the next period
            log.warning("operator reminder to %s not delivered: %s", chat_id, exc)
    return sent
