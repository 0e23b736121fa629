"""Reminder commands: /reminders (anyone, anywhere), and for the city office in private chat
/remind_add, /remind_pause, /remind_resume. Rules live in reminders.service; every change is
audited there, in the same transaction."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.errors import Refused
from bot.core.render import hm, render
from bot.org import admins
from handlers.commands import CITY, Command
from handlers.common import app_ctx, authorized, chat_id_of, is_private, reply, send_text
from reminders import scheduler, service
from reminders.models import StoredReminder

COMMANDS = [
    Command("reminders", group=True),
    Command("remind_add", roles=CITY),
    Command("remind_pause", roles=CITY),
    Command("remind_resume", roles=CITY),
]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("reminders", list_reminders))
    app.add_handler(CommandHandler("remind_add", remind_add))
    app.add_handler(CommandHandler("remind_pause", remind_pause))
    app.add_handler(CommandHandler("remind_resume", remind_resume))


Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]]


async def _refuse(update: Update, context: ContextTypes.DEFAULT_TYPE, refusal: Refused) -> None:
    ctx = app_ctx(context)
    if not refusal.key.startswith("remind_"):
        await send_text(update, refusal.render(c=ctx.config))
        return
    r = ctx.config.reminders
    tomorrow = ctx.now().date() + dt.timedelta(days=1)
    text = render(
        "reminder_refused",
        key=refusal.key,
        p=refusal.params,
        c=ctx.config,
        example=f"{tomorrow.isoformat()} {r.morning:%H:%M}",
        quiet=f"{hm(r.quiet_start)}—{hm(r.quiet_end)}",
    )
    await send_text(update, text)


def city_private(command: str) -> Callable[[Handler], Handler]:
    """Private chat only, city office only; refusals are rendered and change nothing."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def inner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            try:
                if not is_private(update):
                    raise Refused("private_only", command=f"/{command}")
                admins.require_city(authorized(update, context))
                await handler(update, context)
            except Refused as refusal:
                await _refuse(update, context, refusal)

        return inner

    return wrap


@dataclass(frozen=True)
class Item:
    id: str
    fire_at: dt.datetime
    title: str
    paused: bool
    text: str = ""
    overdue: bool = False


def _item(config, row: StoredReminder, now: dt.datetime | None = None) -> Item:
    return Item(
        id=row.id,
        fire_at=row.fire_at.astimezone(config.tz),
        title=service.title(config, row),
        paused=row.paused,
        text=row.text or "",
        overdue=now is not None and row.fire_at <= now,
    )


async def list_reminders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    private = is_private(update)
    with ctx.db.session() as session:
        rows = service.upcoming(
            session,
            ctx.now(),
            limit=ctx.config.reminders.upcoming_limit,
            include_paused=private,
        )
        items = [_item(ctx.config, row) for row in rows]
    await reply(update, context, "reminder_list", items=items, show_ids=private)


@city_private("remind_add")
async def remind_add(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    now = ctx.now()
    message = update.effective_message
    words = (message.text or "").split(maxsplit=3)[1:] if message else []  # keeps the text's lines
    request = service.parse_custom(ctx.config, words, now)
    with ctx.db.session() as session:
        row = service.add_custom(session, ctx.config, identity, request, now, chat_id_of(update))
        item = _item(ctx.config, row)
    scheduler.reschedule(context.application, row.id)
    await reply(update, context, "reminder_done", action="add", item=item)


async def _set_paused(update: Update, context: ContextTypes.DEFAULT_TYPE, paused: bool) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    args = context.args or []
    if len(args) != 1:
        raise Refused("remind_id_usage")
    now = ctx.now()
    with ctx.db.session() as session:
        row = service.set_paused(session, identity, args[0], paused, now, chat_id_of(update))
        item = _item(ctx.config, row, now)
    scheduler.reschedule(context.application, row.id)
    await reply(update, context, "reminder_done", action="pause" if paused else "resume", item=item)


@city_private("remind_pause")
async def remind_pause(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_paused(update, context, True)


@city_private("remind_resume")
async def remind_resume(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _set_paused(update, context, False)
