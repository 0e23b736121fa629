"""What kind of fact a question asks for (a date, a count, a consequence), and whether an
entry can give it.

Ranking finds the entry a question is about; it does not see that "考试结果什么时候通报" asks
for a date that the rule "学法考法工作情况纳入年度平安建设考核" does not hold. An entry answers
a question of a kind only when its answer holds such a fact, or one of its own phrasings asks
for the same kind (the knowledge base says it answers it); otherwise the notice is silent on
what was asked, and the asker gets the contacts, not the nearest rule.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from faq.knowledge import Entry
from faq.text import normalise

ASKED_PATH = Path(__file__).with_name("asked.toml")


@dataclass(frozen=True)
class Kind:
    name: str
    asks: tuple[str, ...]  # normalised words that ask for it ...
    unless: tuple[str, ...]  # ... unless one of these says they ask for something else
    gives: re.Pattern[str]  # a fact of this kind in an answer's text

    def asked_by(self, text: str) -> bool:
        return any(a in text for a in self.asks) and not any(u in text for u in self.unless)


class AskedKinds:
    """The kinds of ``asked.toml``, with the kinds each entry can give, known at build time."""

    def __init__(self, entries: list[Entry], answers: list[str], path: Path = ASKED_PATH) -> None:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
        conditions = raw.pop("conditions")
        self._negations = tuple(conditions["negations"])
        self._same: dict[str, str] = conditions.get("same", {})
        said = {e.id: normalise(a) for e, a in zip(entries, answers, strict=True)}
        # The conditions each entry's answer states in the negative only.
        self._negative = {
            entry_id: frozenset(
                w
                for w in conditions["words"]
                if self._negated(text, w) and not self._stated(text, w)
            )
            for entry_id, text in said.items()
        }
        self.kinds = tuple(
            Kind(
                name,
                tuple(normalise(a) for a in spec["asks"]),
                tuple(normalise(u) for u in spec.get("unless", [])),
                re.compile(spec["gives"]),
            )
            for name, spec in raw.items()
        )
        # Kinds no other entry is chosen for: the best entry gives it, or the notice does not.
        self.strict = frozenset(name for name, spec in raw.items() if spec.get("strict"))
        self._gives: dict[str, frozenset[str]] = {}
        for entry, answer in zip(entries, answers, strict=True):
            asked = frozenset().union(*(self.asked(p) for p in (entry.question, *entry.phrasings)))
            given = {k.name for k in self.kinds if k.gives.search(answer)}
            self._gives[entry.id] = asked | given

    def asked(self, question: str) -> frozenset[str]:
        """The kinds of fact ``question`` asks for."""
        text = normalise(question)
        return frozenset(k.name for k in self.kinds if k.asked_by(text))

    def gives(self, entry: Entry) -> frozenset[str]:
        """The kinds of fact ``entry`` can give."""
        return self._gives.get(entry.id, frozenset())

    def answers(self, entry: Entry, question: str) -> bool:
        """Whether ``entry`` can give every kind of fact ``question`` asks for."""
        return self.asked(question) <= self.gives(entry)

    def inverts(self, entry: Entry, question: str) -> bool:
        """Whether ``question`` states, as a fact, a condition ``entry``'s rule is stated for
        only in the negative: "补考合格了…" of the rule "对补考不合格者…"."""
        text = normalise(question)
        for word, same in self._same.items():
            text = text.replace(word, same)
        return any(self._stated(text, w) for w in self._negative.get(entry.id, ()))

    def _negated(self, text: str, word: str) -> bool:
        return any(n + word in text for n in self._negations)

    def _stated(self, text: str, word: str) -> bool:
        """``word`` in ``text`` somewhere with no negation before it."""
        start = text.find(word)
        while start >= 0:
            if not text[:start].endswith(self._negations):
                return True
            start = text.find(word, start + 1)
        return False
