"""What the FAQ engine decides for one message, and the thresholds it decides by."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.render import strip_html
from faq.knowledge import Entry
from faq.modes import GROUP, PRIVATE


@dataclass(frozen=True)
class Thresholds:
    group: float = 0.45  # a plain group question must be at least this sure
    group_phrase: float = 0.5  # ... and a bare phrase without a question marker
    clear_bonus: float = 0.07  # ... less this when no other entry comes within ``margin``
    addressed: float = 0.36  # /faq, a mention or a reply: answer from here
    private: float = 0.40  # private chat: answer from here, else suggest
    suggest: float = 0.18  # candidates below this are not worth suggesting
    margin: float = 0.08  # a runner-up this close to a plain group question's best ...
    # When asked directly, a runner-up this close means "did you mean" (three buttons hold the
    # answer far more often than a direct answer this close to another is right) ...
    direct_margin: float = 0.2
    sure: float = 0.75  # ... unless the best is this sure
    # A plain group message is answered only when the ranking is also sure of its choice
    # (``FaqEngine.agreed``): calibrated on the knowledge base's own phrasings, each ranked
    # against an index built without it (``python -m faq.calibrate``).
    group_margin: float = 0.08  # no runner-up within this ...
    group_sure: float = 0.75  # ... or a score this high ...
    agree_margin: float = 0.02  # ... or this margin, with the answer's words or all the
    # question's topic words behind the choice


@dataclass(frozen=True)
class Result:
    """What the engine decided for one message (shared by every asker of the same question
    within a minute: ``FaqEngine._decided``)."""

    question: str
    entry: Entry | None
    score: float
    answer_html: str | None  # what to send; None: stay silent
    suggestions: list[Entry] = field(default_factory=list)
    kind: str = "silent"  # "answer" | "suggest" | "contact" | "fallback" | "repeat" | "silent"
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
