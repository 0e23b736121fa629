"""County plans and the city office's overview: /plan, /plans, /status, /export.

Thin adapters: one unit of work per update on ``bot.registration.plans`` or ``bot.overview``
(which check who may ask), a template for the reply, or the workbook as a document (made in the
export worker process, ``bot.workers``). Private chat only; refusals come from the refusal
templates.
"""

from __future__ import annotations

import re

from telegram import InputFile, Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot import workers
from bot.core.render import render
from bot.org.models import Role
from bot.outgoing import HTML
from bot.overview import county_plans, export
from bot.overview import status as reports
from bot.registration import plans
from handlers.commands import CITY, Command
from handlers.common import act, app_ctx, chat_id_of, origin_of, private_only, reply

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


def _arguments(update: Update) -> str:
    """The message text after the command word, line breaks kept (the plan's note may have
    several lines)."""
    message = update.effective_message
    text = (message.text or "") if message else ""
    command = re.match(r"\s*\S+", text)
    return text[command.end() :].strip() if command else ""


@private_only("plan")
async def plan(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    submission = plans.PlanSubmission.from_text(_arguments(update))
    receipt = await act(update, context, lambda uow: plans.submit_plan(uow, submission))
    await reply(update, context, "plan_saved", receipt=receipt)


@private_only("plans")
async def plans_overview(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    overview = await act(update, context, county_plans.plans_overview)
    await reply(update, context, "plans", overview=overview)


@private_only("status")
async def status(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    result = await act(update, context, reports.report)
    await reply(update, context, "status", r=result)


@private_only("export")
async def export_xlsx(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    # The workbook is made in the export worker process (bot.workers), like /results_export's.
    worker = workers.worker_of(context.application.bot_data)
    made = await worker.run(app_ctx(context), workers.registrations_file, origin_of(update))
    done = made.done
    caption = render(
        "export_done",
        c=app_ctx(context).config,
        now=done.at,
        rows=done.registrations,
        sheets=export.SHEETS,
    )
    await context.bot.send_document(
        chat_id=chat_id_of(update),  # type: ignore[arg-type]
        document=InputFile(made.xlsx, filename=export.file_name(done.at)),
        caption=caption,
        parse_mode=HTML,
    )
