"""Forum topics (issue 14, item 8), end to end: the real bot process against the fake Bot API, in
a forum supergroup. Every reply stays in the asker's topic, and the FAQ's "answered a minute ago"
is per topic: an answer in one topic is no answer for someone asking in another.
"""

from __future__ import annotations

import pytest

from harness.fakeapi import ApiCall, FakeBotAPI
from tests.botproc import BotProcess

FORUM = -1001777000001
TOPIC_A, TOPIC_B = 11, 22
QUESTION = "集中考试地点在哪里"
AGAIN = "集中考试在哪"
ANSWER = "广播电视大学"  # the entry's answer names the place
POINTER = "刚回答过"


@pytest.fixture
def api():
    with FakeBotAPI() as server:
        yield server


@pytest.fixture
def bot(api, tmp_path):
    process = BotProcess(api, tmp_path, now="2022-09-14T10:00")
    process.wait_polling()
    yield process
    assert process.stop() == 0


def ask(api: FakeBotAPI, text: str, uid: int, topic: int | None) -> ApiCall:
    """A message in ``topic`` of the forum (None: its General topic); the bot's answer."""
    mark = api.mark()
    api.send_text(text, user_id=uid, chat_id=FORUM, message_thread_id=topic)
    return api.wait_for_call(
        "sendMessage", lambda c: c.params["chat_id"] == FORUM, after=mark, timeout=20
    )


def topic_of(call: ApiCall) -> int | None:
    """The topic the sent message landed in (as the fake Telegram stored it)."""
    return call.result.get("message_thread_id")


def test_replies_stay_in_the_askers_topic_and_repeats_are_per_topic(api, bot):
    first = ask(api, QUESTION, 7001, TOPIC_A)
    assert ANSWER in first.params["text"] and topic_of(first) == TOPIC_A

    # Asked in another topic: the answer in topic A is not there to point at.
    other = ask(api, AGAIN, 7002, TOPIC_B)
    assert ANSWER in other.params["text"], other.params["text"]
    assert topic_of(other) == TOPIC_B

    # Asked again in topic B: a pointer to topic B's answer, sent into topic B by name (so it
    # stays there even if that answer is gone by then).
    pointer = ask(api, AGAIN, 7003, TOPIC_B)
    assert POINTER in pointer.params["text"] and ANSWER not in pointer.params["text"]
    assert pointer.params["reply_parameters"]["message_id"] == other.result["message_id"]
    assert pointer.params.get("message_thread_id") == TOPIC_B and topic_of(pointer) == TOPIC_B

    # The General topic is a topic of its own, and its messages carry no topic id.
    general = ask(api, AGAIN, 7004, None)
    assert ANSWER in general.params["text"] and topic_of(general) is None
    assert "message_thread_id" not in general.params

    # Any other reply (here: a private-only command) stays in the asker's topic too.
    refusal = ask(api, "/whoami", 7005, TOPIC_B)
    assert "私聊" in refusal.params["text"] and topic_of(refusal) == TOPIC_B
