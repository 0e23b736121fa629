"""Text processing shared by question detection and ranking: normalisation, the domain
vocabulary (``lexicon.toml``) and jieba segmentation into content words."""

from __future__ import annotations

import logging
import re
import threading
import tomllib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import jieba

jieba.setLogLevel(logging.WARNING)

LEXICON_PATH = Path(__file__).resolve().parent / "lexicon.toml"
PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
"""Runs of white space, punctuation and symbols: word separators, never words."""


def normalise(text: str) -> str:
    """Full-width to half-width, lower case."""
    return unicodedata.normalize("NFKC", text).lower().strip()


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
    first_person: tuple[str, ...] = ()
    notice_prefixes: tuple[str, ...] = ()
    forward_prefixes: tuple[str, ...] = ()
    tail_markers: tuple[str, ...] = ()
    done_particle: str = ""

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
            first_person=tuple(data.get("first_person", [])),
            notice_prefixes=tuple(normalise(p) for p in data.get("notice_prefixes", [])),
            forward_prefixes=tuple(normalise(p) for p in data.get("forward_prefixes", [])),
            tail_markers=tuple(data.get("tail_markers", [])),
            done_particle=data.get("done_particle", ""),
        )


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


class Segmenter:
    """Turns a message into the content words retrieval works on."""

    def __init__(self, lexicon: Lexicon, domain_words: Iterable[str] = ()) -> None:
        self.lexicon = lexicon
        words = set(lexicon.words) | set(lexicon.synonyms) | set(lexicon.synonyms.values())
        self._jieba = tokenizer(sorted(words | set(domain_words)))

    def words(self, text: str) -> list[str]:
        """Content words of ``text``: segmented, synonyms mapped, stopwords and punctuation out."""
        out: list[str] = []
        for token in self._jieba.lcut(normalise(text), HMM=True):
            token = token.strip()
            if not token or PUNCT.fullmatch(token):
                continue
            token = self.lexicon.synonyms.get(token, token)
            if token in self.lexicon.stopwords:
                continue
            out.append(token)
        return out

    @staticmethod
    def bigrams(words: list[str]) -> list[str]:
        """Character bigrams of the words run together: they still match a question that is
        misspelt or segmented differently."""
        text = "".join(words)
        if len(text) < 2:
            return [text] if text else []
        return [text[i : i + 2] for i in range(len(text) - 1)]
