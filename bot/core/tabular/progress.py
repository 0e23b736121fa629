"""How far a long import has come, for whoever shows it (the command line prints it; services
never print).

The pipeline calls a ``Progress`` callback with its step, the rows done and the rows in all
(None where the file does not say), every ``EVERY`` rows and once when a step ends: cheap
enough to pass a 150,000-row file through, and the caller decides how often to show it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import TypeVar

T = TypeVar("T")

READ = "read"  # rows read from the file
CHECK = "check"  # rows checked
WRITE = "write"  # rows written (the database's set-based statements: once before, once after)
STEPS = (READ, CHECK, WRITE)

Progress = Callable[[str, int, "int | None"], None]
"""Called with a step (one of ``STEPS``), the rows done and the rows in all (None: unknown)."""

EVERY = 2048
"""Rows between two calls: a callback costs about a microsecond, a city's file 150,000 rows."""


def counted(
    items: Iterable[T], progress: Progress | None, step: str, total: int | None = None
) -> Iterator[T]:
    """``items`` unchanged, telling ``progress`` every ``EVERY`` items, and at the end that all
    of them (``done`` of ``done``: the total is known by then) went by."""
    if progress is None:
        yield from items
        return
    done = 0
    progress(step, 0, total)
    for item in items:
        yield item
        done += 1
        if done % EVERY == 0:
            progress(step, done, total)
    progress(step, done, done)


@contextmanager
def step(progress: Progress | None, name: str, total: int) -> Iterator[None]:
    """A step done in one go (the database's statements): ``progress`` hears of it when it
    starts (0 of ``total``) and when it ends (``total`` of ``total``)."""
    if progress is not None:
        progress(name, 0, total)
    yield
    if progress is not None:
        progress(name, total, total)
