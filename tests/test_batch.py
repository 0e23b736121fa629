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


async def test_one_call_at_a_time_and_the_keys_asked_meanwhile_go_in_the_next_one():
    """The busier it is, the more keys a call answers: the keys asked while a call is under way
    wait for it and are then looked up together, in one call."""
    calls: list[frozenset[str]] = []
    release = asyncio.Event()
    under_way = 0

    async def lookup(keys: frozenset[str]) -> dict[str, int]:
        nonlocal under_way
        under_way += 1
        assert under_way == 1  # never two calls at once
        calls.append(keys)
        await release.wait()
        under_way -= 1
        return {k: len(k) for k in keys}

    batcher = Batcher(lookup)
    first = asyncio.create_task(batcher.get("a"))
    while not calls:
        await asyncio.sleep(0)
    later = [asyncio.create_task(batcher.get(k)) for k in ["bb", "ccc", "bb"]]
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(calls) == 1  # the later keys wait for the call under way
    release.set()
    assert await first == 1
    assert await asyncio.gather(*later) == [2, 3, 2]
    assert calls == [frozenset({"a"}), frozenset({"bb", "ccc"})]


async def test_stopping_during_a_call_cancels_its_askers_and_those_waiting_for_the_next():
    calls: list[frozenset[str]] = []

    async def lookup(keys: frozenset[str]) -> dict[str, int]:
        calls.append(keys)
        await asyncio.Event().wait()  # never answers
        return {}

    batcher = Batcher(lookup)
    first = asyncio.create_task(batcher.get("a"))
    while not calls:
        await asyncio.sleep(0)
    second = asyncio.create_task(batcher.get("b"))
    await asyncio.sleep(0)
    assert batcher._flush is not None
    batcher._flush.cancel()
    for asker in (first, second):
        with pytest.raises(asyncio.CancelledError):
            await asker
    assert batcher._flush is None
