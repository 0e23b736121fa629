"""The group repeat rule: the same answer asked for again within ``REPEAT_WINDOW`` gets a
pointer to the earlier one instead of a second copy, so a busy group is not flooded.

The caller keeps each group's recent answers (the Telegram adapter keeps them in PTB's
``chat_data``) and passes them in; the rule lives here.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import MutableMapping
from dataclasses import dataclass

REPEAT_WINDOW = dt.timedelta(minutes=10)

RecentAnswers = MutableMapping[str, tuple[int, dt.datetime]]
"""One group's recent answers: answer key -> (the id of the message holding it, when sent)."""


@dataclass(frozen=True)
class Earlier:
    """An earlier message with the same answer."""

    message_id: int
    minutes: int  # whole minutes ago, at least 1


def answer_key(answer_html: str) -> str:
    """Two answers are the same when their text is (a computed answer may differ by question)."""
    return hashlib.sha1(answer_html.encode()).hexdigest()


def forget_expired(recent: RecentAnswers, now: dt.datetime) -> None:
    for key, (_, at) in list(recent.items()):
        if now - at > REPEAT_WINDOW:
            del recent[key]


def find_earlier(recent: RecentAnswers, answer_html: str, now: dt.datetime) -> Earlier | None:
    """The message that gave ``answer_html`` within the repeat window, if any."""
    forget_expired(recent, now)
    hit = recent.get(answer_key(answer_html))
    if hit is None:
        return None
    message_id, at = hit
    return Earlier(message_id, max(1, int((now - at).total_seconds() // 60)))


def remember(recent: RecentAnswers, answer_html: str, message_id: int, now: dt.datetime) -> None:
    recent[answer_key(answer_html)] = (message_id, now)
