"""Exam results: /results (rates of one's own units, or all first-level units for the city
office), /results_export (the workbook and the chart), /makeup_list and /affected.

Thin adapters: one unit of work per update (``act``, in a thread) over ``bot.results``, then a
template; /results_export's unit of work runs in the export worker process instead
(``bot.workers``), the files coming back as bytes. Private chat only (names and accounts are
personal data); refusals from ``refused.j2``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Protocol

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes

from bot import workers
from bot.core.errors import Refused
from bot.core.render import render
from bot.core.uow import UnitOfWork
from bot.outgoing import HTML
from bot.registration.makeup_registrations import MAKEUP_REGISTRATIONS
from bot.results import affected as consequences
from bot.results import export, makeup, rates
from bot.results.table import percent, tables_for
from handlers.commands import ADMINS, CITY, Command
from handlers.common import act, app_ctx, edit_message, origin_of, private_only, reply

COMMANDS = [
    Command("results", roles=ADMINS),
    Command("results_export", roles=CITY),
    Command("makeup_list", roles=ADMINS),
    Command("affected", roles=ADMINS),
]

TABLE_ROWS = 30  # rows of a /results table
PAGE_PREFIX = "mk:"  # /makeup_list page buttons
AFFECTED_PREFIX = "af:"  # /affected page buttons
DIGITS = re.compile(r"[0-9]{1,9}")


def register(app: Application) -> None:
    for name, callback in (
        ("results", results_view),
        ("results_export", results_export_files),
        ("makeup_list", makeup_list),
        ("affected", affected),
    ):
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(CallbackQueryHandler(on_makeup_page, pattern=f"^{PAGE_PREFIX}"))
    app.add_handler(CallbackQueryHandler(on_affected_page, pattern=f"^{AFFECTED_PREFIX}"))


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


@private_only("results_export")
async def results_export_files(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # The whole export (authorization, the city's rates, the workbook, the chart) runs in the
    # export worker process (bot.workers): this chat waits for it, nobody else does.
    ctx = app_ctx(context)
    worker = workers.worker_of(context.application.bot_data)
    files = await worker.run(ctx, workers.results_files, origin_of(update))
    xlsx_name, png_name = export.filenames(files.now)
    chat_id = update.effective_chat.id  # type: ignore[union-attr]
    caption = render(
        "results_export_done",
        c=ctx.config,
        now=files.now,
        city=files.city,
        has_makeup=files.has_makeup,
        sheets=export.SHEETS,
        pct=percent,
    )
    await context.bot.send_document(
        chat_id=chat_id,
        document=InputFile(files.xlsx, filename=xlsx_name),
        caption=caption,
        parse_mode=HTML,
    )
    await context.bot.send_document(
        chat_id=chat_id,
        document=InputFile(files.png, filename=png_name),
        caption=files.chart_caption,
        parse_mode=HTML,
    )


@private_only("makeup_list")
async def makeup_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    code = _unit_code(context)
    listing = await act(
        update, context, lambda uow: makeup.makeup_list_for(uow, MAKEUP_REGISTRATIONS, code)
    )
    await reply(update, context, "makeup_list", m=listing, keyboard=_pages(listing))


class Paged(Protocol):
    """A page of a long list: its unit and where the pages before and after it start."""

    @property
    def unit_id(self) -> int: ...
    @property
    def previous_offset(self) -> int | None: ...
    @property
    def next_offset(self) -> int | None: ...


def _pages(listing: Paged, prefix: str = PAGE_PREFIX) -> InlineKeyboardMarkup | None:
    """Previous / next buttons: ``<prefix><unit id>:<offset>``; the press is authorized anew."""
    buttons = [
        InlineKeyboardButton(
            render("makeup_page_button", direction=direction),
            callback_data=f"{prefix}{listing.unit_id}:{offset}",
        )
        for direction, offset in (
            ("previous", listing.previous_offset),
            ("next", listing.next_offset),
        )
        if offset is not None
    ]
    return InlineKeyboardMarkup([buttons]) if buttons else None


def _page_press(data: str, prefix: str) -> tuple[int, int]:
    """The unit id and offset a page button carries; forged data is refused."""
    unit_text, _, offset_text = data.removeprefix(prefix).partition(":")
    if not (DIGITS.fullmatch(unit_text) and DIGITS.fullmatch(offset_text)):
        raise Refused("action_unknown")
    return int(unit_text), int(offset_text)


async def _turn_page(
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    prefix: str,
    load: Callable[[UnitOfWork, int, int], Paged],
    template: str,
    name: str,
) -> None:
    """A page button: that unit's list from that offset (``load``), if the presser may see it
    (authorized again, as the command is), in place of the page shown."""
    query = update.callback_query
    if query is None or query.data is None:
        return
    await query.answer()
    ctx = app_ctx(context)
    try:
        unit_id, offset = _page_press(query.data, prefix)
        page = await act(update, context, lambda uow: load(uow, unit_id, offset))
    except Refused as refusal:
        await edit_message(query, refusal.render(c=ctx.config))
        return
    text = render(template, c=ctx.config, now=ctx.now(), **{name: page})
    await edit_message(query, text, _pages(page, prefix))


async def on_makeup_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _turn_page(
        update,
        context,
        PAGE_PREFIX,
        lambda uow, unit_id, offset: makeup.makeup_page(uow, MAKEUP_REGISTRATIONS, unit_id, offset),
        "makeup_list",
        "m",
    )


@private_only("affected")
async def affected(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    code = _unit_code(context)
    report = await act(
        update, context, lambda uow: consequences.affected(uow, code, MAKEUP_REGISTRATIONS)
    )
    await reply(
        update,
        context,
        "results_affected",
        a=report,
        keyboard=_pages(report, AFFECTED_PREFIX),
    )


async def on_affected_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _turn_page(
        update,
        context,
        AFFECTED_PREFIX,
        lambda uow, unit_id, offset: consequences.affected_page(
            uow, MAKEUP_REGISTRATIONS, unit_id, offset
        ),
        "results_affected",
        "a",
    )
