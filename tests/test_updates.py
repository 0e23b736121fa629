"""Updates run concurrently across senders and in order within one (bot.updates)."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.updates import PerSenderOrder, sender_of


def message(update_id: int, user_id: int) -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": user_id, "type": "private"},
                "from": {"id": user_id, "is_bot": False, "first_name": "x"},
                "text": "hi",
            },
        },
        None,
    )


async def test_another_sender_is_not_kept_waiting_and_one_senders_updates_keep_their_order():
    processor = PerSenderOrder(8)
    events: list[str] = []
    release_first = asyncio.Event()

    async def work(name: str, hold: asyncio.Event | None = None) -> None:
        events.append(f"start {name}")
        if hold is not None:
            await hold.wait()
        events.append(f"end {name}")

    tasks = [
        asyncio.create_task(processor.process_update(message(1, 10), work("a1", release_first))),
        asyncio.create_task(processor.process_update(message(2, 10), work("a2"))),
        asyncio.create_task(processor.process_update(message(3, 20), work("b1"))),
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    # a1 holds sender 10; b1 (another sender) has run to its end meanwhile; a2 waits.
    assert events == ["start a1", "start b1", "end b1"]
    assert processor.senders == 1
    release_first.set()
    await asyncio.gather(*tasks)
    assert events == ["start a1", "start b1", "end b1", "end a1", "start a2", "end a2"]
    assert processor.senders == 0  # nothing kept for senders with nothing running


async def test_updates_waiting_for_their_senders_turn_take_no_running_slot():
    """Two slots, one busy sender with a backlog: another sender's update still runs, and
    at most two updates run at once."""
    processor = PerSenderOrder(2)
    release = asyncio.Event()
    running, most, done = 0, 0, []

    async def work(name: str, hold: bool) -> None:
        nonlocal running, most
        running += 1
        most = max(most, running)
        if hold:
            await release.wait()
        done.append(name)
        running -= 1

    backlog = [
        asyncio.create_task(processor.process_update(message(n, 10), work(f"a{n}", True)))
        for n in range(5)
    ]
    other = asyncio.create_task(processor.process_update(message(9, 20), work("b", False)))
    await asyncio.wait_for(other, 1)  # not behind sender 10's backlog
    assert done == ["b"]
    release.set()
    await asyncio.gather(*backlog)
    assert done == ["b", "a0", "a1", "a2", "a3", "a4"]
    assert most <= 2

    crowd = [
        asyncio.create_task(processor.process_update(message(100 + n, 100 + n), work("c", True)))
        for n in range(6)
    ]
    release.clear()
    for _ in range(10):
        await asyncio.sleep(0)
    assert running == 2  # six senders, two slots
    release.set()
    await asyncio.gather(*crowd)


async def test_many_updates_of_one_sender_run_one_at_a_time_in_arrival_order():
    processor = PerSenderOrder(4)
    running, seen = 0, []

    async def work(n: int) -> None:
        nonlocal running
        running += 1
        assert running == 1
        await asyncio.sleep(0)
        seen.append(n)
        running -= 1

    await asyncio.gather(*(processor.process_update(message(n, 7), work(n)) for n in range(20)))
    assert seen == list(range(20))


def test_the_order_is_kept_per_chat_else_per_user():
    assert sender_of(message(1, 42)) == 42  # a private chat: its user's id
    in_group = Update.de_json(
        {
            "update_id": 6,
            "message": {
                "message_id": 2,
                "date": 0,
                "chat": {"id": -100777, "type": "supergroup", "title": "g"},
                "from": {"id": 42, "is_bot": False, "first_name": "x"},
                "text": "hi",
            },
        },
        None,
    )
    assert sender_of(in_group) == -100777  # everyone in the group, in order
    channel = Update.de_json(
        {
            "update_id": 5,
            "channel_post": {
                "message_id": 1,
                "date": 0,
                "chat": {"id": -100123, "type": "channel", "title": "c"},
                "text": "x",
            },
        },
        None,
    )
    assert sender_of(channel) == -100123
    assert sender_of(object()) is None
