"""The FAQ engine: Chinese retrieval over the knowledge base, a confidence score, and the
decision to answer, suggest or stay silent.

Retrieval: jieba segmentation with the campaign's own words, a synonym table mapping how people
talk onto the knowledge base's words, BM25 (bm25s) over words and over character bigrams (for
short or misspelt questions). Confidence: how much of the question (weighted by IDF) the best
matching phrasing covers, and how much of that phrasing the question covers.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import re
import threading
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

import bm25s
import jieba
import numpy as np

from bot.core.config import Config
from bot.core.render import make_environment, strip_html
from faq.compute import COMPUTES, base_context

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)
logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets DEBUG on import

HERE = Path(__file__).resolve().parent
ENTRIES_PATH = HERE / "entries.toml"
LEXICON_PATH = HERE / "lexicon.toml"
MAX_QUESTION_CHARS = 200  # longer messages are statements or notices, not questions

_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)


@dataclass(frozen=True)
class Entry:
    id: str
    section: str
    question: str
    phrasings: tuple[str, ...]
    answer: str
    compute: str | None = None


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
    answer_html: str | None
    suggestions: list[Entry] = field(default_factory=list)
    kind: str = "silent"  # "answer" | "suggest" | "fallback" | "silent"

    @property
    def answer_text(self) -> str | None:
        return strip_html(self.answer_html) if self.answer_html is not None else None

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer_text,
            "entry": self.entry.id if self.entry and self.kind == "answer" else None,
            "score": round(self.score, 4),
            "suggestions": [e.question for e in self.suggestions],
        }


def load_entries(path: Path = ENTRIES_PATH) -> list[Entry]:
    with path.open("rb") as fh:
        data = tomllib.load(fh)
    entries = []
    for raw in data.get("entry", []):
        entries.append(
            Entry(
                id=raw["id"],
                section=raw["section"],
                question=raw["question"],
                phrasings=tuple(raw.get("phrasings", [])),
                answer=raw["answer"].strip(),
                compute=raw.get("compute"),
            )
        )
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate FAQ entry ids")
    unknown = {e.compute for e in entries if e.compute and e.compute not in COMPUTES}
    if unknown:
        raise ValueError(f"unknown compute functions: {sorted(unknown)}")
    return entries


@dataclass(frozen=True)
class Lexicon:
    words: tuple[str, ...]
    synonyms: dict[str, str]  # variant (normalised) -> canonical
    stopwords: frozenset[str]
    chatter: frozenset[str]
    question_markers: tuple[str, ...]
    done_markers: tuple[str, ...] = ()
    first_person: tuple[str, ...] = ()
    notice_prefixes: tuple[str, ...] = ()

    @classmethod
    def load(cls, path: Path = LEXICON_PATH) -> Lexicon:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        synonyms: dict[str, str] = {}
        for canonical, variants in data.get("synonyms", {}).items():
            for variant in variants:
                synonyms[normalise(variant)] = normalise(canonical)
        return cls(
            words=tuple(data.get("words", [])),
            synonyms=synonyms,
            stopwords=frozenset(normalise(w) for w in data.get("stopwords", [])),
            chatter=frozenset(_squash(w) for w in data.get("chatter", [])),
            question_markers=tuple(data.get("question_markers", [])),
            done_markers=tuple(data.get("done_markers", [])),
            first_person=tuple(data.get("first_person", [])),
            notice_prefixes=tuple(normalise(p) for p in data.get("notice_prefixes", [])),
        )


def normalise(text: str) -> str:
    """Full-width to half-width, lower case."""
    return unicodedata.normalize("NFKC", text).lower().strip()


def _squash(text: str) -> str:
    return _PUNCT.sub("", normalise(text))


_tokenizer_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_tokenizer_words: set[str] = set()


def tokenizer(extra_words: Iterable[str] = ()) -> jieba.Tokenizer:
    """One jieba tokenizer per process, with the domain's words added (thread-safe)."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            _tokenizer = jieba.Tokenizer()
            _tokenizer.initialize()
        for word in extra_words:
            if word not in _tokenizer_words:
                _tokenizer.add_word(word, freq=200000)
                _tokenizer_words.add(word)
        return _tokenizer


def warm_up() -> None:
    """Load jieba's dictionary (about a second) ahead of the first question."""
    tokenizer()


class FaqEngine:
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
        domain_words = set(lexicon.words) | set(lexicon.synonyms) | set(lexicon.synonyms.values())
        domain_words |= {name for name in _config_names(config) if len(name) >= 2}
        self._jieba = tokenizer(sorted(domain_words))
        self._env = make_environment()
        self._templates = {e.id: self._env.from_string(e.answer) for e in entries}
        self._computed = [(i, e) for i, e in enumerate(entries) if e.compute]
        self._rank_cached = lru_cache(maxsize=_RANK_CACHE)(self._rank)
        self._marker_words = {normalise(m) for m in lexicon.question_markers} | {
            lexicon.synonyms.get(normalise(m), normalise(m)) for m in lexicon.question_markers
        }
        self._build_index()

    @classmethod
    def from_config(cls, config: Config, thresholds: Thresholds | None = None) -> FaqEngine:
        return cls(load_entries(), Lexicon.load(), config, thresholds)

    # --- text processing -----------------------------------------------------------------------
    def words(self, text: str) -> list[str]:
        """Content words of ``text``: segmented, synonyms mapped, stopwords and punctuation out."""
        out: list[str] = []
        for token in self._jieba.lcut(normalise(text), HMM=True):
            token = token.strip()
            if not token or _PUNCT.fullmatch(token):
                continue
            token = self.lexicon.synonyms.get(token, token)
            if token in self.lexicon.stopwords:
                continue
            out.append(token)
        return out

    @staticmethod
    def bigrams(words: list[str]) -> list[str]:
        text = "".join(words)
        if len(text) < 2:
            return [text] if text else []
        return [text[i : i + 2] for i in range(len(text) - 1)]

    # --- the index ---------------------------------------------------------------------------
    def _build_index(self) -> None:
        docs: list[tuple[int, str]] = []
        for index, entry in enumerate(self.entries):
            for text in (entry.question, *entry.phrasings):
                docs.append((index, text))
        self._doc_entry = np.array([i for i, _ in docs], dtype=np.int32)
        self._entry_docs = [np.flatnonzero(self._doc_entry == i) for i in range(len(self.entries))]
        word_docs = [self.words(text) for _, text in docs]
        char_docs = [self.bigrams(w) for w in word_docs]
        self._word_sets = [set(w) for w in word_docs]
        self._char_sets = [set(c) for c in char_docs]
        self._word_bm25 = _bm25(word_docs)
        self._char_bm25 = _bm25(char_docs)
        self._word_idf = _idf(word_docs)
        self._char_idf = _idf(char_docs)
        self._word_doc_weight = [_weight(w, self._word_idf) for w in self._word_sets]
        self._char_doc_weight = [_weight(c, self._char_idf) for c in self._char_sets]
        # The answers' own words (rendered once, at the start of the campaign) also count.
        reference = dt.datetime.combine(self.config.study.start, dt.time(12), self.config.tz)
        answer_docs = [self.words(strip_html(self.render(e, "", reference))) for e in self.entries]
        self._answer_sets = [set(a) for a in answer_docs]
        self._answer_bm25 = _bm25(answer_docs)
        self._answer_idf = _idf(answer_docs)

    # --- retrieval -----------------------------------------------------------------------------
    def rank(self, question: str, k: int = 3) -> list[tuple[Entry, float]]:
        """The ``k`` best entries with their confidence, best first. Ranking does not depend on
        the clock, so the same question (asked dozens of times a day) is ranked once."""
        return list(self._rank_cached(question[:MAX_QUESTION_CHARS], k))

    def _rank(self, question: str, k: int) -> tuple[tuple[Entry, float], ...]:
        words = self.words(question[:MAX_QUESTION_CHARS])
        if not words:
            return ()
        grams = self.bigrams(words)
        word_scores = self._scores(self._word_bm25, words, self._word_idf)
        char_scores = self._scores(self._char_bm25, grams, self._char_idf)
        fused = word_scores + 0.6 * char_scores
        # Entry score: its best phrasing, plus how well its answer's own words match.
        n_entries = len(self.entries)
        phrasing = np.full(n_entries, -1.0, dtype=np.float32)
        np.maximum.at(phrasing, self._doc_entry, fused)
        answer = self._scores(self._answer_bm25, words, self._answer_idf, n_entries)
        total = phrasing + _ANSWER_WEIGHT * answer
        candidates = [int(i) for i in np.argsort(-total)[:k] if total[i] > 0]
        named = self._named_entries(question)
        candidates += [i for i in named if i not in candidates]
        if not candidates:
            return ()
        qwords, qgrams = set(words), set(grams)
        query = _Query(
            qwords, _weight(qwords, self._word_idf), qgrams, _weight(qgrams, self._char_idf)
        )
        # Topic words only: "怎么", "几" say what kind of answer is wanted, not about what.
        topic = qwords - self._marker_words
        specificity = min(1.0, sum(self._word_idf.get(t, 0.0) for t in topic) / _SPECIFIC_IDF)
        ranked = []
        for entry_index in candidates:
            # The entry's two best-matching phrasings: one lucky phrasing is weaker evidence.
            docs = self._entry_docs[entry_index]
            if len(docs) > _CONF_DOCS:  # only the phrasings BM25 ranks highest are worth scoring
                docs = docs[np.argpartition(-fused[docs], _CONF_DOCS)[:_CONF_DOCS]]
            confs = sorted((self._confidence(query, int(d)) for d in docs), reverse=True)
            doc_conf = confs[0] if len(confs) < 2 else (1 - _SECOND) * confs[0] + _SECOND * confs[1]
            conf = (1 - _ANSWER_CONF) * doc_conf
            conf += _ANSWER_CONF * _recall(qwords, self._answer_sets[entry_index], self._word_idf)
            conf *= 0.5 + 0.5 * specificity
            if entry_index in named:
                conf = min(1.0, conf + _NAMED_BOOST)
            ranked.append((self.entries[entry_index], conf, float(total[entry_index])))
        ranked.sort(key=lambda item: (-item[1], -item[2]))
        return tuple((entry, conf) for entry, conf, _ in ranked[:k])

    def _named_entries(self, question: str) -> list[int]:
        found = []
        for index, entry in self._computed:
            values = COMPUTES[entry.compute](self.config, question, _EPOCH)
            if any(v is not None for v in values.values()):
                found.append(index)
        return found

    def _scores(
        self, index: bm25s.BM25 | None, tokens: list[str], idf: dict[str, float], n: int = 0
    ) -> np.ndarray:
        n = n or len(self._doc_entry)
        known = [t for t in dict.fromkeys(tokens) if t in idf]
        if index is None or not known:
            return np.zeros(n, dtype=np.float32)
        ideal = sum(idf[t] for t in known) + sum(_OOV_WEIGHT for t in set(tokens) if t not in idf)
        return np.asarray(index.get_scores(known), dtype=np.float32) / max(ideal, 1e-6)

    def _confidence(self, query: _Query, doc: int) -> float:
        word = _overlap_f1(
            query.words,
            query.word_weight,
            self._word_sets[doc],
            self._word_doc_weight[doc],
            self._word_idf,
        )
        char = _overlap_f1(
            query.grams,
            query.gram_weight,
            self._char_sets[doc],
            self._char_doc_weight[doc],
            self._char_idf,
        )
        return max(word, 0.9 * char, 0.6 * word + 0.4 * char)

    # --- answering -----------------------------------------------------------------------------
    def render(self, entry: Entry, question: str, now: dt.datetime) -> str:
        context = base_context(self.config, now)
        if entry.compute:
            context.update(COMPUTES[entry.compute](self.config, question, now))
        body = self._templates[entry.id].render(**context).strip()
        return f"{body}\n<i>（来源：{entry.section}）</i>"

    def is_chatter(self, text: str) -> bool:
        """Greetings and acknowledgements, or nothing but digits, symbols and emoji ("+1")."""
        squashed = _squash(text)
        if not squashed or squashed in self.lexicon.chatter:
            return True
        return not any(ch.isalpha() for ch in squashed)

    def looks_like_question(self, text: str) -> bool:
        """A question marker ("吗", "怎么", "？", a trailing "…不" / "…没"), or a short keyword
        phrase ("补考报名时间"). Notices, forwards, reports of things done ("材料已交",
        "我们报完了") and long statements are not."""
        text = normalise(text)
        lex = self.lexicon
        if self.has_question_marker(text):
            return not text.startswith(_FORWARD_PREFIXES)
        if text.startswith(lex.notice_prefixes):
            return False
        if any(m in text for m in lex.done_markers):
            return False
        if "了" in text and any(p in text for p in lex.first_person):
            return False
        return len(_squash(text)) <= 14

    def has_question_marker(self, text: str) -> bool:
        text = normalise(text)
        if any(marker in text for marker in self.lexicon.question_markers):
            return True
        return any(c.endswith(_TAIL_MARKERS) for c in _PUNCT.split(text) if c)

    def _is_question_for_us(self, text: str) -> bool:
        """In the group, a plain message must read as a question; one without a question
        marker must also be made of words the knowledge base knows (a keyword phrase like
        "补考报名时间", not "今天食堂的菜不错")."""
        if not self.looks_like_question(text):
            return False
        if self.has_question_marker(text):
            return True
        words = self.words(text)
        known = [w for w in words if w in self._word_idf or w in self._answer_idf]
        return bool(words) and len(known) / len(words) >= _KNOWN_SHARE

    def decide(
        self,
        question: str,
        *,
        mode: str = "group",
        addressed: bool = False,
        now: dt.datetime | None = None,
    ) -> Result:
        """Answer, suggest, or stay silent, as the bot would in ``mode`` ("group"/"private")."""
        now = now or dt.datetime.now(self.config.tz)
        question = question.strip()
        t = self.thresholds
        if self.is_chatter(question) or len(question) > MAX_QUESTION_CHARS * 5:
            return Result(question, None, 0.0, None)
        if mode == "group" and not addressed and not self._is_question_for_us(question):
            return Result(question, None, 0.0, None)  # chatter, notices, reports: not for us
        ranked = self.rank(question)
        top, score = ranked[0] if ranked else (None, 0.0)
        candidates = [e for e, s in ranked if s >= t.suggest]
        if mode == "group" and not addressed:
            # A message that says it is a question ("吗", "怎么", "？") needs less certainty about
            # the topic than a bare phrase does.
            needed = t.group if self.has_question_marker(question) else t.group_phrase
            if top is not None and score >= needed:
                return Result(question, top, score, self.render(top, question, now), kind="answer")
            return Result(question, top, score, None)
        threshold = t.addressed if mode == "group" else t.private
        runner_up = ranked[1][1] if len(ranked) > 1 else 0.0
        clear = score - runner_up >= t.margin or score >= t.sure
        if top is not None and score >= threshold and clear:
            return Result(question, top, score, self.render(top, question, now), kind="answer")
        if candidates:
            html = self._env.from_string(_SUGGEST).render(
                candidates=candidates, private=mode != "group"
            )
            return Result(question, top, score, html, candidates, kind="suggest")
        html = self._env.from_string(_FALLBACK).render(c=self.config)
        return Result(question, top, score, html, kind="fallback")

    @cached_property
    def size(self) -> int:
        return len(self._doc_entry)


_OOV_WEIGHT = 3.5
_ANSWER_WEIGHT = 0.3  # how much an answer's own words add to an entry's rank
_ANSWER_CONF = 0.15  # and to its confidence
_RANK_CACHE = 2048  # distinct recent questions whose ranking is kept
_CONF_DOCS = 6  # phrasings per candidate entry scored for confidence
_SECOND = 0.2  # weight of an entry's second-best phrasing in its confidence
_SPECIFIC_IDF = 4.0  # a question whose known words weigh less than this is vague ("考试")
_NAMED_BOOST = 0.3
_KNOWN_SHARE = 0.75
_TAIL_MARKERS = ("不", "没", "没有", "没得", "不了")  # 能考不 / 有app没: colloquial questions
_FORWARD_PREFIXES = (
    "转发",
    "转：",
    "转:",
    "【转",
    "[转",
)  # share of known words a marker-less group message needs
_EPOCH = dt.datetime(2000, 1, 1, tzinfo=dt.UTC)

_SUGGEST = """没能确定您问的是哪一项。{% if private %}您是想问：{% else %}您是想问：
{% for e in candidates %}{{ loop.index }}. {{ e.question }}
{% endfor %}可发送 /faq 加上更完整的问题。{% endif %}"""

_FALLBACK = """抱歉，通知里没有找到这个问题的答案。可以换个说法再问，或联系{{ c.campaign.city_office }}：\
政策咨询 {{ c.contacts.policy_phone }}，技术服务 {{ c.contacts.tech_phone }}。"""


def _bm25(docs: list[list[str]]) -> bm25s.BM25 | None:
    if not any(docs):
        return None
    index = bm25s.BM25(k1=1.2, b=0.75)
    index.index([d or [""] for d in docs], show_progress=False)
    return index


def _idf(docs: list[list[str]]) -> dict[str, float]:
    n = len(docs)
    df: dict[str, int] = {}
    for doc in docs:
        for token in set(doc):
            df[token] = df.get(token, 0) + 1
    return {t: math.log(1 + (n - d + 0.5) / (d + 0.5)) for t, d in df.items()}


def _recall(query: set[str], doc: set[str], idf: dict[str, float]) -> float:
    if not query:
        return 0.0
    total = sum(idf.get(t, _OOV_WEIGHT) for t in query)
    return sum(idf.get(t, _OOV_WEIGHT) for t in query & doc) / total


@dataclass(frozen=True)
class _Query:
    words: set[str]
    word_weight: float
    grams: set[str]
    gram_weight: float


def _weight(items: set[str], idf: dict[str, float]) -> float:
    return sum(idf.get(t, _OOV_WEIGHT) for t in items)


def _overlap_f1(
    query: set[str], query_weight: float, doc: set[str], doc_weight: float, idf: dict[str, float]
) -> float:
    """IDF-weighted overlap: how much of the question the phrasing covers (recall) and how much
    of the phrasing the question covers (precision), as their harmonic mean."""
    if not query or not doc:
        return 0.0
    common = query & doc
    if not common:
        return 0.0
    shared = _weight(common, idf)
    recall = shared / query_weight
    precision = shared / doc_weight
    return 2 * recall * precision / (recall + precision)


def _config_names(config: Config) -> list[str]:
    names = list(config.centralized.units)
    names += [q.department for q in config.question_bank]
    names += [law for q in config.question_bank for law in q.laws]
    names += [d.name for d in config.category_departments]
    names += [m for d in config.category_departments for m in d.members]
    return names
