"""Follow-ups in a private chat: "那第二次呢", "补考呢", "下午呢" right after an answer are read in
the context of the question before.

The engine keeps each chat's last question (bounded in number and in age, in memory: a restart
forgets them, which costs no more than a question asked again). A follow-up's words replace the
same kind of word in the question before (a round for a round, a date for a date, a part of the
day for a part of the day, a unit for a unit); a follow-up that replaces nothing is read
together with it. The
words are ``followup.toml``.
"""

from __future__ import annotations

import datetime as dt
import threading
import tomllib
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from faq import facts as facts_
from faq.names import unit_mention
from faq.text import normalise, squash

FOLLOWUP_PATH = Path(__file__).resolve().parent / "followup.toml"
Chat = int | str


@dataclass(frozen=True)
class Asked:
    question: str  # as resolved: a follow-up already merged into it
    at: dt.datetime


class FollowUps:
    """Each private chat's last question, for reading the next message as a follow-up."""

    def __init__(self, path: Path = FOLLOWUP_PATH) -> None:
        with path.open("rb") as fh:
            self.words: dict[str, Any] = tomllib.load(fh)
        self.window = dt.timedelta(minutes=self.words["window_minutes"])
        self._last: OrderedDict[Chat, Asked] = OrderedDict()
        self._lock = threading.Lock()

    def fragment(self, question: str) -> str | None:
        """The follow-up's own words ("第二次" of "那第二次呢"), or None when the message does
        not read as a follow-up."""
        text = squash(question)
        leads = tuple(sorted(self.words["leads"], key=len, reverse=True))
        tails = tuple(sorted(self.words["tails"], key=len, reverse=True))
        marked = text.startswith(leads) or text.endswith(tails)
        for lead in leads:
            if text.startswith(lead):
                text = text[len(lead) :]
                break
        for tail in tails:
            if text.endswith(tail):
                text = text[: -len(tail)]
                break
        if not marked or not text or len(text) > self.words["max_chars"]:
            return None
        return text

    def resolve(self, chat: Chat, question: str, now: dt.datetime) -> str:
        """``question`` as it is meant: merged into the chat's question before when it is a
        follow-up to it, else unchanged."""
        before = self._recent(chat, now)
        piece = self.fragment(question)
        if before is None or piece is None:
            return question
        return self.merge(before.question, piece, now)

    def remember(self, chat: Chat, question: str, now: dt.datetime) -> None:
        with self._lock:
            self._last[chat] = Asked(question, now)
            self._last.move_to_end(chat)
            while len(self._last) > self.words["max_chats"]:
                self._last.popitem(last=False)

    def last(self, chat: Chat, now: dt.datetime) -> str | None:
        """The chat's question within the follow-up window, as resolved; None when none."""
        asked = self._recent(chat, now)
        return asked.question if asked is not None else None

    def forget(self, chat: Chat) -> None:
        with self._lock:
            self._last.pop(chat, None)

    def _recent(self, chat: Chat, now: dt.datetime) -> Asked | None:
        with self._lock:
            asked = self._last.get(chat)
            if asked is not None and not dt.timedelta(0) <= now - asked.at <= self.window:
                del self._last[chat]
                return None
            return asked

    def merge(self, before: str, piece: str, now: dt.datetime) -> str:
        """``piece`` in place of the same kind of words in ``before``."""
        stated = facts_.read(piece, now.date())
        old = facts_.read(before, now.date())
        digits, piece_digits = old.text, stated.text  # the spans are where the digits stand
        for given, spans in (
            (stated.date_spans, old.date_spans),
            (stated.time_spans, old.time_spans),
        ):
            if given and spans:  # a date for the dates, a time for the times
                start, end = spans[0][0], spans[-1][1]
                part = piece_digits[given[0][0] : given[-1][1]]
                return digits[:start] + part + digits[end:]
        text, piece = normalise(before), normalise(piece)
        unit, old_unit = unit_mention(piece), unit_mention(text)
        if unit is not None and old_unit is not None:  # a unit for the unit
            return text.replace(old_unit, unit, 1)
        replaced = False
        for words in self.words["slots"].values():
            ordered = sorted(words, key=len, reverse=True)
            word = next((w for w in ordered if w in piece), None)
            old_word = next((w for w in ordered if w in text), None)
            if word is not None and old_word is not None:
                text = text.replace(old_word, word, 1)
                replaced = True
        return text if replaced else piece + text
