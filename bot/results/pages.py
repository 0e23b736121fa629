"""One page of a list of learners ordered by unit name, then account (the makeup list, the
consequences), read without sorting the whole list.

The list's size per unit is known from an aggregate (``aggregates.cohorts``). Walking the units
in name order (the database's order, so it agrees with the page's ORDER BY) finds the units the
page falls in, and how many of their learners come before it; only those units' learners are
then read, sorted and cut by the database. Units of the same name are taken together: their
learners interleave by account.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import groupby

import sqlalchemy as sa
from sqlmodel import Session, col

from bot.org.models import Unit
from bot.org.tree import subtree_ids


@dataclass(frozen=True)
class Window:
    """Where a page lies: its units, and how many of their listed learners precede it."""

    unit_ids: list[int] = field(default_factory=list)
    skip: int = 0


def units_by_name(session: Session, path: str | None) -> list[tuple[int, str]]:
    """(id, name) of the units of the subtree at ``path`` (None: every unit), by name."""
    query = sa.select(col(Unit.id), col(Unit.name)).order_by(col(Unit.name), col(Unit.id))
    if path is not None:
        query = query.where(col(Unit.id).in_(subtree_ids(path)))
    return [(uid, name) for uid, name in session.connection().execute(query) if uid is not None]


def locate(
    units: Iterable[tuple[int, str]], sizes: Mapping[int, int], offset: int, limit: int
) -> Window:
    """The window of the page [offset, offset + limit) of a list with ``sizes`` learners per
    unit, ``units`` in name order. Past the end: no units."""
    offset = max(0, offset)
    chosen: list[int] = []
    skip = position = 0
    for _name, group in groupby(units, key=lambda unit: unit[1]):
        ids = [uid for uid, _ in group if sizes.get(uid, 0) > 0]
        size = sum(sizes[uid] for uid in ids)
        if not size or position + size <= offset:
            position += size
            continue
        if not chosen:
            skip = offset - position
        chosen += ids
        position += size
        if position >= offset + limit:
            break
    return Window(chosen, skip)
