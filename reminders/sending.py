"""Sending one claimed reminder message to Telegram, and telling apart the failures after which
sending again is safe from those after which it may have arrived already.

Sending again is only safe when the first try certainly did not go out: a 429 (flood wait), an
HTTP error answer such as a 5xx, a refused connection, a connect or pool timeout — failures
before the request was written, or answers that say Telegram did not take it
(``reminders.transport.retryable``). Everything after the request was written without an
answer — a dropped connection (httpx's RemoteProtocolError), a read timeout, a reset while
reading — may have delivered it, and a duplicate in the group is worse than a logged gap: it is
recorded as failed ("may have been sent") and never sent again. An HTTP 2xx answer that cannot be
read means Telegram took the message: recorded as sent.

The row's ``written_at`` follows the request (``SendWatch``, through the Application's
``WatchedRequest``): set just before it is written, after the rate limiter's wait, and cleared
when it certainly did not arrive; so a process killed while a claim waits leaves a claim that the
next start sends (``reminders.sendlog.recover_stale``).

A group that Telegram upgraded to a supergroup answers ``ChatMigrated`` with its new id: the
group moves in the database (``reminders.groups``), the message is sent to the new id, and the
city office is told. Messages go out as HTML without link previews (``bot.outgoing``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import warnings
from dataclasses import dataclass, field, replace

from telegram import Bot
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.warnings import PTBDeprecationWarning

from bot.core.render import render
from bot.core.uow import UnitOfWork
from bot.outgoing import send
from reminders import groups, sendlog, transport
from reminders.groups import GroupMove, Moved
from reminders.models import SendStatus
from reminders.runtime import ORIGIN, Context
from reminders.sendlog import Delivery, Outcome

log = logging.getLogger(__name__)

PERMANENT = (BadRequest, Forbidden, InvalidToken)
UNREADABLE_ANSWER = "Invalid server response"  # PTB: HTTP 2xx, but the body is not JSON
MAYBE_SENT_NOTE = (
    " (the request was written and no answer came: it may have been sent, so it is not sent again)"
)
UNREADABLE_NOTE = "sent (HTTP 2xx), but the answer could not be read"
FLOOD_MARGIN_SECONDS = 0.1
MAX_MOVES = 2  # a group upgrades once; a second answer ChatMigrated is believed once more
MOVED_TEMPLATE = "reminder_group_moved"


@dataclass(frozen=True)
class Attempt:
    """One try: ``done`` (sent, with ``message_id`` or a ``note``), ``final`` (failed for good),
    ``moved_to`` (the chat has a new id), ``released`` (the claim is no longer ours: nothing was
    written), or none of these (try again after ``wait`` seconds)."""

    done: bool = False
    final: bool = False
    error: str = ""
    wait: float = 0.0
    message_id: int | None = None
    note: str = ""
    moved_to: int | None = None
    released: bool = False


class SendWatch:
    """The sent-log row of one claimed message, following its request (``transport.Watch``)."""

    def __init__(self, ctx: Context, send_id: int) -> None:
        self.ctx = ctx
        self.send_id = send_id

    async def writing(self) -> None:
        written = await self.ctx.run(
            functools.partial(sendlog.mark_written, send_id=self.send_id), ORIGIN
        )
        if not written:
            raise transport.NotWritten(f"claim {self.send_id} was released")

    async def not_sent(self) -> None:
        await self.ctx.run(functools.partial(sendlog.mark_unwritten, send_id=self.send_id), ORIGIN)


def _flood_wait(exc: RetryAfter) -> float:
    """Seconds Telegram asks us to wait. ``retry_after`` is an int today and a timedelta in a
    future PTB (its deprecation warning says so); both are read, so the warning is not news."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = exc.retry_after
    seconds = value.total_seconds() if isinstance(value, dt.timedelta) else float(value)
    return seconds + FLOOD_MARGIN_SECONDS


def _described(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


async def _try_once(
    bot: Bot, item: Delivery, backoff: float, unwatched: SendWatch | None = None
) -> Attempt:
    """Send once and classify what happened; ``backoff`` is the wait before a retry. With
    ``unwatched`` (the bot's request does not tell when it writes) the row is marked written
    before the call, the rate limiter's wait included: safe, but a crash then loses the claim."""
    try:
        if unwatched is not None:
            await unwatched.writing()
        message = await send(bot, item.chat_id, item.text)
    except transport.NotWritten as exc:
        return Attempt(released=True, error=_described(exc))
    except ChatMigrated as exc:
        return Attempt(moved_to=int(exc.new_chat_id), error=_described(exc))
    except PERMANENT as exc:  # BadRequest is a NetworkError: caught first
        return Attempt(final=True, error=_described(exc))
    except RetryAfter as exc:
        return Attempt(error=f"RetryAfter: {exc}", wait=_flood_wait(exc))
    except NetworkError as exc:
        if transport.retryable(exc):
            return Attempt(error=_described(exc), wait=backoff)
        return Attempt(final=True, error=_described(exc) + MAYBE_SENT_NOTE)
    except TelegramError as exc:
        if str(exc) != UNREADABLE_ANSWER:
            return Attempt(final=True, error=_described(exc))
        log.warning("reminder %s to chat %s: %s", item.reminder_id, item.chat_id, UNREADABLE_NOTE)
        return Attempt(done=True, note=UNREADABLE_NOTE)
    return Attempt(done=True, message_id=message.message_id)


@dataclass
class _Progress:
    """Where one delivery stands: the message (its chat follows a group that moved), the last
    attempt, the tries so far, the moves met on the way."""

    item: Delivery
    attempt: Attempt = field(default_factory=Attempt)
    tried: int = 0
    moves: list[Moved] = field(default_factory=list)
    there_already: bool = False  # moved to a chat that already has this message


async def deliver(ctx: Context, bot: Bot, item: Delivery) -> Outcome:
    """Send one claimed message: flood waits and failures before the write are retried with
    backoff (the AIORateLimiter already retries flood waits itself), a chat that moved is
    followed; the outcome is recorded in the sent-log, a final failure also logged as an
    error. The outcome's ``chat_id`` is where the message went (a moved group's new id)."""
    if item.send_id is None:
        raise ValueError("deliver() needs a claimed delivery")
    send_id = item.send_id
    progress = await _send(ctx, bot, item, SendWatch(ctx, send_id))
    if progress.attempt.released:  # nothing written, nothing to record: the row is gone
        log.warning(
            "reminder %s to chat %s: %s", item.reminder_id, item.chat_id, progress.attempt.error
        )
        return _outcome(progress)
    outcome = _outcome(progress)
    await ctx.run(lambda uow: sendlog.record(uow, send_id, outcome), ORIGIN)
    _log_outcome(item, outcome)
    for moved in progress.moves:
        if moved.changed:
            await announce_move(ctx, bot, moved)
    return outcome


async def _send(ctx: Context, bot: Bot, item: Delivery, watch: SendWatch) -> _Progress:
    """Try until sent, failed for good, released, or out of attempts."""
    rcfg = ctx.config.reminders
    unwatched = None if transport.is_watched(bot.request) else watch
    progress = _Progress(item)
    while progress.tried < rcfg.send_attempts:
        progress.tried += 1
        backoff = rcfg.retry_backoff_seconds * 2 ** (progress.tried - 1)
        with transport.watching(watch):
            attempt = await _try_once(bot, progress.item, backoff, unwatched)
        progress.attempt = attempt
        if attempt.moved_to is not None and len(progress.moves) < MAX_MOVES:
            progress.tried -= 1  # not a failure: the same message, to the group's new id
            if await _follow(ctx, progress, attempt.moved_to):
                continue
            break
        if attempt.done or attempt.final or attempt.released or attempt.moved_to is not None:
            break
        await watch.not_sent()  # certainly not sent: a crash during the wait may send it again
        if progress.tried < rcfg.send_attempts:
            log.warning(
                "reminder %s to chat %s: %s; retrying in %.1f s",
                item.reminder_id,
                progress.item.chat_id,
                attempt.error,
                attempt.wait,
            )
            await asyncio.sleep(attempt.wait)
    return progress


async def _follow(ctx: Context, progress: _Progress, new_chat: int) -> bool:
    """The chat moved: move the group and its sent-log (this claim with them). True when the
    claim is still ours to send at the new id; False when that chat already has the message
    (another instance got there first)."""
    item = progress.item
    request = GroupMove(item.chat_id, new_chat, via="send")
    send_id = item.send_id

    def work(uow: UnitOfWork) -> tuple[Moved, bool]:
        moved = groups.move(uow, request)
        return moved, send_id is not None and sendlog.chat_of(uow, send_id) == new_chat

    moved, still_ours = await ctx.run(work, ORIGIN)
    progress.moves.append(moved)
    log.warning(
        "chat %s became the supergroup %s (reminder %s): %s",
        item.chat_id,
        new_chat,
        item.reminder_id,
        "sending it there" if still_ours else "it already has this reminder",
    )
    if still_ours:
        progress.item = replace(item, chat_id=new_chat)
    else:
        progress.there_already = True
        progress.attempt = Attempt(final=True, error=sendlog.ALREADY_THERE.format(chat=new_chat))
    return still_ours


def _log_outcome(item: Delivery, outcome: Outcome) -> None:
    if outcome.status == SendStatus.SENT:
        log.info("reminder %s sent to chat %s", item.reminder_id, outcome.chat_id)
    elif outcome.status == SendStatus.SKIPPED:
        log.info(
            "reminder %s not sent to chat %s: %s", item.reminder_id, item.chat_id, outcome.error
        )
    else:
        log.error(
            "reminder %s to chat %s FAILED after %d attempt(s): %s",
            item.reminder_id,
            outcome.chat_id,
            outcome.attempts,
            outcome.error,
        )


def _outcome(progress: _Progress) -> Outcome:
    item, attempt, tried = progress.item, progress.attempt, max(progress.tried, 1)
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
    if attempt.released:
        status = SendStatus.RELEASED
    elif progress.there_already:
        status = SendStatus.SKIPPED
    else:
        status = SendStatus.FAILED
    return Outcome(item.reminder_id, item.chat_id, status, item.text, tried, attempt.error)


async def announce_move(ctx: Context, bot: Bot, moved: Moved) -> int:
    """Tell the city office's bound administrators, in private, that a group moved and where
    its reminders go now. Best effort: a failure is logged. Returns the messages sent."""
    recipients = await ctx.run(groups.city_office_chats, ORIGIN)
    text = render(MOVED_TEMPLATE, c=ctx.config, moved=moved)
    told = 0
    for chat_id in recipients:
        try:
            await send(bot, chat_id, text)
            told += 1
        except TelegramError as exc:
            log.warning("telling %s that chat %s moved failed: %s", chat_id, moved.old, exc)
    if not recipients:
        log.warning(
            "chat %s moved to %s; no city-office administrator is bound", moved.old, moved.new
        )
    return told
