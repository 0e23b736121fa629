"""The FAQ engine: the decision to answer, suggest or stay silent, and the answer's text.

A message goes through question detection (``faq.detect``: in the group, silence beats a wrong
answer), then ranking (``faq.ranking``: which entry, how sure), then the thresholds of the chat it
came from. Answers are the entries' Jinja templates rendered with the config and the injected
clock's "now"; every other word the engine says comes from ``faq/templates``.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import Template
from markupsafe import Markup

from bot.core.config import Config
from bot.core.render import make_environment, render, strip_html
from faq import repeats
from faq.compute import COMPUTES, base_context
from faq.detect import QuestionDetector
from faq.knowledge import Entry, load_entries
from faq.ranking import Index
from faq.repeats import RecentAnswers, Topic
from faq.text import Lexicon, Segmenter, warm_up

__all__ = ["Entry", "FaqEngine", "Result", "Thresholds", "engine_for", "warm_up"]

MAX_QUESTION_CHARS = 200  # longer messages are statements or notices, not questions
RANK_CACHE = 2048  # distinct recent questions whose ranking is kept
KNOWN_SHARE = 0.75  # share of known words a marker-less group message needs
GROUP, PRIVATE = "group", "private"


@dataclass(frozen=True)
class Thresholds:
    group: float = 0.38  # a plain group question must be at least this sure
    group_phrase: float = 0.42  # ... and a bare phrase without a question marker
    addressed: float = 0.36  # /faq, a mention or a reply: answer from here
    private: float = 0.40  # private chat: answer from here, else suggest
    suggest: float = 0.18  # candidates below this are not worth suggesting
    margin: float = 0.08  # when asked directly, a runner-up this close means "did you mean"
    sure: float = 0.75  # ... unless the best is this sure


@dataclass
class Result:
    """What the engine decided for one message."""

    question: str
    entry: Entry | None
    score: float
    answer_html: str | None  # what to send; None: stay silent
    suggestions: list[Entry] = field(default_factory=list)
    kind: str = "silent"  # "answer" | "suggest" | "fallback" | "repeat" | "silent"
    mode: str = GROUP  # the chat it was decided for: GROUP | PRIVATE
    reply_to: int | None = None  # "repeat": the message holding the earlier answer

    @property
    def answer_text(self) -> str | None:
        return strip_html(self.answer_html) if self.answer_html is not None else None

    @property
    def choices(self) -> list[Entry]:
        """The suggestions to offer as buttons (private chat; the group gets a numbered list)."""
        return self.suggestions if self.kind == "suggest" and self.mode == PRIVATE else []

    def as_json(self) -> dict[str, Any]:
        """The ``python -m faq ask --json`` contract."""
        return {
            "question": self.question,
            "answer": self.answer_text,
            "entry": self.entry.id if self.entry and self.kind == "answer" else None,
            "score": round(self.score, 4),
            "suggestions": [e.question for e in self.suggestions],
        }


class FaqEngine:
    """The knowledge base, indexed for one configuration. Built once per process
    (``engine_for``); thread-safe to query."""

    def __init__(
        self,
        entries: list[Entry],
        lexicon: Lexicon,
        config: Config,
        thresholds: Thresholds | None = None,
    ) -> None:
        self.entries = entries
        self.lexicon = lexicon
        self.config = config
        self.thresholds = thresholds or Thresholds()
        self.by_id = {e.id: e for e in entries}
        self.detector = QuestionDetector(lexicon)
        names = {name for name in config_names(config) if len(name) >= 2}
        self.segmenter = Segmenter(lexicon, names)
        env = make_environment()
        self._templates: dict[str, Template] = {e.id: env.from_string(e.answer) for e in entries}
        # The answers' own words (rendered once, at the start of the campaign) also count.
        reference = dt.datetime.combine(config.study.start, dt.time(12), config.tz)
        answers = [strip_html(self.render(e, "", reference)) for e in entries]
        self.index = Index(entries, answers, self.segmenter, config, self.detector.marker_words())
        self._rank_cached = lru_cache(maxsize=RANK_CACHE)(self.index.rank)

    @classmethod
    def from_config(cls, config: Config, thresholds: Thresholds | None = None) -> FaqEngine:
        return cls(load_entries(), Lexicon.load(), config, thresholds)

    @property
    def size(self) -> int:
        """How many phrasings (questions included) the knowledge base has."""
        return self.index.size

    # --- text processing and question detection ------------------------------------------------
    def words(self, text: str) -> list[str]:
        return self.segmenter.words(text)

    def is_chatter(self, text: str) -> bool:
        return self.detector.is_chatter(text)

    def looks_like_question(self, text: str) -> bool:
        return self.detector.looks_like_question(text)

    def has_question_marker(self, text: str) -> bool:
        return self.detector.has_question_marker(text)

    def is_question_for_us(self, text: str) -> bool:
        """In the group, a plain message must read as a question; one without a question
        marker must also be made of words the knowledge base knows (a keyword phrase like
        "补考报名时间", not "今天食堂的菜不错")."""
        if not self.detector.looks_like_question(text):
            return False
        if self.detector.has_question_marker(text):
            return True
        words = self.segmenter.words(text)
        known = [w for w in words if self.index.knows(w)]
        return bool(words) and len(known) / len(words) >= KNOWN_SHARE

    # --- ranking ---------------------------------------------------------------------------------
    def rank(self, question: str, k: int = 3) -> list[tuple[Entry, float]]:
        """The ``k`` best entries with their confidence, best first. Ranking does not depend on
        the clock, so the same question (asked dozens of times a day) is ranked once."""
        return list(self._rank_cached(question[:MAX_QUESTION_CHARS], k))

    def clear_rank_cache(self) -> None:
        """Forget every cached ranking (benchmarks measure first-time questions)."""
        self._rank_cached.cache_clear()

    # --- answering -------------------------------------------------------------------------------
    def render(self, entry: Entry, question: str, now: dt.datetime) -> str:
        """The entry's answer as HTML, as of ``now``, for ``question`` (a computed entry reads
        the unit or law it names)."""
        context = base_context(self.config, now)
        if entry.compute:
            context.update(COMPUTES[entry.compute](self.config, question, now))
        body = self._templates[entry.id].render(**context).strip()
        return render("faq_answer", c=self.config, body=Markup(body), section=entry.section)

    def chosen(self, entry_id: str, now: dt.datetime) -> Result | None:
        """The answer to a suggestion the asker picked; None when no such entry exists (any
        more): callback data is not to be trusted."""
        entry = self.by_id.get(entry_id)
        if entry is None:
            return None
        body = Markup(self.render(entry, entry.question, now))
        html = render("faq_chosen", c=self.config, question=entry.question, answer=body)
        return Result(entry.question, entry, 1.0, html, kind="answer", mode=PRIVATE)

    def decide(
        self,
        question: str,
        *,
        mode: str = GROUP,
        addressed: bool = False,
        now: dt.datetime,
        recent: RecentAnswers | None = None,
        topic: Topic = None,
    ) -> Result:
        """Answer, suggest, or stay silent, as the bot would in ``mode`` (GROUP/PRIVATE).
        ``addressed``: the message speaks to the bot (/faq, a mention, a reply). ``recent``: the
        group's recent answers; given, an answer already given in the asker's ``topic`` (of a
        forum; None: no topic) within the repeat window becomes a pointer to it
        (``faq.repeats``)."""
        result = self._decide(question.strip(), mode, addressed, now)
        if recent is None or result.kind != "answer" or mode != GROUP:
            return result
        earlier = repeats.find_earlier(recent, result.answer_html or "", now, topic)
        if earlier is None:
            return result
        html = render("faq_repeat", c=self.config, minutes=earlier.minutes)
        return Result(
            result.question,
            result.entry,
            result.score,
            html,
            kind="repeat",
            reply_to=earlier.message_id,
        )

    def remember(
        self,
        recent: RecentAnswers,
        result: Result,
        message_id: int,
        now: dt.datetime,
        topic: Topic = None,
    ) -> None:
        """Note that ``message_id`` carried ``result`` in a group's ``topic``, for the repeat
        rule."""
        if result.kind == "answer" and result.mode == GROUP and result.answer_html is not None:
            repeats.remember(recent, result.answer_html, message_id, now, topic)

    def _decide(self, question: str, mode: str, addressed: bool, now: dt.datetime) -> Result:
        t = self.thresholds
        silent = Result(question, None, 0.0, None, mode=mode)
        if self.detector.is_chatter(question) or len(question) > MAX_QUESTION_CHARS * 5:
            return silent
        if mode == GROUP and not addressed and not self.is_question_for_us(question):
            return silent  # chatter, notices, reports: not for us
        ranked = self.rank(question)
        top, score = ranked[0] if ranked else (None, 0.0)
        if mode == GROUP and not addressed:
            # A message that says it is a question ("吗", "怎么", "？") needs less certainty about
            # the topic than a bare phrase does.
            needed = t.group if self.detector.has_question_marker(question) else t.group_phrase
            if top is not None and score >= needed:
                return self._answer(question, top, score, mode, now)
            return Result(question, top, score, None, mode=mode)
        threshold = t.addressed if mode == GROUP else t.private
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        clear = score - runner_up >= t.margin or score >= t.sure
        if top is not None and score >= threshold and clear:
            return self._answer(question, top, score, mode, now)
        candidates = [e for e, s in ranked if s >= t.suggest]
        if candidates:
            html = render(
                "faq_suggest", c=self.config, candidates=candidates, private=mode != GROUP
            )
            return Result(question, top, score, html, candidates, kind="suggest", mode=mode)
        html = render("faq_fallback", c=self.config)
        return Result(question, top, score, html, kind="fallback", mode=mode)

    def _answer(
        self, question: str, entry: Entry, score: float, mode: str, now: dt.datetime
    ) -> Result:
        html = self.render(entry, question, now)
        return Result(question, entry, score, html, kind="answer", mode=mode)


def config_names(config: Config) -> list[str]:
    """The names of units, departments and laws in the config: words the segmenter keeps whole."""
    names = list(config.centralized.units)
    names += [q.department for q in config.question_bank]
    names += [law for q in config.question_bank for law in q.laws]
    names += [d.name for d in config.category_departments]
    names += [m for d in config.category_departments for m in d.members]
    return names


_engines_lock = threading.Lock()
_engines: dict[int, tuple[Config, FaqEngine]] = {}


def engine_for(config: Config) -> FaqEngine:
    """One FAQ engine per configuration in a process (building one takes a few hundred ms)."""
    with _engines_lock:
        cached = _engines.get(id(config))
        if cached is None or cached[0] is not config:
            cached = (config, FaqEngine.from_config(config))
            _engines[id(config)] = cached
        return cached[1]
