"""jieba's base dictionary as a compact, read-only mapping, built once and cached on disk.

jieba keeps its prefix dictionary (every word of its ``dict.txt`` with the word's frequency, and
every prefix of a word with 0, so that ``Tokenizer.get_DAG`` knows when to stop extending a
fragment) as a Python dict: about 500k str -> int entries, over 50 MiB, loaded in most of a second
by every process. Here the same keys live in a marisa trie (about 1.3 MB) whose key ids index an
array of frequencies (2 MB). Both are built once per jieba version and dictionary file, streamed
from ``dict.txt`` so that not even the first build holds jieba's dict, and written to a cache file
that later processes load in milliseconds.

The words the FAQ adds (``Tokenizer.add_word``) go to a small overlay in front of the trie
(``PrefixDict``), so the trie itself never changes and one copy serves every tokenizer.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import os
import struct
import tempfile
import time
from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import jieba
import marisa_trie

log = logging.getLogger(__name__)

APP_DIR = "xuefa-admin-bot"  # the cache's folder under XDG_CACHE_HOME, ~/.cache or the temp dir
FORMAT = 1  # bump when the layout or the build changes: older files are then ignored
FREQ_TYPE = "I"  # unsigned 32-bit: jieba's frequencies are below a million
# magic, format, total frequency, number of keys, trie size in bytes, digest of what follows
HEADER = struct.Struct("<8sIQII32s")
MAGIC = b"faqjieba"


@dataclass(frozen=True)
class BaseDictionary:
    """jieba's prefix dictionary: ``trie`` holds its keys, ``freqs[trie[key]]`` the frequency
    of each (0 for a prefix that is no word), ``total`` the sum jieba's ``Tokenizer.total``
    starts from."""

    trie: marisa_trie.Trie
    freqs: array[int]
    total: int

    def to_bytes(self) -> bytes:
        payload = self.trie.tobytes() + self.freqs.tobytes()
        trie_size = len(payload) - len(self.freqs) * self.freqs.itemsize
        digest = hashlib.blake2b(payload, digest_size=32).digest()
        header = HEADER.pack(MAGIC, FORMAT, self.total, len(self.freqs), trie_size, digest)
        return header + payload

    @classmethod
    def from_bytes(cls, blob: bytes) -> BaseDictionary:
        """Raises ValueError unless ``blob`` is whole and of this format: a truncated or
        damaged file is rebuilt, never half read."""
        if len(blob) < HEADER.size:
            raise ValueError("shorter than its header")
        magic, version, total, keys, trie_size, digest = HEADER.unpack_from(blob)
        if (magic, version) != (MAGIC, FORMAT):
            raise ValueError("not a dictionary file of this format")
        freqs = array(FREQ_TYPE)
        if len(blob) != HEADER.size + trie_size + keys * freqs.itemsize:
            raise ValueError("wrong size")
        payload = memoryview(blob)[HEADER.size :]
        if hashlib.blake2b(payload, digest_size=32).digest() != digest:
            raise ValueError("digest mismatch")
        trie = marisa_trie.Trie()
        try:
            trie.frombytes(bytes(payload[:trie_size]))
        except RuntimeError as exc:  # marisa's own format checks
            raise ValueError(str(exc)) from exc
        freqs.frombytes(payload[trie_size:])
        if len(trie) != len(freqs):
            raise ValueError("key and frequency counts differ")
        return cls(trie, freqs, total)


class PrefixDict:
    """What ``jieba.Tokenizer`` asks of its ``FREQ`` (``in``, ``[]``, ``get``, and ``[] =``
    from ``add_word``), answered from ``overlay`` first, then from the shared base trie.

    Text that cannot be UTF-8 encoded (a lone surrogate) is in no dictionary, as with a dict."""

    __slots__ = ("_freqs", "_trie", "overlay")

    def __init__(self, base: BaseDictionary) -> None:
        self._trie = base.trie
        self._freqs = base.freqs
        self.overlay: dict[str, int] = {}  # the words added, and their prefixes

    def __contains__(self, key: str) -> bool:
        if key in self.overlay:
            return True
        try:
            return key in self._trie
        except UnicodeEncodeError:
            return False

    def __getitem__(self, key: str) -> int:
        freq = self.overlay.get(key)
        if freq is not None:
            return freq
        try:
            return self._freqs[self._trie[key]]
        except UnicodeEncodeError:
            raise KeyError(key) from None

    def get(self, key: str, default: int | None = None) -> int | None:
        freq = self.overlay.get(key)
        if freq is not None:
            return freq
        try:
            key_id = self._trie.get(key)
        except UnicodeEncodeError:
            return default
        return default if key_id is None else self._freqs[key_id]

    def __setitem__(self, key: str, freq: int) -> None:
        self.overlay[key] = freq

    def __len__(self) -> int:
        return len(self._trie) + sum(1 for key in self.overlay if key not in self._trie)


def jieba_dictionary() -> Path:
    """The file ``jieba.Tokenizer().get_dict_file()`` reads for the default dictionary."""
    return Path(jieba.__file__).resolve().parent / jieba.DEFAULT_DICT_NAME


def cache_dirs() -> list[Path]:
    """Where the built dictionary may be cached, in order of preference."""
    dirs: list[Path] = []
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):
        dirs.append(Path(xdg) / APP_DIR)
    else:
        with contextlib.suppress(RuntimeError):  # no home directory to be found
            dirs.append(Path.home() / ".cache" / APP_DIR)
    dirs.append(Path(tempfile.gettempdir()) / APP_DIR)
    return dirs


@functools.cache
def base_dictionary() -> BaseDictionary:
    """jieba's default dictionary, loaded once per process."""
    return load(jieba_dictionary(), cache_dirs())


def load(source: Path, directories: Sequence[Path]) -> BaseDictionary:
    """The dictionary built from ``source``: from a cache file in one of ``directories`` when
    a sound one is there, else built and cached in the first directory that can be written to
    (in memory only when none can)."""
    started = time.perf_counter()
    name = cache_name(source)
    for directory in directories:
        cached = _read(directory / name)
        if cached is not None:
            log.debug(
                "jieba dictionary loaded from %s in %.3f s", directory / name, _since(started)
            )
            return cached
    base = build(source)
    blob = base.to_bytes()
    where = next((d / name for d in directories if write_cache(d / name, blob)), None)
    log.info("jieba dictionary built in %.2f s, cached in %s", _since(started), where)
    return base


def cache_name(source: Path) -> str:
    """The cache file's name: a new jieba or a changed dictionary file gets a new one."""
    with source.open("rb") as fh:
        digest = hashlib.file_digest(fh, lambda: hashlib.blake2b(digest_size=16)).hexdigest()
    return f"jieba-{jieba.__version__}-{digest}.v{FORMAT}.dict"


def build(source: Path) -> BaseDictionary:
    """The prefix dictionary ``jieba.Tokenizer.gen_pfdict`` would make of ``source``, built in
    two passes over the file: the keys first (the trie), then the frequencies by key id (a word
    listed twice keeps its last frequency, and the total counts both, as in jieba)."""
    trie = marisa_trie.Trie(_keys(word for word, _ in _entries(source)))
    freqs = array(FREQ_TYPE, bytes(len(trie) * array(FREQ_TYPE).itemsize))
    total = 0
    for word, freq in _entries(source):
        freqs[trie[word]] = freq
        total += freq
    return BaseDictionary(trie, freqs, total)


def _entries(source: Path) -> Iterator[tuple[str, int]]:
    """(word, frequency) for each line of a jieba dictionary file, read as jieba reads it."""
    with source.open("rb") as fh:
        for lineno, raw in enumerate(fh, 1):
            line = raw.strip().decode("utf-8")
            try:
                word, freq = line.split(" ")[:2]
                entry = word, int(freq)
            except ValueError:
                raise ValueError(f"invalid dictionary entry in {source} at line {lineno}") from None
            yield entry


def _keys(words: Iterable[str]) -> Iterator[str]:
    """Every word with all its prefixes. The prefixes a word shares with the one before were
    given with that one: the trie's builder gets few duplicates, and so needs less memory."""
    previous = ""
    for word in words:
        shared = len(os.path.commonprefix((previous, word)))  # noqa: RUF071 (words, not paths)
        for end in range(shared + 1, len(word) + 1):
            yield word[:end]
        previous = word


def _read(path: Path) -> BaseDictionary | None:
    """The dictionary cached at ``path``; None when there is none, or it is damaged, or another
    user wrote it (the temp dir is shared)."""
    blob = read_cache(path)
    if blob is None:
        return None
    try:
        return BaseDictionary.from_bytes(blob)
    except ValueError as exc:
        log.warning("damaged %s (%s): rebuilding", path, exc)
        return None


def read_cache(path: Path) -> bytes | None:
    """The bytes of the cache file at ``path``; None when there is none, it cannot be read, or
    another user wrote it (the temp dir is shared)."""
    try:
        with path.open("rb") as fh:
            if hasattr(os, "getuid") and os.fstat(fh.fileno()).st_uid != os.getuid():
                log.warning("ignoring %s: owned by another user", path)
                return None
            return fh.read()
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("cannot read %s (%s): rebuilding", path, exc)
        return None


def write_cache(path: Path, blob: bytes) -> bool:
    """Writes ``blob`` to ``path`` through a temp file renamed into place, so that a process
    starting meanwhile finds the whole file or none; False when it cannot be written."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        log.debug("cannot write the cache in %s: %s", path.parent, exc)
        return False
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(blob)
        os.replace(temp, path)
    except OSError as exc:
        log.warning("cannot write the cache in %s: %s", path.parent, exc)
        with contextlib.suppress(OSError):
            os.unlink(temp)
        return False
    return True


def _since(started: float) -> float:
    return time.perf_counter() - started
