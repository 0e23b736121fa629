"""Lookups asked together are answered by one call (bot.core.batch)."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.batch import Batcher


def recording(values: dict[str, int], calls: list[frozenset[str]]):
    async def lookup(keys: frozenset[str]) -> dict[str, int]:
        calls.append(keys)
        found = {k: values[k] for k in keys if k in values}  # the database as read
        await asyncio.sleep(0)  # the way back from a worker thread
        return found

    return lookup


async def test_keys_asked_together_are_looked_up_once_and_each_gets_its_own_value():
    calls: list[frozenset[str]] = []
    batcher = Batcher(recording({"a": 1, "b": 2}, calls))
    got = await asyncio.gather(*(batcher.get(k) for k in ["a", "b", "a", "zz"]))
    assert got == [1, 2, 1, None]
    assert calls == [frozenset({"a", "b", "zz"})]


async def test_a_key_asked_after_the_lookup_started_waits_for_the_next_one():
    values = {"a": 1}
    calls: list[frozenset[str]] = []
    batcher = Batcher(recording(values, calls))
    first = asyncio.create_task(batcher.get("a"))
    while not calls:  # until the first lookup is under way
        await asyncio.sleep(0)
    values["a"] = 5  # the database changed meanwhile
    second = asyncio.create_task(batcher.get("a"))
    assert (await first, await second) == (1, 5)
    assert len(calls) == 2


async def test_a_failed_lookup_fails_its_askers_only():
    calls: list[frozenset[str]] = []
    failing = True

    async def lookup(keys: frozenset[str]) -> dict[str, int]:
        calls.append(keys)
        if failing:
            raise RuntimeError("database gone")
        return {k: 1 for k in keys}

    batcher = Batcher(lookup)
    results = await asyncio.gather(batcher.get("a"), batcher.get("b"), return_exceptions=True)
    assert [type(r) for r in results] == [RuntimeError, RuntimeError]
    failing = False
    assert await batcher.get("a") == 1
    assert len(calls) == 2


async def test_a_cancelled_asker_leaves_the_others_their_answers():
    calls: list[frozenset[str]] = []
    batcher = Batcher(recording({"a": 1, "b": 2}, calls))
    gone = asyncio.create_task(batcher.get("a"))
    kept = asyncio.create_task(batcher.get("b"))
    await asyncio.sleep(0)
    gone.cancel()
    assert await kept == 2
    with pytest.raises(asyncio.CancelledError):
        await gone
