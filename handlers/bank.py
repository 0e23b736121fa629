"""The question bank and exemption filings: /template, question files sent in private chat,
/questions, /exempt, /exempt_review, /exempt_approve, /exempt_file, /exempt_reject,
/exempt_list (and /exempt_set, which only explains why exemptions are not set directly).

Thin adapters: authorize, call bot.bank.service / bot.exemptions.service, render a template.
Everything here runs in private chat only.
"""

from __future__ import annotations

from telegram import Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from bot.bank import service as bank
from bot.core.errors import Refused
from bot.core.render import render
from bot.core.tabular import ImportFileError, check_file_name, check_file_size
from bot.exemptions import service as exemptions
from bot.org import admins
from bot.org.models import Role
from handlers.commands import ADMINS, CITY, Command
from handlers.common import app_ctx, authorized, chat_id_of, private_only, reply

TEMPLATE_FILENAME = "试题报送模板.xlsx"
MAX_ERROR_LINES = 30
MAX_LIST_LINES = 40

COMMANDS = [
    Command("template", roles=ADMINS),
    Command("questions", roles=CITY),
    Command("exempt", roles=ADMINS),
    Command("exempt_review", roles=ADMINS),
    Command("exempt_approve", roles=ADMINS),
    Command("exempt_file", roles=CITY),
    Command("exempt_reject", roles=ADMINS),
    Command("exempt_list", roles=ADMINS),
]


def register(app: Application) -> None:
    for name, callback in (
        ("template", template),
        ("questions", questions),
        ("exempt", exempt),
        ("exempt_review", exempt_review),
        ("exempt_approve", exempt_approve),
        ("exempt_file", exempt_file),
        ("exempt_reject", exempt_reject),
        ("exempt_list", exempt_list),
        ("exempt_set", exempt_set),
    ):
        app.add_handler(CommandHandler(name, callback))
    app.add_handler(
        MessageHandler(
            filters.UpdateType.MESSAGE & filters.Document.ALL & filters.ChatType.PRIVATE,
            on_document,
        )
    )


# --- the question bank --------------------------------------------------------------------------


@private_only("template")
async def template(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    authorized(update, context)  # bound administrators only
    message = update.effective_message
    if message is None:
        return
    await message.reply_document(
        document=bank.template_bytes(ctx.config),
        filename=TEMPLATE_FILENAME,
        caption=render("bank_template", c=ctx.config),
        parse_mode=ParseMode.HTML,
    )


@private_only("questions")
async def questions(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    admins.require_city(identity)
    with ctx.db.session() as session:
        items = bank.status(session, ctx.config)
    await reply(update, context, "bank_status", items=items)


@private_only("template")
async def on_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A question file sent in private chat: checked before it is downloaded (who sends it, its
    name and its declared size), then validated completely and, if fully valid, stored."""
    ctx = app_ctx(context)
    message = update.effective_message
    if message is None or message.document is None:
        return
    document = message.document
    identity = authorized(update, context)
    bank.department_of(identity, ctx.config)
    filename = document.file_name or ""
    try:
        check_file_name(filename)
        check_file_size(document.file_size or 0, bank.MAX_FILE_BYTES)
    except ImportFileError as exc:
        raise Refused("bank_file", message=str(exc)) from None
    try:
        telegram_file = await document.get_file()
        data = bytes(await telegram_file.download_as_bytearray())
    except TelegramError:
        raise Refused("bank_file", message="文件下载失败，请稍后重新发送") from None
    try:
        with ctx.db.session() as session:
            result = bank.submit(
                session,
                ctx.config,
                identity,
                file_bytes=data,
                filename=filename,
                now=ctx.now(),
                chat_id=chat_id_of(update),
            )
    except ImportFileError as exc:
        raise Refused("bank_file", message=str(exc)) from None
    await reply(update, context, "bank_result", result=result, limit=MAX_ERROR_LINES)


# --- exemptions ---------------------------------------------------------------------------------


@private_only("exempt")
async def exempt(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    args = context.args or []
    if len(args) < 2:
        raise Refused("exempt_usage")
    account, reason, date_text = args[0], args[1], " ".join(args[2:])
    with ctx.db.session() as session:
        filing = exemptions.open_filing(
            session,
            ctx.config,
            identity,
            account,
            reason,
            date_text or None,
            ctx.now(),
            chat_id=chat_id_of(update),
        )
    await reply(update, context, "exempt_filing", f=filing)


def _filing_id(context: ContextTypes.DEFAULT_TYPE, command: str) -> tuple[int, str]:
    args = context.args or []
    raw = args[0].lstrip("#") if args else ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 9:
        raise Refused("exempt_id_usage", command=f"/{command}")
    return int(raw), " ".join(args[1:]).strip()


async def _step(update: Update, context: ContextTypes.DEFAULT_TYPE, command: str) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    filing_id, note = _filing_id(context, command)
    with ctx.db.session() as session:
        kwargs = {"note": note, "chat_id": chat_id_of(update)}
        if command == "exempt_review":
            filing = exemptions.advance(
                session, identity, filing_id, exemptions.S.HR_REVIEWED, ctx.now(), **kwargs
            )
        elif command == "exempt_approve":
            filing = exemptions.advance(
                session, identity, filing_id, exemptions.S.HEAD_APPROVED, ctx.now(), **kwargs
            )
        elif command == "exempt_file":
            filing = exemptions.file_with_city(session, identity, filing_id, ctx.now(), **kwargs)
        else:
            filing = exemptions.reject(session, identity, filing_id, ctx.now(), **kwargs)
    await reply(update, context, "exempt_filing", f=filing)


@private_only("exempt_review")
async def exempt_review(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _step(update, context, "exempt_review")


@private_only("exempt_approve")
async def exempt_approve(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _step(update, context, "exempt_approve")


@private_only("exempt_file")
async def exempt_file(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _step(update, context, "exempt_file")


@private_only("exempt_reject")
async def exempt_reject(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _step(update, context, "exempt_reject")


@private_only("exempt_list")
async def exempt_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    ctx = app_ctx(context)
    identity = authorized(update, context)
    with ctx.db.session() as session:
        filings = exemptions.list_filings(session, identity)
    await reply(
        update,
        context,
        "exempt_list",
        filings=filings,
        identity=identity,
        city=identity.role == Role.CITY,
        limit=MAX_LIST_LINES,
    )


@private_only("exempt_set")
async def exempt_set(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Not a way to exempt anyone: explains the procedure (or shows the filing on file)."""
    ctx = app_ctx(context)
    identity = authorized(update, context)
    args = context.args or []
    if not args:
        raise Refused("exempt_set_refused")
    with ctx.db.session() as session:
        filing = exemptions.set_exempt(session, identity, args[0])
    await reply(update, context, "exempt_filing", f=filing)
