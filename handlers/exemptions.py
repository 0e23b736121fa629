"""Exemption filings: /exempt, /exempt_review, /exempt_approve, /exempt_file, /exempt_reject,
/exempt_revoke, /exempt_list (and /exempt_set, which only explains why exemptions are not set
directly).

Thin adapters: read the command's arguments, one unit of work (``act``) calling
bot.exemptions.service, then a template. Everything here runs in private chat only. A step that
submitted a platform task (filing, revoking) starts its delivery at once; the platform's result
reaches the administrator as a message of its own (``handlers.platform``).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from bot.core.errors import Refused
from bot.exemptions import service as exemptions
from bot.exemptions.models import ExemptionState
from bot.registration.learner_sessions import LEARNER_SESSIONS
from handlers import platform
from handlers.commands import ADMINS, CITY, Command
from handlers.common import Handler, act, private_only, reply

MAX_LIST_LINES = 40
MAX_ID_DIGITS = 9

COMMANDS = [
    Command("exempt", roles=ADMINS),
    Command("exempt_review", roles=ADMINS),
    Command("exempt_approve", roles=ADMINS),
    Command("exempt_file", roles=CITY),
    Command("exempt_reject", roles=ADMINS),
    Command("exempt_revoke", roles=CITY),
    Command("exempt_list", roles=ADMINS),
]

# The state each step command records.
STEP_COMMANDS = {
    "exempt_review": ExemptionState.HR_REVIEWED,
    "exempt_approve": ExemptionState.HEAD_APPROVED,
    "exempt_file": ExemptionState.CITY_FILED,
    "exempt_reject": ExemptionState.REJECTED,
    "exempt_revoke": ExemptionState.REVOKED,
}


def register(app: Application) -> None:
    app.add_handler(CommandHandler("exempt", exempt))
    for command in STEP_COMMANDS:
        app.add_handler(CommandHandler(command, _step_handler(command)))
    app.add_handler(CommandHandler("exempt_list", exempt_list))
    app.add_handler(CommandHandler("exempt_set", exempt_set))


@private_only("exempt")
async def exempt(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/exempt 登录账号 情形 [退休日期]"""
    args = context.args or []
    request = exemptions.OpenFiling(
        account=args[0] if args else None,
        reason=args[1] if len(args) > 1 else None,
        retirement_date=" ".join(args[2:]) or None,
    )
    filing = await act(
        update, context, lambda uow: exemptions.open_filing(uow, request, LEARNER_SESSIONS)
    )
    await reply(update, context, "exempt_filing", f=filing)


def _step_request(args: list[str], command: str) -> exemptions.StepRequest:
    """``/<command> 编号 [备注]``: the filing's number (a leading # allowed) and a note."""
    raw = args[0].lstrip("#") if args else ""
    if not (raw.isascii() and raw.isdigit()) or len(raw) > MAX_ID_DIGITS:
        raise Refused("exempt_id_usage", command=f"/{command}")
    note = " ".join(args[1:]).strip()
    return exemptions.StepRequest(int(raw), STEP_COMMANDS[command], note)


def _step_handler(command: str) -> Handler:
    @private_only(command)
    async def step(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        request = _step_request(context.args or [], command)
        filing = await act(
            update, context, lambda uow: exemptions.record_step(uow, request, LEARNER_SESSIONS)
        )
        await reply(update, context, "exempt_filing", f=filing)
        if filing.submitted:
            platform.kick(context.application)

    return step


@private_only("exempt_list")
async def exempt_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    listing = await act(update, context, exemptions.list_filings)
    await reply(update, context, "exempt_list", listing=listing, limit=MAX_LIST_LINES)


@private_only("exempt_set")
async def exempt_set(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Not a way to exempt anyone: explains the procedure (or shows the filing on file)."""
    args = context.args or []
    account = args[0] if args else None
    filing = await act(update, context, lambda uow: exemptions.set_exempt(uow, account))
    await reply(update, context, "exempt_filing", f=filing)
