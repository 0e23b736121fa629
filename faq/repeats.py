"""The group repeat rule: the same answer asked for again within ``REPEAT_WINDOW`` gets a
pointer to the earlier one instead of a second copy, so a busy group is not flooded.

The caller keeps each group's recent answers (the Telegram adapter keeps them in PTB's
``chat_data``) and passes them in; the rule lives here. In a forum supergroup each topic is a
conversation of its own: an answer in one topic is out of sight in another, so the key of an
answer includes the topic it was given in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass

REPEAT_WINDOW = dt.timedelta(minutes=10)

RecentAnswers = MutableMapping[str, tuple[int, dt.datetime]]
"""One group's recent answers: answer key -> (the id of the message holding it, when sent)."""

Topic = int | None
"""A forum topic's id (``message_thread_id``); None: a group without topics, or the General
topic."""


@dataclass(frozen=True)
class Earlier:
    """An earlier message with the same answer."""

    message_id: int
    minutes: int  # whole minutes ago, at least 1


def answer_key(answer_html: str, topic: Topic = None) -> str:
    """Two answers are the same when their text is (a computed answer may differ by question)
    and they were given in the same topic."""
    digest = hashlib.sha1(answer_html.encode()).hexdigest()
    return digest if topic is None else f"{topic}:{digest}"


def forget_expired(recent: RecentAnswers, now: dt.datetime) -> None:
    for key, (_, at) in list(recent.items()):
        if now - at > REPEAT_WINDOW:
            del recent[key]


def find_earlier(
    recent: RecentAnswers, answer_html: str, now: dt.datetime, topic: Topic = None
) -> Earlier | None:
    """The message that gave ``answer_html`` in ``topic`` within the repeat window, if any."""
    forget_expired(recent, now)
    hit = recent.get(answer_key(answer_html, topic))
    if hit is None:
        return None
    message_id, at = hit
    return Earlier(message_id, max(1, int((now - at).total_seconds() // 60)))


def remember(
    recent: RecentAnswers,
    answer_html: str,
    message_id: int,
    now: dt.datetime,
    topic: Topic = None,
) -> None:
    recent[answer_key(answer_html, topic)] = (message_id, now)
