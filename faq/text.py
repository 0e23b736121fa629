"""Text processing shared by question detection and ranking: normalisation, the domain
vocabulary (``lexicon.toml``) and jieba segmentation into content words.

A message is normalised once, the same way everywhere: full-width folded (NFKC), lower case,
traditional characters to simplified (OpenCC), so "補考報名" is read as "补考报名", and the
domain's common homophone slips put right ("学份" → "学分", ``lexicon.toml`` [typos])."""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import jieba
import opencc

from faq.dictionary import (
    PrefixDict,
    base_dictionary,
    cache_dirs,
    cache_name,
    jieba_dictionary,
    read_cache,
    write_cache,
)

jieba.setLogLevel(logging.WARNING)

log = logging.getLogger(__name__)
LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.toml"
PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
"""Runs of white space, punctuation and symbols: word separators, never words."""


WORDS_CACHE = 8192  # distinct texts whose words a segmenter keeps (phrasings and questions)
NORMALISED_CACHE = 8192  # distinct recent texts kept normalised (detection and ranking share them)
_to_simplified = opencc.OpenCC("t2s")


def _rewrites(section: str, after: str = "") -> tuple[re.Pattern[str], dict[str, str]]:
    """A table of ``lexicon.toml`` as one pattern (longest first) and its replacements; a match
    right after a character of ``after`` is left alone."""
    with LEXICON_PATH.open("rb") as fh:
        table: dict[str, str] = tomllib.load(fh).get(section, {})
    keys = sorted(table, key=len, reverse=True)
    guard = f"(?<![{re.escape(after)}])" if after else ""
    return re.compile(guard + "(?:" + ("|".join(map(re.escape, keys)) or r"(?!)") + ")"), table


_TYPO, _TYPOS = _rewrites("typos")
_PREMISE, _PREMISES = _rewrites("same_premise", after="在")  # "在不在名单里" asks; it states none


@lru_cache(maxsize=NORMALISED_CACHE)
def normalise(text: str) -> str:
    """Full-width to half-width, lower case, traditional characters to simplified, homophone
    slips put right, a premise said another way said as the notice says it."""
    simplified = _to_simplified.convert(unicodedata.normalize("NFKC", text).lower().strip())
    mended = _TYPO.sub(lambda m: _TYPOS[m.group()], simplified)
    spelt = _REPEATED.sub(_repeated, mended)
    return _PREMISE.sub(lambda m: _PREMISES[m.group()], spelt)


# "六个零", "6个1": a run of one digit said as a count, written out as the digits.
_TIMES = {
    **{str(n): n for n in range(2, 10)},
    **{c: i + 2 for i, c in enumerate("两三四五六七八九")},
}
_REPEATED = re.compile(r"([2-9两三四五六七八九])个([0-9零〇])(?![0-9])")


def _repeated(m: re.Match[str]) -> str:
    digit = m.group(2) if m.group(2).isdigit() else "0"
    return digit * _TIMES[m.group(1)]


def squash(text: str) -> str:
    """``text`` normalised with every space, punctuation mark and symbol removed."""
    return PUNCT.sub("", normalise(text))


@dataclass(frozen=True)
class Lexicon:
    """How administrators talk (``lexicon.toml``): the words the segmenter keeps whole, the
    synonyms mapped onto the knowledge base's words, and the markers that tell a question
    from a greeting, a notice or a report."""

    words: tuple[str, ...]
    synonyms: dict[str, str]  # variant (normalised) -> canonical
    stopwords: frozenset[str]
    chatter: frozenset[str]
    question_markers: tuple[str, ...]
    done_markers: tuple[str, ...] = ()
    turns: tuple[str, ...] = ()  # "…设置好了 但是…还显示…": what follows is the news
    first_person: tuple[str, ...] = ()
    notice_prefixes: tuple[str, ...] = ()
    instructions: tuple[str, ...] = ()  # "补考的同志请记得按时参加": told, not asked
    statement_endings: tuple[str, ...] = ()
    forward_prefixes: tuple[str, ...] = ()
    tail_markers: tuple[str, ...] = ()
    done_particle: str = ""
    repeat_negations: tuple[str, ...] = ()
    chatter_markers: tuple[str, ...] = ()
    greeted: tuple[str, ...] = ()
    quoting: tuple[str, ...] = ()
    not_markers: tuple[str, ...] = ()
    campaign_words: tuple[str, ...] = ()
    query_nouns: tuple[str, ...] = ()
    titles: tuple[str, ...] = ()
    surnames: str = ""
    familiar: tuple[str, ...] = ()
    vocative_after: tuple[str, ...] = ()
    ask_aside: tuple[str, ...] = ()
    not_after_title: tuple[str, ...] = ()
    topic_words: tuple[str, ...] = ()
    off_topic: tuple[str, ...] = ()
    platform_words: tuple[str, ...] = ()
    problem_markers: tuple[str, ...] = ()
    persisting: tuple[str, ...] = ()  # "重置了还是登不上": a problem the remedy did not end
    bot_roles: tuple[str, ...] = ()
    relayers: tuple[str, ...] = ()  # "学员问我…", "领导让我问一下…": whose question it is
    relay_verbs: tuple[str, ...] = ()
    after_xia: tuple[str, ...] = ()  # "下周", "下午": a 下 that starts a word, not 问下's
    peer_questions: tuple[str, ...] = ()
    uncovered_words: tuple[str, ...] = ()
    generic_words: frozenset[str] = frozenset()
    modal_words: frozenset[str] = frozenset()
    filler_words: frozenset[str] = frozenset()
    answer_leads: tuple[str, ...] = ()

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
            chatter=frozenset(squash(w) for w in data.get("chatter", [])),
            question_markers=tuple(data.get("question_markers", [])),
            done_markers=tuple(data.get("done_markers", [])),
            turns=tuple(data.get("turns", [])),
            first_person=tuple(data.get("first_person", [])),
            notice_prefixes=tuple(normalise(p) for p in data.get("notice_prefixes", [])),
            instructions=tuple(normalise(p) for p in data.get("instructions", [])),
            statement_endings=tuple(data.get("statement_endings", [])),
            forward_prefixes=tuple(normalise(p) for p in data.get("forward_prefixes", [])),
            tail_markers=tuple(data.get("tail_markers", [])),
            done_particle=data.get("done_particle", ""),
            repeat_negations=tuple(data.get("repeat_negations", [])),
            chatter_markers=tuple(normalise(w) for w in data.get("chatter_markers", [])),
            greeted=tuple(squash(w) for w in data.get("greeted", [])),
            quoting=tuple(normalise(w) for w in data.get("quoting", [])),
            not_markers=tuple(normalise(w) for w in data.get("not_markers", [])),
            campaign_words=tuple(normalise(w) for w in data.get("campaign_words", [])),
            query_nouns=tuple(normalise(w) for w in data.get("query_nouns", [])),
            titles=tuple(data.get("titles", [])),
            surnames="".join(data.get("surnames", "").split()),
            familiar=tuple(data.get("familiar", [])),
            vocative_after=tuple(data.get("vocative_after", [])),
            ask_aside=tuple(data.get("ask_aside", [])),
            not_after_title=tuple(data.get("not_after_title", [])),
            topic_words=tuple(normalise(w) for w in data.get("topic_words", [])),
            off_topic=tuple(normalise(w) for w in data.get("off_topic", [])),
            platform_words=tuple(normalise(w) for w in data.get("platform_words", [])),
            problem_markers=tuple(normalise(w) for w in data.get("problem_markers", [])),
            persisting=tuple(normalise(w) for w in data.get("persisting", [])),
            bot_roles=tuple(normalise(w) for w in data.get("bot_roles", [])),
            relayers=tuple(normalise(w) for w in data.get("relayers", [])),
            relay_verbs=tuple(normalise(w) for w in data.get("relay_verbs", [])),
            after_xia=tuple(data.get("after_xia", [])),
            peer_questions=tuple(normalise(w) for w in data.get("peer_questions", [])),
            uncovered_words=tuple(normalise(w) for w in data.get("uncovered_words", [])),
            generic_words=frozenset(normalise(w) for w in data.get("generic_words", [])),
            modal_words=frozenset(normalise(w) for w in data.get("modal_words", [])),
            filler_words=frozenset(normalise(w) for w in data.get("filler_words", [])),
            answer_leads=tuple(data.get("answer_leads", [])),
        )

    def key_words(self) -> frozenset[str]:
        """The domain's own words as the segmenter gives them (synonyms mapped), without the
        generic ones ("时间", "考试"): a question holding one is about it."""
        words = {self.synonyms.get(normalise(w), normalise(w)) for w in self.words}
        words |= set(self.synonyms.values())
        return frozenset(words - self.generic_words - self.stopwords)


DOMAIN_FREQ = 200000  # the frequency a domain word is added with: high enough to stay whole

_tokenizer_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_tokenizer_words: set[str] = set()


def new_tokenizer(words: Iterable[str] = ()) -> jieba.Tokenizer:
    """A jieba tokenizer over the process's one copy of jieba's dictionary
    (``faq.dictionary``), with ``words`` added in front of it. It is marked initialised, so
    jieba never loads its own dict behind it."""
    base = base_dictionary()
    tok = jieba.Tokenizer()
    tok.FREQ = PrefixDict(base)
    tok.total = base.total
    tok.initialized = True
    for word in words:
        tok.add_word(word, freq=DOMAIN_FREQ)
    return tok


def tokenizer(extra_words: Iterable[str] = ()) -> jieba.Tokenizer:
    """One jieba tokenizer per process, with the domain's words added (thread-safe)."""
    global _tokenizer
    with _tokenizer_lock:
        if _tokenizer is None:
            _tokenizer = new_tokenizer()
        for word in extra_words:
            if word not in _tokenizer_words:
                _tokenizer.add_word(word, freq=DOMAIN_FREQ)
                _tokenizer_words.add(word)
        return _tokenizer


def warm_up() -> None:
    """Load jieba's dictionary ahead of the first question (milliseconds from the cache; a
    couple of seconds the first time, when the cache is built)."""
    tokenizer()


def domain_vocabulary(lexicon: Lexicon, domain_words: Iterable[str] = ()) -> list[str]:
    """The words a segmenter keeps whole: the lexicon's, its synonyms both ways, the topics
    the notice leaves out, and ``domain_words`` (the config's names)."""
    words = set(lexicon.words) | set(lexicon.synonyms) | set(lexicon.synonyms.values())
    words |= set(lexicon.uncovered_words)
    return sorted(words | set(domain_words))


class Segmenter:
    """Turns a message into the content words retrieval works on."""

    def __init__(
        self,
        lexicon: Lexicon,
        domain_words: Iterable[str] = (),
        jieba_tokenizer: jieba.Tokenizer | None = None,
    ) -> None:
        """Segments with the process's shared tokenizer (``tokenizer``), the domain's words
        added, unless given a ``jieba_tokenizer`` of its own that has them already."""
        self.lexicon = lexicon
        self._shared = jieba_tokenizer is None  # the process's tokenizer: its words are known
        if jieba_tokenizer is None:
            jieba_tokenizer = tokenizer(domain_vocabulary(lexicon, domain_words))
        self._jieba = jieba_tokenizer
        self._known: dict[str, tuple[str, ...]] = {}  # read from the segmentation cache

    def words_of(self, texts: list[str]) -> list[list[str]]:
        """``words`` of each of ``texts``: the knowledge base's phrasings and answers, which
        every start of the bot segments alike, are read from a cache file when one was written
        by the same segmentation (jieba, its dictionary, the domain's words, the lexicon and
        this module's rules); those not in it are segmented and the file is written anew."""
        if not self._shared:
            return [self.words(t) for t in texts]
        cached = segmentation_cache()
        self._known.update(cached.load())
        out = [self.words(t) for t in texts]
        missing = [t for t in dict.fromkeys(texts) if t not in self._known]
        if missing:
            self._known.update((t, tuple(self.words(t))) for t in missing)
            cached.save({t: self._known[t] for t in dict.fromkeys(texts)})
        return out

    def words(self, text: str) -> list[str]:
        """Content words of ``text``: segmented, synonyms mapped, stopwords and punctuation out."""
        return list(self._words(text))

    @lru_cache(maxsize=WORDS_CACHE)  # noqa: B019  (one segmenter per engine, kept for its life)
    def _words(self, text: str) -> tuple[str, ...]:
        known = self._known.get(text)
        if known is not None:
            return known
        out: list[str] = []
        for token in self._jieba.lcut(normalise(text), HMM=False):
            token = token.strip()
            if not token or PUNCT.fullmatch(token):
                continue
            token = self.lexicon.synonyms.get(token, token)
            if token in self.lexicon.stopwords:
                continue
            out.append(token)
        return tuple(out)

    def is_word(self, token: str) -> bool:
        """Whether ``token`` is a word of the dictionary (or of the domain), not a fragment the
        segmenter cut from an unusual phrasing ("做些", "能报")."""
        return bool(self._jieba.FREQ.get(token))

    @staticmethod
    def bigrams(words: list[str]) -> list[str]:
        """Character bigrams of the words run together: they still match a question that is
        misspelt or segmented differently."""
        text = "".join(words)
        if len(text) < 2:
            return [text] if text else []
        return [text[i : i + 2] for i in range(len(text) - 1)]


class SegmentationCache:
    """The knowledge base's texts as segmented, in a JSON file named by a digest of all that
    decides the segmentation (the words the process's tokenizer holds included): a file of
    another segmentation is never read, and a damaged or unwritable one only costs the work."""

    def __init__(self, directories: list[Path], key: str) -> None:
        self.paths = [d / f"faq-words-{key}.json" for d in directories]

    def load(self) -> dict[str, tuple[str, ...]]:
        for path in self.paths:
            blob = read_cache(path)
            if blob is None:
                continue
            try:
                data = json.loads(blob)
                return {str(t): tuple(map(str, w)) for t, w in data.items()}
            except (ValueError, TypeError, AttributeError) as exc:
                log.warning("damaged %s (%s): segmenting afresh", path, exc)
        return {}

    def save(self, words: dict[str, tuple[str, ...]]) -> bool:
        blob = json.dumps(words, ensure_ascii=False, separators=(",", ":")).encode()
        return any(write_cache(path, blob) for path in self.paths)


def segmentation_cache() -> SegmentationCache:
    with _tokenizer_lock:
        added = sorted(_tokenizer_words)
    digest = hashlib.blake2b(digest_size=16)
    for part in (jieba.__version__, opencc.__version__, cache_name(jieba_dictionary())):
        digest.update(str(part).encode() + b"\0")
    for source in (LEXICON_PATH, Path(__file__)):
        digest.update(source.read_bytes())
    digest.update("\n".join(added).encode())
    return SegmentationCache(cache_dirs(), digest.hexdigest())
