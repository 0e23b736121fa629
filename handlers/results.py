"""Exam results: /results (rates of one's own units, or all first-level units for the city
office), /results_export (the workbook and the chart), /makeup_list and /affected.

Thin adapters: one unit of work per update (``act``) over ``bot.results``, then a template.
Private chat only (names and accounts are personal data); refusals from ``refused.j2``.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.config import Config
from bot.core.render import render
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.results import affected as consequences
from bot.results import export, makeup, rates
from bot.results.rates import RatesReport
from bot.results.table import percent, tables_for
from handlers.commands import ADMINS, CITY, Command
from handlers.common import act, app_ctx, private_only, reply

COMMANDS = [
    Command("results", roles=ADMINS),
    Command("results_export", roles=CITY),
    Command("makeup_list", roles=ADMINS),
    Command("affected", roles=ADMINS),
]

TABLE_ROWS = 30  # rows of a /results table
LIST_ROWS = 40  # learners listed by /makeup_list
AFFECTED_ROWS = 30  # learners listed per category by /affected


def register(app: Application) -> None:
    for name, callback in (
        ("results", results_view),
        ("results_export", results_export_files),
        ("makeup_list", makeup_list),
        ("affected", affected),
    ):
        app.add_handler(CommandHandler(name, callback))


def _unit_code(context: ContextTypes.DEFAULT_TYPE) -> str | None:
    return context.args[0] if context.args else None


@private_only("results")
async def results_view(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    view = await act(update, context, lambda uow: rates.view_for(uow, limit=TABLE_ROWS))
    tables = tables_for(view)
    await reply(
        update,
        context,
        "results",
        v=view,
        table=tables.table,
        counties=tables.counties,
        pct=percent,
    )


@dataclass(frozen=True)
class _Files:
    xlsx: bytes
    png: bytes
    chart_caption: str


def _files(config: Config, report: RatesReport) -> _Files:
    buffer = io.BytesIO()
    export.write_results_xlsx(config, report, buffer)
    chart = export.render_chart(config, report)
    return _Files(buffer.getvalue(), chart.png, export.chart_caption(config, chart))


@private_only("results_export")
async def results_export_files(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    report = await act(update, context, rates.city_report)
    config = app_ctx(context).config
    # Drawing takes a moment (and the first use loads matplotlib): keep the loop free.
    files = await asyncio.to_thread(_files, config, report)
    xlsx_name, png_name = export.filenames(report.now)
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    caption = render(
        "results_export_done",
        c=config,
        now=report.now,
        city=report.city,
        has_makeup=report.has_makeup,
        sheets=export.SHEETS,
        pct=percent,
    )
    await context.bot.send_document(
        chat_id=chat_id, document=InputFile(files.xlsx, filename=xlsx_name), caption=caption
    )
    await context.bot.send_document(
        chat_id=chat_id,
        document=InputFile(files.png, filename=png_name),
        caption=files.chart_caption,
    )


@private_only("makeup_list")
async def makeup_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    code = _unit_code(context)
    listing = await act(
        update, context, lambda uow: makeup.makeup_list_for(uow, MAKEUP_REGISTRATIONS, code)
    )
    await reply(update, context, "makeup_list", m=listing, limit=LIST_ROWS)


@private_only("affected")
async def affected(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    code = _unit_code(context)
    report = await act(update, context, lambda uow: consequences.affected(uow, code))
    await reply(update, context, "results_affected", a=report, limit=AFFECTED_ROWS)
