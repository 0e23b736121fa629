"""Lookups asked together answered by one query (the DataLoader pattern).

A lookup made for every message of a kind (is this private message the learner list a
/register draft waits for?) costs a trip to a worker thread and the database each time; in a
burst, when hundreds of administrators write at once, the event loop has many of them in hand
at the same moment. Here each asker awaits its key; the first one starts a flush that runs once
the loop has run what was ready to run, and answers every key asked by then with one call.
One call is under way at a time: the keys asked meanwhile wait for it to end and are then
looked up together, so the busier the bot, the more keys a call answers.

Nothing is cached: a key asked after a call has started waits for the next call, so every
answer reflects the database as it was after the asker's own earlier updates (they were done
before it asked: ``bot.updates`` keeps one sender's updates in order).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable, Iterator, Mapping
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Batcher(Generic[K, V]):
    """``await batcher.get(key)``: ``lookup(keys)``'s value for ``key`` (None: none found),
    from one ``lookup`` for all the keys asked while the loop was busy."""

    def __init__(self, lookup: Callable[[frozenset[K]], Awaitable[Mapping[K, V]]]) -> None:
        self._lookup = lookup
        self._waiting: dict[K, list[asyncio.Future[V | None]]] = {}
        self._flush: asyncio.Task[None] | None = None
        self.lookups = 0  # calls of ``lookup`` so far (for tests and diagnostics)

    async def get(self, key: K) -> V | None:
        future: asyncio.Future[V | None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, []).append(future)
        if self._flush is None:
            self._flush = asyncio.create_task(self._answer())
        return await future

    async def _answer(self) -> None:
        try:
            await asyncio.sleep(0)  # the other updates ready to run ask their keys first
            while self._waiting:  # the keys asked during the last call: the next call
                waiting, self._waiting = self._waiting, {}
                await self._call(waiting)
        except asyncio.CancelledError:  # the application is stopping
            for _key, future in _pending(self._waiting):
                future.cancel()
            raise
        finally:
            self._flush = None

    async def _call(self, waiting: dict[K, list[asyncio.Future[V | None]]]) -> None:
        self.lookups += 1
        try:
            found = await self._lookup(frozenset(waiting))
        except asyncio.CancelledError:
            for _key, future in _pending(waiting):
                future.cancel()
            raise
        except Exception as exc:
            for _key, future in _pending(waiting):
                future.set_exception(exc)
            return
        for key, future in _pending(waiting):
            future.set_result(found.get(key))


def _pending(
    waiting: dict[K, list[asyncio.Future[V | None]]],
) -> Iterator[tuple[K, asyncio.Future[V | None]]]:
    """The askers still waiting (one may have been cancelled meanwhile), with their keys."""
    for key, futures in waiting.items():
        for future in futures:
            if not future.done():
                yield key, future
