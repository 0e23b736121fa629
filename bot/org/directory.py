"""Finding units: by code or name (``/invite``, ``python -m bot invite``) and by any text
(``/units``, ``python -m bot units list``), always within the asker's part of the unit tree.

Codes are what the bot's commands take, but people know their units by name: a name works
wherever a code does here, and a name two units share is refused with both candidates.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from bot.core import words
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.access import MAX_UNIT_CODE, find_unit
from bot.org.models import Role, Unit

UNIT_LIST_LIMIT = 60  # entries shown at once; a longer listing says how many more matched
KIND_WORDS: dict[str, list[str]] = words.beside(__file__, "directory.toml")["kinds"]


class AmbiguousUnit(Refused):
    """A unit name several units share: the refusal lists them (its text is the org
    capability's template ``unit_ambiguous``), so the asker can retry with a code."""

    def render(self, **context: Any) -> str:
        from bot.core.render import render

        return render("unit_ambiguous", p=self.params, **context)


@dataclass(frozen=True)
class UnitEntry:
    code: str
    name: str
    kind: str
    parent_code: str
    parent_name: str
    category_department: str | None = None  # the unit's own mapping (bot.org.sectors)


@dataclass(frozen=True)
class UnitListing:
    text: str
    entries: list[UnitEntry]
    more: int  # matches beyond UNIT_LIST_LIMIT


def folded(text: str) -> str:
    """The form texts are compared in: NFKC (full-width letters and digits), case folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


def resolve_unit(session: Session, text: str) -> Unit | None:
    """The unit with this code, or else the one unit with this exact name; None if neither.
    A name several units bear is refused with the candidates (``AmbiguousUnit``)."""
    wanted = unicodedata.normalize("NFKC", text).strip()[:MAX_UNIT_CODE]
    unit = find_unit(session, wanted)
    if unit is not None or not wanted:
        return unit
    named = list(session.exec(select(Unit).where(Unit.name == wanted).order_by(col(Unit.code))))
    if len(named) > 1:
        candidates = [{"code": u.code, "name": u.name} for u in named]
        raise AmbiguousUnit("unit_ambiguous", text=wanted, candidates=candidates)
    return named[0] if named else None


def _scope_path(uow: UnitOfWork) -> str | None:
    """The subtree the asker may list: None for all of it (the city office, or the server's
    operator on the command line)."""
    if uow.origin.kind == "cli":
        return None
    identity = uow.authorize()
    if identity.role == Role.OPERATOR:
        raise Refused("operator_queue_only")
    return None if identity.role == Role.CITY else identity.unit_path


def _matches(entry: UnitEntry, text: str) -> bool:
    kinds = [entry.kind, *KIND_WORDS.get(entry.kind, [])]
    fields = [entry.code, entry.name, entry.parent_code, entry.parent_name, *kinds]
    if entry.category_department:
        fields.append(entry.category_department)  # /units 省公安厅: the units mapped to it
    return any(text in folded(value) for value in fields)


def list_units(uow: UnitOfWork, text: str = "") -> UnitListing:
    """Units in the asker's scope whose code, name, kind, parent or category department
    contains ``text`` (all of them for an empty text), in tree order."""
    query = select(Unit).order_by(col(Unit.path))
    scope = _scope_path(uow)
    if scope is not None:
        query = query.where(col(Unit.path).startswith(scope))
    units = list(uow.session.exec(query))
    by_id = {u.id: u for u in units}
    wanted = folded(text)
    entries = []
    for unit in units:
        parent = by_id.get(unit.parent_id) or (
            uow.session.get(Unit, unit.parent_id) if unit.parent_id else None
        )
        entry = UnitEntry(
            code=unit.code,
            name=unit.name,
            kind=unit.kind,
            parent_code=parent.code if parent else "",
            parent_name=parent.name if parent else "",
            category_department=unit.category_department,
        )
        if _matches(entry, wanted):
            entries.append(entry)
    return UnitListing(
        text=text.strip(),
        entries=entries[:UNIT_LIST_LIMIT],
        more=max(0, len(entries) - UNIT_LIST_LIMIT),
    )
