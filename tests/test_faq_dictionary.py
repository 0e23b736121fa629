"""jieba's dictionary kept in a marisa trie (faq.dictionary) segments every text the FAQ sees
exactly as jieba's own dict does, and its cache file survives damage and unwritable places."""

from __future__ import annotations

import os
import tomllib
from array import array
from pathlib import Path

import jieba
import marisa_trie
import pytest

from faq import dictionary
from faq import text as text_module
from faq.dictionary import BaseDictionary, base_dictionary, cache_name, load
from faq.evaluate import BLIND_SETS, EVAL_PATH
from faq.knowledge import ENTRIES_PATH
from faq.text import DOMAIN_FREQ, Lexicon, Segmenter, domain_vocabulary, new_tokenizer, normalise
from faq.units import config_names

DOMAIN_WORD = "学法考法"  # in the lexicon, not in jieba's dictionary


@pytest.fixture(scope="module")
def lexicon() -> Lexicon:
    return Lexicon.load()


@pytest.fixture(scope="module")
def vocabulary(lexicon, campaign_config) -> list[str]:
    """The words the engine's segmenter adds (faq.engine.FaqEngine)."""
    names = {name for name in config_names(campaign_config) if len(name) >= 2}
    return domain_vocabulary(lexicon, names)


@pytest.fixture(scope="module")
def reference(vocabulary) -> jieba.Tokenizer:
    """jieba as it comes: its own dict, initialised the normal way, the same words added."""
    tok = jieba.Tokenizer()
    tok.initialize()
    for word in vocabulary:
        tok.add_word(word, freq=DOMAIN_FREQ)
    return tok


@pytest.fixture(scope="module")
def trie_tokenizer(vocabulary) -> jieba.Tokenizer:
    return new_tokenizer(vocabulary)


def _texts(lexicon: Lexicon, vocabulary: list[str]) -> list[str]:
    """Every phrasing and answer of the knowledge base, every evaluation question, the
    lexicon's words: each as written and as the segmenter gets it (normalised)."""
    with ENTRIES_PATH.open("rb") as fh:
        entries = tomllib.load(fh)["entry"]
    texts = [t for e in entries for t in (e["question"], e["answer"], *e.get("phrasings", []))]
    for path in (EVAL_PATH, *BLIND_SETS.values()):
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        cases = [c for kind in ("answerable", "silent", "case") for c in data.get(kind, [])]
        assert cases, path
        texts += [c["q"] for c in cases]
    texts += [*lexicon.words, *vocabulary]
    return sorted(set(texts) | {normalise(t) for t in texts})


@pytest.fixture(scope="module")
def texts(lexicon, vocabulary) -> list[str]:
    return _texts(lexicon, vocabulary)


def test_segmentation_is_jiebas(texts, reference, trie_tokenizer):
    assert len(texts) > 3000
    differ = []
    for text in texts:
        got, want = trie_tokenizer.lcut(text, HMM=False), reference.lcut(text, HMM=False)
        if got != want:
            differ.append((text, got, want))
    assert differ == []


def test_words_and_is_word_are_jiebas(texts, lexicon, reference, trie_tokenizer):
    ours = Segmenter(lexicon, jieba_tokenizer=trie_tokenizer)
    theirs = Segmenter(lexicon, jieba_tokenizer=reference)
    tokens = {token for text in texts for token in reference.lcut(text, HMM=False)}
    assert {t for t in tokens if ours.is_word(t)} == {t for t in tokens if theirs.is_word(t)}
    assert [ours.words(t) for t in texts] == [theirs.words(t) for t in texts]


def test_prefix_dictionary_is_jiebas(reference, trie_tokenizer):
    """Every key jieba has (words, their prefixes, the domain's words), with its frequency,
    and none more; the same total."""
    freq = trie_tokenizer.FREQ
    assert len(freq) == len(reference.FREQ)
    assert [k for k, v in reference.FREQ.items() if k not in freq or freq[k] != v] == []
    assert trie_tokenizer.total == reference.total


def test_overlay_keeps_a_domain_word_whole():
    base = base_dictionary()
    assert DOMAIN_WORD not in base.trie
    plain = new_tokenizer()
    assert len(plain.lcut(DOMAIN_WORD, HMM=False)) > 1
    domain = new_tokenizer([DOMAIN_WORD])
    assert domain.lcut(f"请问{DOMAIN_WORD}什么时候开始", HMM=False)[1] == DOMAIN_WORD
    assert domain.total == base.total + DOMAIN_FREQ
    assert DOMAIN_WORD not in base.trie and DOMAIN_WORD not in plain.FREQ  # the base is shared
    assert len(new_tokenizer().lcut(DOMAIN_WORD, HMM=False)) > 1


def test_jieba_never_loads_its_own_dictionary(monkeypatch):
    def refuse(self, dictionary=None):
        raise AssertionError("jieba loaded its own dictionary")

    monkeypatch.setattr(jieba.Tokenizer, "initialize", refuse)
    tok = new_tokenizer([DOMAIN_WORD])
    tok.add_word("考法通", freq=DOMAIN_FREQ)
    assert DOMAIN_WORD in tok.lcut(f"{DOMAIN_WORD}考法通", HMM=False)


def test_text_outside_utf8_is_no_word(trie_tokenizer, lexicon):
    lone = "\ud800"
    assert lone not in trie_tokenizer.FREQ
    assert trie_tokenizer.FREQ.get(lone) is None
    assert not Segmenter(lexicon, jieba_tokenizer=trie_tokenizer).is_word(lone)
    with pytest.raises(KeyError):
        trie_tokenizer.FREQ[lone]


# --- the cache file, on a dictionary small enough to build in no time ---------------------------

SMALL = "学法 100 v\n考法 50 n\n学法考法 3 n\n中华人民共和国 20 ns\n中华 40 nz\n学法 7 v\n"


@pytest.fixture
def small(tmp_path) -> Path:
    path = tmp_path / "dict.txt"
    path.write_text(SMALL, encoding="utf-8")
    return path


def _jieba_prefix_dict(source: Path, tmp_path: Path) -> tuple[dict[str, int], int]:
    tok = jieba.Tokenizer(str(source))
    tok.tmp_dir = str(tmp_path)  # jieba's own cache, kept out of the shared temp dir
    tok.initialize()
    return dict(tok.FREQ), tok.total


def _as_dict(base: BaseDictionary) -> tuple[dict[str, int], int]:
    return {key: base.freqs[key_id] for key, key_id in base.trie.items()}, base.total


def test_built_as_jieba_builds_it_then_read_from_the_cache(small, tmp_path, monkeypatch):
    want = _jieba_prefix_dict(small, tmp_path)
    assert want[0]["学法"] == 7 and want[0]["中华人民"] == 0  # last frequency; prefixes 0
    cache = tmp_path / "cache"
    assert _as_dict(load(small, [cache])) == want
    assert [p.name for p in cache.iterdir()] == [cache_name(small)]  # no temp file left

    def no_build(source):
        raise AssertionError("rebuilt although cached")

    monkeypatch.setattr(dictionary, "build", no_build)
    assert _as_dict(load(small, [cache])) == want


def test_a_changed_dictionary_file_is_rebuilt(small, tmp_path):
    cache = tmp_path / "cache"
    load(small, [cache])
    small.write_text(SMALL + "考法通 9 n\n", encoding="utf-8")
    assert _as_dict(load(small, [cache])) == _jieba_prefix_dict(small, tmp_path)


@pytest.mark.parametrize(
    "damage",
    [
        lambda blob: b"",
        lambda blob: blob[: len(blob) // 2],
        lambda blob: blob[:-1],
        lambda blob: blob[:100] + bytes([blob[100] ^ 0xFF]) + blob[101:],
        lambda blob: blob[:-1] + bytes([blob[-1] ^ 0x01]),
        lambda blob: b"\x00" * len(blob),
    ],
    ids=["empty", "half", "one-byte-short", "header-flip", "payload-flip", "zeros"],
)
def test_a_damaged_cache_file_is_rebuilt(small, tmp_path, damage):
    cache = tmp_path / "cache"
    load(small, [cache])
    path = cache / cache_name(small)
    good = path.read_bytes()
    path.write_bytes(damage(good))
    assert _as_dict(load(small, [cache])) == _jieba_prefix_dict(small, tmp_path)
    assert path.read_bytes() == good


def test_a_cache_file_of_another_user_is_not_read(small, tmp_path):
    cache = tmp_path / "cache"
    load(small, [cache])
    path = cache / cache_name(small)
    good = path.read_bytes()
    forged = BaseDictionary(marisa_trie.Trie(["学法"]), array("I", [1]), 1)
    path.write_bytes(forged.to_bytes())
    try:
        os.chown(path, os.getuid() + 1, -1)
    except PermissionError:
        pytest.skip("cannot give a file away to another user here")
    assert _as_dict(load(small, [cache])) == _jieba_prefix_dict(small, tmp_path)
    assert path.read_bytes() == good and path.stat().st_uid == os.getuid()


def test_no_writable_cache_dir_still_works(small, tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the cache dir would be")
    unwritable = blocker / "cache"
    want = _jieba_prefix_dict(small, tmp_path)
    assert _as_dict(load(small, [unwritable])) == want
    fallback = tmp_path / "fallback"
    assert _as_dict(load(small, [unwritable, fallback])) == want
    assert (fallback / cache_name(small)).is_file()


# --- the knowledge base's texts as segmented, cached across starts (faq.text) -----------------


def test_the_segmentation_cache_gives_the_words_segmenting_gives(lexicon, tmp_path, monkeypatch):
    """A second start reads the knowledge base's texts as segmented from the file the first
    wrote: the same words, no segmenting; a damaged file is segmented afresh and rewritten; a
    file written under other tokenizer words is another file."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    texts = ["学员忘记密码怎么办？", "补考什么时候报名", "集中考试每场最多可容纳80人"]
    first = Segmenter(lexicon)
    expected = [first.words(t) for t in texts]
    assert Segmenter(lexicon).words_of(texts) == expected
    (written,) = tmp_path.glob("xuefa-admin-bot/faq-words-*.json")

    second = Segmenter(lexicon)
    with monkeypatch.context() as patch:
        patch.setattr(second._jieba, "lcut", lambda *a, **k: pytest.fail("segmented again"))
        assert second.words_of(texts) == expected

    written.write_bytes(b"{not json")
    assert Segmenter(lexicon).words_of(texts) == expected
    assert written.read_bytes().startswith(b"{") and b"not json" not in written.read_bytes()

    key = text_module.segmentation_cache().paths[0]
    monkeypatch.setattr(text_module, "_tokenizer_words", {*text_module._tokenizer_words, "新词"})
    assert text_module.segmentation_cache().paths[0] != key
