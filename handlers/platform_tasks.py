"""/tasks and the operator's buttons: the platform task queue in private chat.

Administrators see their own tasks; the operator and the city office see every open task, and
in operator mode each queued one comes with 已完成 / 未完成 buttons. The buttons carry the task id
(stateless); every press authorizes again and the service claims the task, so forged, stale and
double presses change nothing. 未完成 asks for the reason in a conversation (the next text
message in that chat; ``/task_fail ID 原因`` does the same in one step): another command ends it,
/cancel abandons it, and it times out. The requester is told through the notice worker's claim
(``handlers.platform.notify``), once.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import warnings
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.core.errors import Refused
from bot.core.render import render, strip_html
from bot.effects import EFFECTS
from bot.outgoing import send
from bot.platform import queue
from handlers import platform as platform_worker
from handlers.commands import ADMINS, OPERATORS, Command
from handlers.common import (
    act,
    app_ctx,
    edit_message,
    is_private,
    private_only,
    reply,
    send_text,
)

PREFIX = "tk:"
DONE, FAIL = "d", "f"
MAX_ID = 32  # task ids are 32 hex digits
REASON = 0  # the conversation's one state: waiting for a failure's reason
REASON_TIMEOUT = dt.timedelta(minutes=10)
# The reason conversation runs before every other handler (the edited-command guard is -1, the
# rest 0), so that the reason is not also taken for an FAQ question, and a command that ends it
# still reaches its own handler.
GROUP = -2
PENDING = "task_fail"  # user_data: the task whose reason is awaited
TOAST_LIMIT = 190  # a button answer shows at most 200 characters

COMMANDS = [
    Command("tasks", roles=ADMINS | OPERATORS),
    Command("task_fail", roles=OPERATORS),
]


def register(app: Application) -> None:
    app.add_handler(CommandHandler("tasks", tasks_command))
    app.add_handler(CommandHandler("task_fail", task_fail_command))
    app.add_handler(CallbackQueryHandler(on_done, pattern=f"^{PREFIX}{DONE}:"))
    with warnings.catch_warnings():
        # per_message=False is deliberate: a button starts it, a typed message ends it.
        warnings.simplefilter("ignore", PTBUserWarning)
        conversation = ConversationHandler(
            entry_points=[CallbackQueryHandler(on_fail, pattern=f"^{PREFIX}{FAIL}:")],
            states={
                REASON: [
                    MessageHandler(
                        filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND, on_reason
                    )
                ],
                ConversationHandler.TIMEOUT: [TypeHandler(Update, on_timeout)],
            },
            fallbacks=[
                CommandHandler("cancel", on_cancel),
                MessageHandler(filters.UpdateType.MESSAGE & filters.COMMAND, on_other_command),
            ],
            conversation_timeout=REASON_TIMEOUT.total_seconds(),
            name="task_fail",
            allow_reentry=True,
        )
    app.add_handler(conversation, group=GROUP)


def _operator_mode(context: ContextTypes.DEFAULT_TYPE) -> bool:
    return app_ctx(context).gateway.queues_for_operator


def _words(context: ContextTypes.DEFAULT_TYPE, key: str, **variables: Any) -> str:
    return render("platform_queue_words", c=app_ctx(context).config, key=key, **variables)


def _toast(context: ContextTypes.DEFAULT_TYPE, refusal: Refused) -> str:
    return strip_html(refusal.render(c=app_ctx(context).config))[:TOAST_LIMIT]


def _task_id(data: str | None, verb: str) -> str | None:
    """The task id a button's data carries, or None for data this bot never sent."""
    raw = (data or "").removeprefix(f"{PREFIX}{verb}:")
    if raw == data or not raw or len(raw) > MAX_ID or not (raw.isascii() and raw.isalnum()):
        return None
    return raw


# --- /tasks -----------------------------------------------------------------------------------


def _keyboard(
    context: ContextTypes.DEFAULT_TYPE, board: queue.Board
) -> InlineKeyboardMarkup | None:
    rows = [
        [
            InlineKeyboardButton(
                _words(context, "done_button", n=n), callback_data=f"{PREFIX}{DONE}:{item.task.id}"
            ),
            InlineKeyboardButton(
                _words(context, "fail_button", n=n), callback_data=f"{PREFIX}{FAIL}:{item.task.id}"
            ),
        ]
        for n, item in enumerate(board.items, start=1)
        if item.markable
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def _board_text(context: ContextTypes.DEFAULT_TYPE, board: queue.Board) -> str:
    return render("platform_tasks", c=app_ctx(context).config, board=board)


@private_only("tasks")
async def tasks_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    mode = _operator_mode(context)
    board = await act(update, context, lambda uow: queue.board(uow, operator_mode=mode))
    await send_text(update, _board_text(context, board), keyboard=_keyboard(context, board))


# --- marking ----------------------------------------------------------------------------------


async def _mark(
    update: Update, context: ContextTypes.DEFAULT_TYPE, request: queue.MarkRequest
) -> tuple[Any, queue.Board]:
    """Mark the task and read the queue again, in one unit of work. The caller answers the
    operator, then tells the requester (``_tell``)."""
    mode = request.operator_mode
    return await act(
        update,
        context,
        lambda uow: (queue.mark(uow, request, EFFECTS), queue.board(uow, operator_mode=mode)),
    )


async def _tell(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Tell the requester now, through the notice worker's claim (once, whoever sends it)."""
    await platform_worker.notify(context.application)


async def on_done(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """已完成: mark the task, then show the queue as it is now in the same message."""
    query = update.callback_query
    if query is None:
        return
    task_id = _task_id(query.data, DONE)
    if task_id is None:
        await query.answer(_toast(context, Refused("action_unknown")))
        return
    if not is_private(update):  # the refreshed list would show the queue to the group
        await query.answer(_toast(context, Refused("private_only", command="/tasks")))
        return
    request = queue.MarkRequest(task_id, applied=True, operator_mode=_operator_mode(context))
    try:
        task, board = await _mark(update, context, request)
    except Refused as refusal:
        await query.answer(_toast(context, refusal))
        return
    await query.answer(_words(context, "marked_done", task=task))
    if isinstance(query.message, Message):
        # the list is a convenience: the task is marked whether or not it is refreshed
        with contextlib.suppress(TelegramError):
            await edit_message(query, _board_text(context, board), _keyboard(context, board))
    await _tell(context)


def _pending(context: ContextTypes.DEFAULT_TYPE) -> str | None:
    return (context.user_data or {}).get(PENDING)


def _keep(context: ContextTypes.DEFAULT_TYPE) -> int:
    """After a refused press: stay in the conversation if a reason is awaited already."""
    return REASON if _pending(context) else ConversationHandler.END


async def on_fail(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """未完成: check the task can be marked, then ask for the reason."""
    query = update.callback_query
    if query is None:
        raise ApplicationHandlerStop(_keep(context))
    task_id = _task_id(query.data, FAIL)
    if task_id is None:
        await query.answer(_toast(context, Refused("action_unknown")))
        raise ApplicationHandlerStop(_keep(context))
    if not is_private(update):
        await query.answer(_toast(context, Refused("private_only", command="/tasks")))
        raise ApplicationHandlerStop(_keep(context))
    mode = _operator_mode(context)
    try:
        task = await act(
            update, context, lambda uow: queue.markable(uow, task_id, operator_mode=mode)
        )
    except Refused as refusal:
        await query.answer(_toast(context, refusal))
        raise ApplicationHandlerStop(_keep(context)) from None
    await query.answer()
    if context.user_data is not None:
        context.user_data[PENDING] = task.id
    await send_text(update, _words(context, "ask_reason", task=task))
    raise ApplicationHandlerStop(REASON)


async def on_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """The reason arrived: mark the task failed with it."""
    task_id = _pending(context)
    message = update.effective_message
    if task_id is None or message is None:
        raise ApplicationHandlerStop(ConversationHandler.END)
    request = queue.MarkRequest(
        task_id, applied=False, reason=message.text or "", operator_mode=_operator_mode(context)
    )
    try:
        task, _board = await _mark(update, context, request)
    except Refused as refusal:
        await send_text(update, refusal.render(c=app_ctx(context).config))
        if not refusal.ends:
            raise ApplicationHandlerStop(REASON) from None
        _forget(context)
        raise ApplicationHandlerStop(ConversationHandler.END) from None
    _forget(context)
    await reply(update, context, "platform_queue_words", key="marked_failed", task=task)
    await _tell(context)
    raise ApplicationHandlerStop(ConversationHandler.END)


def _forget(context: ContextTypes.DEFAULT_TYPE) -> str | None:
    data = context.user_data
    return data.pop(PENDING, None) if data is not None else None


async def on_cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    task_id = _forget(context)
    if task_id:
        await send_text(update, _words(context, "reason_cancelled", task_id=task_id))
    raise ApplicationHandlerStop(ConversationHandler.END)


async def on_other_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Another command ends the wait for a reason; the command itself runs as usual."""
    task_id = _forget(context)
    if task_id:
        await send_text(update, _words(context, "reason_cancelled", task_id=task_id))
    return ConversationHandler.END


async def on_timeout(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """No reason within REASON_TIMEOUT: say the task is still open."""
    task_id = _forget(context)
    chat = update.effective_chat if isinstance(update, Update) else None
    if task_id and chat is not None:
        with contextlib.suppress(TelegramError):
            await send(context.bot, chat.id, _words(context, "reason_timeout", task_id=task_id))


@private_only("task_fail")
async def task_fail_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/task_fail ID 原因: mark a task failed in one step."""
    args = list(context.args or [])
    request = queue.MarkRequest(
        args[0] if args else "",
        applied=False,
        reason=" ".join(args[1:]),
        operator_mode=_operator_mode(context),
    )
    task, _board = await _mark(update, context, request)
    await reply(update, context, "platform_queue_words", key="marked_failed", task=task)
    await _tell(context)
