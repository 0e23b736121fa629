"""Exam results: /results (rates of one's own units, or all first-level units for the city
office), /results_export (the workbook and the chart), /makeup_list and /affected.

Thin adapters over ``bot.results.service`` and ``results_export``; private chat only (names
and accounts are personal data), refusals from ``refused.j2``.
"""

from __future__ import annotations

import asyncio
import io

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.render import render
from bot.org import admins
from bot.results import export as results_export
from bot.results import service as results
from handlers.commands import ADMINS, CITY, Command
from handlers.common import app_ctx, private_only, reply, sender_id

COMMANDS = [
    Command("results", roles=ADMINS),
    Command("results_export", roles=CITY),
    Command("makeup_list", roles=ADMINS),
    Command("affected", roles=ADMINS),
]

TABLE_ROWS = 30  # rows of a /results table
LIST_ROWS = 40  # learners listed by /makeup_list (and per category by /affected: 30)


def register(app: Application) -> None:
    for name, callback in (
        ("results", results_view),
        ("results_export", results_export_files),
        ("makeup_list", makeup_list),
        ("affected", affected),
    ):
        app.add_handler(CommandHandler(name, callback))


def _score(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


@private_only("results")
async def results_view(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    with ctx.db.session() as session:
        identity = admins.authorize(session, sender_id(update))
        view = results.view_for(session, ctx.config, identity, ctx.now(), limit=TABLE_ROWS)
    after = view.report.has_makeup
    counties = ""
    if view.scope == "city" and view.report.counties:
        counties = results.text_table(view.report.counties, after=after)
    indent = view.head.depth + 1 if view.scope == "unit" else None
    table = results.text_table(view.rows, after=after, indent_from=indent)
    await reply(
        update, context, "results", v=view, table=table, counties=counties, pct=results.percent
    )


@private_only("results_export")
async def results_export_files(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    now = ctx.now()
    with ctx.db.session() as session:
        admins.require_city(admins.authorize(session, sender_id(update)))
        report = results.rates(session, ctx.config, now)
    buffer = io.BytesIO()
    results_export.write_results_xlsx(ctx.config, report, buffer)
    # Drawing takes a moment (and the first use loads matplotlib): keep the loop free.
    chart = await asyncio.to_thread(results_export.render_chart, ctx.config, report)
    xlsx_name, png_name = results_export.filenames(now)
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    caption = render(
        "results_export_done",
        c=ctx.config,
        now=now,
        city=report.city,
        has_makeup=report.has_makeup,
        sheets=results_export.SHEETS,
        pct=results.percent,
    )
    await context.bot.send_document(
        chat_id=chat_id,
        document=InputFile(buffer.getvalue(), filename=xlsx_name),
        caption=caption,
        parse_mode="HTML",
    )
    await context.bot.send_document(
        chat_id=chat_id,
        document=InputFile(chart.png, filename=png_name),
        caption=results_export.chart_caption(chart) or "暂无一级单位数据",
    )


@private_only("makeup_list")
async def makeup_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    code = context.args[0] if context.args else None
    with ctx.db.session() as session:
        identity = admins.authorize(session, sender_id(update))
        listing = results.makeup_list_for(session, ctx.config, identity, ctx.now(), code)
    await reply(update, context, "makeup_list", m=listing, limit=LIST_ROWS, score=_score)


@private_only("affected")
async def affected(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    code = context.args[0] if context.args else None
    with ctx.db.session() as session:
        identity = admins.authorize(session, sender_id(update))
        report = results.affected(session, ctx.config, identity, ctx.now(), code)
    await reply(update, context, "results_affected", a=report, limit=30)
