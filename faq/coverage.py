"""When the notice is silent: telling an on-topic question no entry answers from one it does,
and where to send the asker instead.

"能用平板考试吗" is about the platform, but no entry speaks of 平板; "陪产假能不能免考" is about
免考, but mostly about 陪产假, which the notice never mentions. Such a question must not get the
nearest entry ("可以申请"): it gets the contacts the notice names, the technical service (phone
and QQ group) for platform problems, the policy phone for rules.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from faq import told
from faq.asked import AskedKinds
from faq.detect import QuestionDetector
from faq.knowledge import Entry
from faq.ranking import Index
from faq.text import normalise

TECH, POLICY, BOTH = "tech", "policy", "both"
Ranker = Callable[[str, int], list[tuple[Entry, float]]]
KNOWN_SHARE = 0.75  # share of known words a marker-less group message needs
UNKNOWN_SHARE = 0.45  # a question this much about words the knowledge base lacks is not covered
UNKNOWN_SURE = 0.6  # ... unless its best entry matches it this well
# A fact-computed answer whose facts are only told stands only when the ranking puts it within
# ``ROUTE_GAP`` of its best fixed entry, among its best ``RIVALS``.
ROUTE_GAP, RIVALS = 0.15, 12
FIT_WINDOW = 0.1  # an entry giving the kind of fact asked replaces a better one this close


@dataclass(frozen=True)
class Coverage:
    index: Index
    detector: QuestionDetector
    asked: AskedKinds  # what kind of fact a question asks for, and which entries give it
    # The entries that answer a described problem ("密码忘了登不上"): some phrasing of theirs
    # describes one. A problem described to any other entry is not answered by it.
    fixes: frozenset[str] = field(init=False)

    def __post_init__(self) -> None:
        fixes = frozenset(
            e.id
            for e in self.index.entries
            if any(self.detector.describes_problem(p) for p in (e.question, *e.phrasings))
        )
        object.__setattr__(self, "fixes", fixes)

    def platform_words(self, question: str) -> list[str]:
        text = self.detector.statement(question)
        return [w for w in self.detector.lexicon.platform_words if w in text]

    def matters(self, question: str) -> list[str]:
        """The matters the notice does not rule on that the question names ("陪产假")."""
        text = normalise(question)
        return [w for w in self.detector.lexicon.uncovered_words if w in text]

    def uncovered(
        self,
        question: str,
        words: list[str],
        top: Entry | None,
        score: float,
        loosely: bool = True,
    ) -> bool:
        """Whether the best entry does not answer the question: it names a platform matter or
        a matter the notice does not rule on that the entry never speaks of, it describes a
        problem the entry is not about, it asks for a kind of fact the entry does not give
        ("…什么时候通报" of a rule without a date), or (``loosely``) it is mostly about words
        the knowledge base lacks and the entry matches it only loosely."""
        if top is None or not self.asked.answers(top, question):
            return True
        if self.asked.inverts(top, question):
            return True  # "补考合格了…" of the rule on those who failed it: not its case
        named = self.platform_words(question) + self.matters(question)
        if named and not self.index.mentions(top, named):
            return True
        if self.outside(top, question):
            return True  # "补考每天有几场": the zone exam's sessions are not the makeup's
        if top.id not in self.fixes and self.detector.describes_problem(question):
            return True  # "二维码过期了扫不进去": not what the entry about the QR code answers
        if self.detector.persists(question):
            return True  # "密码重置了还是登不上": the remedy was tried, the fault is the platform's
        if not loosely:
            return False
        return score < UNKNOWN_SURE and self.index.unknown_share(set(words)) >= UNKNOWN_SHARE

    def fitting(
        self, question: str, ranked: list[tuple[Entry, float]]
    ) -> list[tuple[Entry, float]]:
        """``ranked`` without the entries that cannot give the kind of fact the question asks
        for ("没备案就设了免考会怎么样": the rule with the consequence, not who sets it), when
        one that can comes within ``FIT_WINDOW`` of the best; else as it is (and the best is
        not the answer: ``uncovered``)."""
        if not ranked:
            return ranked
        best, kinds = ranked[0][1], self.asked.asked(question) - self.asked.strict
        fit = [(e, s) for e, s in ranked if kinds <= self.asked.gives(e)]
        return fit if fit and fit[0][1] >= best - FIT_WINDOW else ranked

    def computes(self, entry: Entry, question: str, now: dt.datetime, rank: Ranker) -> bool:
        """Whether the computed ``entry`` answers ``question``: it speaks of every matter the
        notice does not rule on that the question names (``speaks_to``), and the facts it is
        computed from are not only told ("我们党组9月8号开会学了民法典，顺便问下公共必学的是哪两本书": no fact in the
        part that asks, and the ranking (``rank``) puts a fixed entry well ahead of it)."""
        if not self.speaks_to(entry, question):
            return False
        if entry.id not in told.FROM_FACTS:
            return True
        if told.asks_with_facts(entry.id, question, now, self.detector.has_question_marker):
            return True
        ranked = rank(question, RIVALS)
        if not ranked or ranked[0][0].compute is not None:
            return True
        own = next((s for e, s in ranked if e.id == entry.id), None)
        if own is None:
            return False  # not even among the ranking's candidates
        return own >= ranked[0][1] - ROUTE_GAP

    def speaks_to(self, entry: Entry, question: str) -> bool:
        """Whether ``entry`` speaks of every matter the notice does not rule on that the
        question names: "市档案馆的预报名错过了，现在补报还行不行" names 补报, which the
        centralized exam's list never does."""
        if self.outside(entry, question):
            return False  # "补考晚上8点有场次吗": not the zone exam's sessions
        named = self.matters(question)
        return not named or self.index.mentions(entry, named)

    def outside(self, entry: Entry, question: str) -> bool:
        """Whether ``question`` names what ``entry``'s rule is not about (its ``not_of``)."""
        text = normalise(question)
        return any(w in text for w in entry.not_of)

    def kind(self, question: str) -> str:
        """Which contact answers it: the technical service for platform problems, the policy
        phone for rules, both when the question is about both ("学时不够能不能延期考试")."""
        platform = bool(self.platform_words(question)) or self.detector.persists(question)
        rules = bool(self.matters(question))
        if platform and rules:
            return BOTH
        return TECH if platform else POLICY

    def asks_for_help(self, question: str) -> bool:
        """An on-topic question or described problem: worth the contacts even in the group."""
        d = self.detector
        if not d.on_topic(question) or normalise(question).startswith(d.lexicon.notice_prefixes):
            return False
        return d.has_question_marker(question) or d.describes_problem(question)

    def for_us(self, text: str) -> bool:
        """In the group, a plain message must read as a question; one without a question
        marker must also name something of the campaign and be made of words the knowledge
        base knows (a keyword phrase like "补考报名时间", not "今天食堂的菜不错")."""
        if self.detector.about_another_app(text):
            return False  # "今天学习强国的题谁做了"
        if self.detector.describes_problem(text) and not self.detector.reports_done(text):
            return True
        if not self.detector.looks_like_question(text):
            return False
        if self.detector.has_question_marker(text):
            return True
        if not self.detector.on_topic(text):
            return False  # "晚上8点老地方见": a phrase must name something of the campaign
        words = self.index.segmenter.words(text)
        known = [w for w in words if self.index.knows(w)]
        return bool(words) and len(known) / len(words) >= KNOWN_SHARE
