"""The knowledge base's answer templates, compiled once per process and, across processes,
from Jinja's bytecode cache on disk (next to the jieba dictionary's, ``faq.dictionary``).

Building the index renders every answer (its words count for ranking), so each start of the bot
would otherwise compile all ~90 templates afresh: a third of the index build. A template's cache
entry is keyed by a digest of its source, so an edited answer is compiled again; a cache that
cannot be written or read (a read-only home, a damaged file) only costs the compilation.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from pathlib import Path

from jinja2 import BytecodeCache, FileSystemBytecodeCache, Template

from bot.core.render import environment
from faq.dictionary import cache_dirs

log = logging.getLogger(__name__)

_lock = threading.Lock()
_templates: dict[str, Template] = {}
_cache: list[BytecodeCache | None] = []  # [] until first use; [None]: no usable directory


def compiled(source: str) -> Template:
    """An answer template, compiled once per process (in the shared environment, where the
    macros it imports are compiled once too)."""
    with _lock:
        template = _templates.get(source)
        if template is None:
            template = _templates[source] = _compile(source)
        return template


def _compile(source: str) -> Template:
    env = environment()
    cache = _bytecode_cache()
    if cache is None:
        return env.from_string(source)
    name = "faq-answer-" + hashlib.blake2b(source.encode(), digest_size=16).hexdigest()
    bucket = cache.get_bucket(env, name, None, source)
    if bucket.code is None:
        bucket.code = env.compile(source, name)
        try:
            cache.set_bucket(bucket)
        except OSError as exc:  # full disk, a directory gone: compiled, just not kept
            log.debug("answer template not cached: %s", exc)
    return env.template_class.from_code(env, bucket.code, env.make_globals(None), None)


def _bytecode_cache() -> BytecodeCache | None:
    if not _cache:
        _cache.append(next((c for c in map(_cache_in, cache_dirs()) if c is not None), None))
    return _cache[0]


def _cache_in(directory: Path) -> BytecodeCache | None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / ".write-test"
        probe.touch()
        probe.unlink()
    except OSError:
        return None
    return FileSystemBytecodeCache(str(directory), "jinja-%s.cache")
