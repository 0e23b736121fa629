"""Updates processed concurrently, each sender's in the order they came.

PTB processes updates one at a time unless ``concurrent_updates`` is set, and then in no
particular order. Here every update runs as soon as it arrives, except that one chat's updates
wait for that chat's earlier ones (the user's, for updates without a chat): a /register
conversation, a button pressed right after a command and a burst of messages keep their order,
and in a group the FAQ's "answered just now" rule sees the answers before it; while the group
never waits behind an administrator's /results_export in private chat, nor one administrator
behind another.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

MAX_CONCURRENT_UPDATES = 64  # updates running at once (each may wait for the database, Telegram)
# PTB's own bound counts an update waiting for its sender's earlier ones as running, so a few
# busy senders (a burst of one administrator's messages, each waiting for the database) could
# fill every slot and keep everyone else waiting; it is set this high so that only the bound
# below, taken once an update's turn has come, limits the work.
WAITING_BOUND = 100_000


def sender_of(update: object) -> int | None:
    """Whose updates must stay in order: the chat's id (a private chat's is its user's), else
    the user's; None for updates that belong to nobody (they run at once)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return None


class PerSenderOrder(BaseUpdateProcessor):
    """Concurrent across chats, in arrival order within one (asyncio locks are first come,
    first served; the application starts one task per update in the order they arrive). At
    most ``max_concurrent_updates`` run at once; an update waiting for its sender's turn does
    not count."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        super().__init__(WAITING_BOUND)
        self._running = asyncio.Semaphore(max_concurrent_updates)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}  # sender -> lock, holders+waiters

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        sender = sender_of(update)
        if sender is None:
            async with self._running:
                await coroutine
            return
        lock, users = self._locks.get(sender) or (asyncio.Lock(), 0)
        self._locks[sender] = (lock, users + 1)
        try:
            async with lock, self._running:
                await coroutine
        finally:
            lock, users = self._locks[sender]
            if users > 1:
                self._locks[sender] = (lock, users - 1)
            else:
                del self._locks[sender]

    @property
    def senders(self) -> int:
        """Senders with an update running or waiting (for tests and diagnostics)."""
        return len(self._locks)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to tear down: the application waits for running updates itself."""
