"""The question bank: /template, question files sent in private chat, /questions.

Thin adapters: one unit of work per action (``act``), calling bot.bank.service and
bot.bank.workbooks, then a template. Everything here runs in private chat only.
"""

from __future__ import annotations

from telegram import Document, Update
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.bank import service as bank
from bot.bank import workbooks
from bot.bank.words import words
from bot.core.errors import Refused
from bot.core.render import render
from bot.outgoing import HTML
from handlers.commands import ADMINS, CITY, Command
from handlers.common import act, app_ctx, private_only, reply

MAX_ERROR_LINES = 30

COMMANDS = [
    Command("template", roles=ADMINS),
    Command("questions", roles=CITY),
]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("template", template))
    app.add_handler(CommandHandler("questions", questions))
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.Document.ALL & filters.ChatType.PRIVATE,
            on_document,
        )
    )


@private_only("template")
async def template(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    if message is None:
        return
    data = await act(update, context, workbooks.template_file)
    await message.reply_document(
        document=data,
        filename=words().template_file,
        caption=render("bank_template", c=app_ctx(context).config),
        parse_mode=HTML,
    )


@private_only("questions")
async def questions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    items = await act(update, context, bank.status)
    await reply(update, context, "bank_status", items=items, labels=words().states)


@private_only("template")
async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A question file sent in private chat. Two units of work around the download: the first
    refuses the sender, the file's name or its declared size before anything is fetched from
    Telegram (it changes nothing); the second validates the file completely and, if fully
    valid, stores it. Telegram I/O never runs inside a unit of work."""
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    upload = bank.Upload(file_name=document.file_name or "", size=document.file_size or 0)
    await act(update, context, lambda uow: bank.check_upload(uow, upload))
    request = bank.SubmitRequest(file_bytes=await _download(document), filename=upload.file_name)
    result = await act(update, context, lambda uow: bank.submit(uow, request))
    await reply(update, context, "bank_result", result=result, limit=MAX_ERROR_LINES)


async def _download(document: Document) -> bytes:
    try:
        telegram_file = await document.get_file()
        return bytes(await telegram_file.download_as_bytearray())
    except TelegramError:
        raise Refused("bank_file", message=render("bank_download_failed")) from None
