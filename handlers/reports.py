"""County plans and the city office's overview: /plan, /plans, /status, /export.

Thin adapters: authorize, call ``bot.registration.plans`` / ``reports`` / ``export``, render a
template (or send the workbook). Private chat only; refusals come from ``refused.j2``.
"""

from __future__ import annotations

import io
import re

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.errors import Refused
from bot.core.render import render
from bot.org import admins
from bot.org.models import Role
from bot.overview import export
from bot.overview import status as reports
from bot.registration import plans
from handlers.commands import CITY, Command
from handlers.common import app_ctx, private_only, reply, sender_id

COUNTY = frozenset({Role.COUNTY})

COMMANDS = [
    Command("plan", roles=COUNTY),
    Command("plans", roles=CITY),
    Command("status", roles=CITY),
    Command("export", roles=CITY),
]


def register(app: Application) -> None:
    for name, callback in (
        ("plan", plan),
        ("plans", plans_overview),
        ("status", status),
        ("export", export_xlsx),
    ):
        app.add_handler(CommandHandler(name, callback))


def chat_id_of(update: Update) -> int | None:
    return update.effective_chat.id if update.effective_chat else None


def _arguments(update: Update) -> str:
    """The message text after the command word, line breaks kept (the plan's note may have
    several lines)."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    command = re.match(r"\s*\S+", text)
    return text[command.end() :].strip() if command else ""


@private_only("plan")
async def plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        identity = admins.authorize(session, sender_id(update))
    count, dates, detail = plans.split_plan_text(_arguments(update))
    if not count:
        if identity.role != Role.COUNTY:
            raise Refused("plan_county_only")
        raise Refused("plan_usage")
    with ctx.db.session() as session:
        receipt = plans.submit_plan(
            session,
            ctx.config,
            identity,
            count,
            dates,
            detail,
            ctx.now(),
            chat_id=chat_id_of(update),
        )
    await reply(update, context, "plan_saved", receipt=receipt)


def _city(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    with app_ctx(context).db.session() as session:
        admins.require_city(admins.authorize(session, sender_id(update)))


@private_only("plans")
async def plans_overview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    _city(update, context)
    with ctx.db.session() as session:
        overview = plans.plan_status(session, ctx.config, ctx.now())
    await reply(update, context, "plans", overview=overview)


@private_only("status")
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    _city(update, context)
    with ctx.db.session() as session:
        result = reports.status(session, ctx.config, ctx.now())
    await reply(update, context, "status", r=result)


def export_filename(now) -> str:
    return f"报名汇总-{now:%Y%m%d}.xlsx"


@private_only("export")
async def export_xlsx(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    _city(update, context)
    now = ctx.now()
    buffer = io.BytesIO()
    with ctx.db.session() as session:
        export.write_registrations_xlsx(session, ctx.config, buffer, now=now)
        rows = export.count_registrations(session)
    caption = render("export_done", c=ctx.config, now=now, rows=rows, sheets=export.SHEETS)
    await context.bot.send_document(
        chat_id=update.effective_chat.id,  # type: ignore[union-attr]
        document=InputFile(buffer.getvalue(), filename=export_filename(now)),
        caption=caption,
        parse_mode="HTML",
    )
