"""What the reminders' Telegram side needs from the running bot: the application's context (its
config, clock and units of work), found in ``bot_data`` as every handler finds it.

The context is described here as a protocol, not imported: the composition root
(``bot.context``) sits above the reminders in the layering and passes itself in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from telegram.ext import Application

from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.uow import Origin, UnitOfWork

T = TypeVar("T")

CONTEXT_KEY = "ctx"  # where bot.app puts the AppContext in bot_data
ORIGIN = Origin.system("reminders")  # the origin of every unit of work the scheduler opens

App = Application[Any, Any, Any, Any, Any, Any]


class Context(Protocol):
    config: Config
    clock: Clock

    async def run(self, work: Callable[[UnitOfWork], T], origin: Origin) -> T: ...


def context_of(app: App) -> Context:
    context: Context = app.bot_data[CONTEXT_KEY]
    return context
