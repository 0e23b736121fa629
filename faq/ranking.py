"""Ranking: which knowledge-base entries a question is about, and how sure we are.

Retrieval is BM25 (bm25s) over words and over character bigrams (for short or misspelt
questions), plus the words of each entry's own answer. Confidence: how much of the question
(weighted by IDF) the best matching phrasing covers, and how much of that phrasing the question
covers; a question that names a unit or a law an entry looks up (``faq.compute``) is boosted.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass

import bm25s
import numpy as np

from bot.core.config import Config
from faq.compute import COMPUTES, LOOKUPS
from faq.knowledge import Entry
from faq.names import looks_like_name
from faq.text import Segmenter, normalise

logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on import

OOV_WEIGHT = 3.5  # the IDF given to a word no phrasing contains
CHAR_WEIGHT = 0.6  # how much bigram BM25 adds to word BM25
ANSWER_WEIGHT = 0.3  # how much an answer's own words add to an entry's rank
ANSWER_CONF = 0.15  # and to its confidence
CONF_DOCS = 6  # phrasings per candidate entry scored for confidence
SECOND = 0.2  # weight of an entry's second-best phrasing in its confidence
SPECIFIC_IDF = 4.0  # a question whose known words weigh less than this is vague ("考试")
NAMED_BOOST = 0.3  # a question naming a unit or law an entry looks up
MISSING_KEY = 0.75  # confidence kept per domain word of the question an entry never uses
QUALIFIER_SHARE = 0.9  # a domain word this share of an entry's phrasings name is its subject
OWN_USES, OWN_SHARE = 2, 0.5  # an entry's own word: this many of its uses, this share of all
UNQUALIFIED = 0.8  # confidence kept by an entry whose subject the question never names
POOL = 6  # entries scored for confidence (the best by BM25, and those a look-up names)
EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)  # the look-ups only read the question, not "now"


@dataclass(frozen=True)
class Query:
    """A question's words and bigrams with their total IDF weight."""

    words: set[str]
    word_weight: float
    grams: set[str]
    gram_weight: float


class Index:
    """The entries' phrasings and answers, indexed for ranking. Built once per engine."""

    def __init__(
        self,
        entries: list[Entry],
        answers: list[str],
        segmenter: Segmenter,
        config: Config,
        marker_words: set[str],
        key_words: frozenset[str] = frozenset(),
    ) -> None:
        """``answers``: each entry's answer as plain text, in entry order; ``marker_words``:
        words that say what kind of answer is wanted ("怎么", "几"), not about what;
        ``key_words``: the domain's own words ("省属高校", "补考"): an entry that never uses one
        a question holds is unlikely to answer it."""
        self.entries = entries
        self.position = {e.id: i for i, e in enumerate(entries)}
        self.segmenter = segmenter
        self.config = config
        self.marker_words = marker_words
        self.key_words = key_words - marker_words
        self._computed = [(i, e.compute) for i, e in enumerate(entries) if e.compute in LOOKUPS]
        docs: list[tuple[int, str]] = []
        for index, entry in enumerate(entries):
            for text in (entry.question, *entry.phrasings):
                docs.append((index, text))
        self.doc_entry = np.array([i for i, _ in docs], dtype=np.int32)
        self.entry_docs = [np.flatnonzero(self.doc_entry == i) for i in range(len(entries))]
        word_docs = segmenter.words_of([text for _, text in docs] + answers)
        answer_docs = word_docs[len(docs) :]
        word_docs = word_docs[: len(docs)]
        char_docs = [segmenter.bigrams(w) for w in word_docs]
        self.word_sets = [set(w) for w in word_docs]
        self.char_sets = [set(c) for c in char_docs]
        self.word_bm25 = bm25_index(word_docs)
        self.char_bm25 = bm25_index(char_docs)
        self.word_idf = idf_table(word_docs)
        self.char_idf = idf_table(char_docs)
        self.word_doc_weight = [weight(w, self.word_idf) for w in self.word_sets]
        self.char_doc_weight = [weight(c, self.char_idf) for c in self.char_sets]
        # Each entry's own text (its phrasings and its answer), to tell whether it speaks of
        # what a question names ("平板", "浏览器") at all.
        self.entry_text = [
            normalise(" ".join((e.question, *e.phrasings, answers[i])))
            for i, e in enumerate(entries)
        ]
        self.entry_words = [
            set().union(*(self.word_sets[d] for d in self.entry_docs[i]), answer_docs[i])
            for i in range(len(entries))
        ]
        self.answer_sets = [set(a) for a in answer_docs]
        self.qualifiers = [self._qualifiers(i) for i in range(len(entries))]
        self.own_words = self._own_words()
        self.answer_bm25 = bm25_index(answer_docs)
        self.answer_idf = idf_table(answer_docs)

    def _qualifiers(self, entry_index: int) -> frozenset[str]:
        """The domain words nearly every phrasing of an entry names ("补考" of "补考谁来报"):
        what the entry is about, so that a question naming none of them is likely another's."""
        docs = self.entry_docs[entry_index]
        counts: dict[str, int] = {}
        for d in docs:
            for w in self.word_sets[d] & self.key_words:
                counts[w] = counts.get(w, 0) + 1
        return frozenset(w for w, n in counts.items() if n >= QUALIFIER_SHARE * len(docs))

    def _own_words(self) -> list[frozenset[str]]:
        """Each entry's own words: those most of whose uses are in its phrasings ("孩子", "生"
        of the maternity entry), which name its subject as well as its usual word does."""
        uses: dict[str, list[int]] = {}
        for doc, words in enumerate(self.word_sets):
            for w in words - self.marker_words:
                uses.setdefault(w, []).append(int(self.doc_entry[doc]))
        own: list[set[str]] = [set() for _ in self.entries]
        for w, entries in uses.items():
            for entry_index in set(entries):
                mine = entries.count(entry_index)
                if mine >= OWN_USES and mine >= OWN_SHARE * len(entries):
                    own[entry_index].add(w)
        return [frozenset(words) for words in own]

    @property
    def size(self) -> int:
        """How many phrasings (questions included) are indexed."""
        return len(self.doc_entry)

    def unknown_share(self, words: set[str]) -> float:
        """How much of the question's topic (IDF-weighted, marker words, numbers and names
        aside) is words no phrasing or answer uses: "陪产假能不能免考" is mostly about 陪产假,
        which the notice never mentions. Fragments the segmenter cut from an odd phrasing
        ("做些") are no such words."""
        topic = {
            w
            for w in words - self.marker_words
            if not any(ch.isdigit() for ch in w) and not looks_like_name(w)
        }
        unknown = sum(OOV_WEIGHT for w in topic if not self.knows(w) and self.segmenter.is_word(w))
        known = sum(
            self.word_idf.get(w, self.answer_idf.get(w, 0.0)) for w in topic if self.knows(w)
        )
        return unknown / (unknown + known) if unknown + known else 0.0

    def entry_recall(self, words: set[str], entry: Entry) -> float:
        """How much of the question's topic (IDF-weighted, marker words and names aside) the
        entry's own words (all its phrasings and its answer) cover."""
        topic = {
            w
            for w in words - self.marker_words
            if not any(ch.isdigit() for ch in w) and not looks_like_name(w)
        }
        if not topic:
            return 1.0
        vocab = self.entry_words[self.position[entry.id]]

        def weigh(w: str) -> float:
            return min(OOV_WEIGHT, self.word_idf.get(w, self.answer_idf.get(w, OOV_WEIGHT)))

        return sum(weigh(w) for w in topic & vocab) / sum(weigh(w) for w in topic)

    def answer_choice(self, words: list[str]) -> Entry | None:
        """The entry whose answer's own words match the question best (BM25 over the answers
        alone): a second opinion, independent of how the entries' phrasings were written."""
        scores = self.scores(self.answer_bm25, words, self.answer_idf, len(self.entries))
        if not len(scores) or float(scores.max()) <= 0:
            return None
        return self.entries[int(np.argmax(scores))]

    def answers_overlap(self, a: Entry, b: Entry) -> float:
        """How much of the shorter of two entries' answers (its words, IDF-weighted) the other
        says too: two entries answering much the same, 0..1."""
        sa, sb = (self.answer_sets[self.position[e.id]] for e in (a, b))
        smaller = min(weight(sa, self.answer_idf), weight(sb, self.answer_idf))
        return weight(sa & sb, self.answer_idf) / smaller if smaller > 0 else 0.0

    def mentions(self, entry: Entry, words: list[str]) -> bool:
        """Whether the entry's own text holds every one of ``words``."""
        text = self.entry_text[self.position[entry.id]]
        return all(w in text for w in words)

    def knows(self, word: str) -> bool:
        """Whether some phrasing or answer of the knowledge base uses ``word``."""
        return word in self.word_idf or word in self.answer_idf

    def rank(self, question: str, k: int) -> tuple[tuple[Entry, float], ...]:
        """The ``k`` best entries with their confidence, best first."""
        words = self.segmenter.words(question)
        if not words:
            return ()
        grams = self.segmenter.bigrams(words)
        fused = self.scores(self.word_bm25, words, self.word_idf)
        fused += CHAR_WEIGHT * self.scores(self.char_bm25, grams, self.char_idf)
        # Entry score: its best phrasing, plus how well its answer's own words match.
        n_entries = len(self.entries)
        phrasing = np.full(n_entries, -1.0, dtype=np.float32)
        np.maximum.at(phrasing, self.doc_entry, fused)
        answer = self.scores(self.answer_bm25, words, self.answer_idf, n_entries)
        total = phrasing + ANSWER_WEIGHT * answer
        candidates = [int(i) for i in np.argsort(-total)[: max(k, POOL)] if total[i] > 0]
        named = self.named_entries(question)
        candidates += [i for i in named if i not in candidates]
        if not candidates:
            return ()
        qwords, qgrams = set(words), set(grams)
        query = Query(qwords, weight(qwords, self.word_idf), qgrams, weight(qgrams, self.char_idf))
        specificity = self.specificity(qwords)
        keys = qwords & self.key_words
        ranked = []
        for entry_index in candidates:
            conf = self.entry_confidence(query, entry_index, fused) * (0.5 + 0.5 * specificity)
            conf *= MISSING_KEY ** len(keys - self.entry_words[entry_index])
            if self.unqualified(entry_index, qwords):
                conf *= UNQUALIFIED
            if entry_index in named:
                conf = min(1.0, conf + NAMED_BOOST)
            ranked.append((self.entries[entry_index], conf, float(total[entry_index])))
        ranked.sort(key=lambda item: (-item[1], -item[2]))
        return tuple((entry, conf) for entry, conf, _ in ranked[:k])

    def unqualified(self, entry_index: int, words: set[str]) -> bool:
        """Whether a question is unlike the entry's: it names neither the matter nearly every
        phrasing names nor any word of the entry's own."""
        subject = self.qualifiers[entry_index]
        return bool(subject) and not (subject | self.own_words[entry_index]) & words

    def specificity(self, words: set[str]) -> float:
        """How specific the question's topic words are, 0..1. Marker words ("怎么", "几") say
        what kind of answer is wanted, not about what, so they do not count."""
        topic = words - self.marker_words
        return min(1.0, sum(self.word_idf.get(t, 0.0) for t in topic) / SPECIFIC_IDF)

    def entry_confidence(self, query: Query, entry_index: int, fused: np.ndarray) -> float:
        """The entry's two best-matching phrasings (one lucky phrasing is weaker evidence),
        and how much of the question its answer covers."""
        docs = self.entry_docs[entry_index]
        if len(docs) > CONF_DOCS:  # only the phrasings BM25 ranks highest are worth scoring
            docs = docs[np.argpartition(-fused[docs], CONF_DOCS)[:CONF_DOCS]]
        confs = sorted((self.confidence(query, int(d)) for d in docs), reverse=True)
        doc_conf = confs[0] if len(confs) < 2 else (1 - SECOND) * confs[0] + SECOND * confs[1]
        answer_recall = recall(query.words, self.answer_sets[entry_index], self.word_idf)
        return (1 - ANSWER_CONF) * doc_conf + ANSWER_CONF * answer_recall

    def named_entries(self, question: str) -> list[int]:
        """Entries whose look-up finds a unit, department or law named in the question."""
        found = []
        for index, compute in self._computed:
            if COMPUTES[compute](self.config, question, EPOCH).get("named") is not None:
                found.append(index)
        return found

    def scores(
        self, index: bm25s.BM25 | None, tokens: list[str], idf: dict[str, float], n: int = 0
    ) -> np.ndarray:
        """BM25 scores of ``tokens`` over ``index``, scaled by the best a document could get."""
        n = n or len(self.doc_entry)
        known = [t for t in dict.fromkeys(tokens) if t in idf]
        if index is None or not known:
            return np.zeros(n, dtype=np.float32)
        ideal = sum(idf[t] for t in known) + sum(OOV_WEIGHT for t in set(tokens) if t not in idf)
        return np.asarray(index.get_scores(known), dtype=np.float32) / max(ideal, 1e-6)

    def confidence(self, query: Query, doc: int) -> float:
        """How well one phrasing matches the question, by words and by bigrams."""
        word = overlap_f1(
            query.words,
            query.word_weight,
            self.word_sets[doc],
            self.word_doc_weight[doc],
            self.word_idf,
        )
        char = overlap_f1(
            query.grams,
            query.gram_weight,
            self.char_sets[doc],
            self.char_doc_weight[doc],
            self.char_idf,
        )
        return max(word, 0.9 * char, 0.6 * word + 0.4 * char)


LONG_QUESTION = 12  # words: a question longer than this also tells its circumstances


def bm25_index(docs: list[list[str]]) -> bm25s.BM25 | None:
    if not any(docs):
        return None
    index = bm25s.BM25(k1=1.2, b=0.75)
    index.index([d or [""] for d in docs], show_progress=False)
    return index


def idf_table(docs: list[list[str]]) -> dict[str, float]:
    n = len(docs)
    df: dict[str, int] = {}
    for doc in docs:
        for token in set(doc):
            df[token] = df.get(token, 0) + 1
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}


def weight(items: set[str], idf: dict[str, float]) -> float:
    return sum(idf.get(t, OOV_WEIGHT) for t in items)


def recall(query: set[str], doc: set[str], idf: dict[str, float]) -> float:
    """The IDF-weighted share of the question's words that ``doc`` contains."""
    if not query:
        return 0.0
    return weight(query & doc, idf) / weight(query, idf)


def overlap_f1(
    query: set[str], query_weight: float, doc: set[str], doc_weight: float, idf: dict[str, float]
) -> float:
    """IDF-weighted overlap: how much of the question the phrasing covers (recall) and how much
    of the phrasing the question covers (precision), as their harmonic mean; for a long
    message, which tells its circumstances before it asks ("我们单位原来的管理员调到别的科室
    去了，现在换成我来当管理员，请问新管理员怎么变更"), weighted towards precision, up to
    twice as much at twice ``LONG_QUESTION`` words."""
    if not query or not doc:
        return 0.0
    common = query & doc
    if not common:
        return 0.0
    shared = sum(map(idf.__getitem__, common))  # a phrasing's words are all in the table
    recall_ = shared / query_weight
    precision = shared / doc_weight
    beta = 1 + min(1.0, max(0, len(query) - LONG_QUESTION) / LONG_QUESTION)
    return (1 + beta**2) * recall_ * precision / (beta**2 * recall_ + precision)
