"""Sending one claimed reminder message to Telegram, and telling apart the failures after which
sending again is safe from those after which it may have arrived already.

Sending again is only safe when the first try did not go out: a 429, a 5xx, a refused or dropped
connection, a connect or pool timeout. A *read* timeout (or a connection reset while reading the
answer) is not retried — Telegram may have delivered the message and only the answer was late,
and a duplicate in the group is worse than a logged gap — it is recorded as failed ("may have
been sent"). An HTTP 2xx answer that cannot be read means Telegram took the message: recorded as
sent. The parse mode (HTML) and the link previews (off) are the Application's ``Defaults``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import warnings
from dataclasses import dataclass

import httpx
from telegram import Bot
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
from telegram.warnings import PTBDeprecationWarning

from reminders import sendlog
from reminders.models import SendStatus
from reminders.runtime import ORIGIN, Context
from reminders.sendlog import Delivery, Outcome

log = logging.getLogger(__name__)

PERMANENT = (BadRequest, Forbidden, InvalidToken, ChatMigrated)
# Transport failures after the whole request may have reached Telegram: it may have delivered
# the message and only the answer was lost. (A refused, reset-before-sending or dropped
# connection, a connect or pool timeout, a 5xx: Telegram did not take it.)
MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError)
UNREADABLE_ANSWER = "Invalid server response"  # PTB: HTTP 2xx, but the body is not JSON
MAYBE_SENT_NOTE = " (the answer was lost: it may have been sent, so it is not sent again)"
UNREADABLE_NOTE = "sent (HTTP 2xx), but the answer could not be read"
FLOOD_MARGIN_SECONDS = 0.1


@dataclass(frozen=True)
class Attempt:
    """One try: ``done`` (sent, with ``message_id`` or a ``note``), ``final`` (failed for good),
    or neither (try again after ``wait`` seconds)."""

    done: bool = False
    final: bool = False
    error: str = ""
    wait: float = 0.0
    message_id: int | None = None
    note: str = ""


def _flood_wait(exc: RetryAfter) -> float:
    """Seconds Telegram asks us to wait. ``retry_after`` is an int today and a timedelta in a
    future PTB (its deprecation warning says so); both are read, so the warning is not news."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    return seconds + FLOOD_MARGIN_SECONDS


def _maybe_sent(exc: NetworkError) -> bool:
    cause = exc.__cause__
    if isinstance(exc, TimedOut) and cause is None:
        return True  # a timeout PTB does not explain: assume the worst
    return isinstance(cause, MAYBE_SENT)


def _described(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


async def _try_once(bot: Bot, item: Delivery, backoff: float) -> Attempt:
    """Send once and classify what happened; ``backoff`` is the wait before a retry."""
    try:
        message = await bot.send_message(item.chat_id, item.text)
    except PERMANENT as exc:  # BadRequest is a NetworkError: caught first
        return Attempt(final=True, error=_described(exc))
    except RetryAfter as exc:
        return Attempt(error=f"RetryAfter: {exc}", wait=_flood_wait(exc))
    except NetworkError as exc:
        if _maybe_sent(exc):
            return Attempt(final=True, error=_described(exc) + MAYBE_SENT_NOTE)
        return Attempt(error=_described(exc), wait=backoff)
    except TelegramError as exc:
        if str(exc) != UNREADABLE_ANSWER:
            return Attempt(final=True, error=_described(exc))
        log.warning("reminder %s to chat %s: %s", item.reminder_id, item.chat_id, UNREADABLE_NOTE)
        return Attempt(done=True, note=UNREADABLE_NOTE)
    return Attempt(done=True, message_id=message.message_id)


async def deliver(ctx: Context, bot: Bot, item: Delivery) -> Outcome:
    """Send one claimed message: flood waits and network errors are retried with backoff (the
    AIORateLimiter already retries flood waits itself); the outcome is recorded in the sent-log,
    a final failure also logged as an error."""
    if item.send_id is None:
        raise ValueError("deliver() needs a claimed delivery")
    rcfg = ctx.config.reminders
    attempt, tried = Attempt(), 0
    for tried in range(1, rcfg.send_attempts + 1):
        attempt = await _try_once(bot, item, rcfg.retry_backoff_seconds * 2 ** (tried - 1))
        if attempt.done or attempt.final:
            break
        if tried < rcfg.send_attempts:
            log.warning(
                "reminder %s to chat %s: %s; retrying in %.1f s",
                item.reminder_id,
                item.chat_id,
                attempt.error,
                attempt.wait,
            )
            await asyncio.sleep(attempt.wait)
    outcome = _outcome(item, attempt, tried)
    send_id = item.send_id
    await ctx.run(lambda uow: sendlog.record(uow, send_id, outcome), ORIGIN)
    if outcome.status == SendStatus.SENT:
        log.info("reminder %s sent to chat %s", item.reminder_id, item.chat_id)
    else:
        log.error(
            "reminder %s to chat %s FAILED after %d attempt(s): %s",
            item.reminder_id,
            item.chat_id,
            tried,
            outcome.error,
        )
    return outcome


def _outcome(item: Delivery, attempt: Attempt, tried: int) -> Outcome:
    if attempt.done:
        return Outcome(
            item.reminder_id,
            item.chat_id,
            SendStatus.SENT,
            item.text,
            tried,
            message_id=attempt.message_id,
            note=attempt.note,
        )
    return Outcome(
        item.reminder_id, item.chat_id, SendStatus.FAILED, item.text, tried, attempt.error
    )
