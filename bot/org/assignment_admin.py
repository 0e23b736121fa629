"""The city office's record of which exam a unit takes, and ``/whoami``'s exam line.

- ``/category UNIT [DEPARTMENT|无]``: show a unit's attachment-1 mapping and where it came from,
  or set it (a row of attachment 1, or "" for none; meaning in ``bot.org.sectors``);
- ``/consent UNIT [撤销]``: the provincial department agreed that the unit takes the city's
  zone exam instead (notice 二.3 确需参加市本级分众组考的，需经相应省级组考部门同意);
- ``/allow_zone UNIT [撤销]``: the city office approves a unit on the centralized list
  (五（四）) to book online zone sessions too.

The city office only (or the server's operator on the command line); a unit is named by code or
full name (``bot.org.directory.resolve_unit``). Every change writes one audit row; asking for
what is already recorded changes nothing and writes none.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from sqlmodel import col, select

from bot.core.audit import AuditLog
from bot.core.errors import Refused
from bot.core.uow import UnitOfWork
from bot.org.access import city_or_operator
from bot.org.directory import resolve_unit
from bot.org.exams import CATEGORY, ExamAssignment, exam_of, is_centralized
from bot.org.identity import Identity
from bot.org.models import Role, Unit
from bot.org.sectors import MAPPED_KINDS, infer_department, is_withdraw_word, read_department
from bot.org.tree import unit_level

CATEGORY_SET = "unit.category"
CONSENT_SET = "unit.consent"
ZONE_APPROVAL_SET = "unit.zone_approved"
# Where a unit's own mapping came from (``CategoryView.source``):
UNSET, BY_NAME, BY_IMPORT, BY_COMMAND = "unset", "name", "import", "command"


class AssignmentRefused(Refused):
    """A refusal of these commands, written by their own template ``refused_assignment``."""

    def render(self, **context: Any) -> str:
        from bot.core.render import render

        return render("refused_assignment", key=self.key, p=self.params, **context)


@dataclass(frozen=True)
class UnitCommand:
    """A command's words: the unit (a code or a full name), then what follows it."""

    command: str
    unit: str
    rest: str = ""

    @classmethod
    def from_words(cls, command: str, words: list[str]) -> UnitCommand:
        return cls(command, words[0] if words else "", "".join(words[1:]))


@dataclass(frozen=True)
class CategoryView:
    """A unit's mapping after ``/category``: shown (``changed`` None), set, or already so."""

    unit_code: str
    unit_name: str
    value: str | None
    source: str  # UNSET, BY_NAME, BY_IMPORT or BY_COMMAND
    exam: ExamAssignment
    changed: bool | None = None
    previous: str | None = None
    set_at: dt.datetime | None = None  # BY_COMMAND: when, and by whom
    set_by: str = ""


@dataclass(frozen=True)
class Toggled:
    """``/consent`` or ``/allow_zone``: what is recorded now, and whether this changed it."""

    what: str  # "consent" | "zone"
    unit_code: str
    unit_name: str
    granted: bool
    changed: bool
    exam: ExamAssignment
    department: str = ""  # consent: the department that agreed


@dataclass(frozen=True)
class WhoAmI:
    identity: Identity
    exam: ExamAssignment | None  # a unit administrator's unit; None for the other roles


def _unit(uow: UnitOfWork, request: UnitCommand) -> Unit:
    if not request.unit:
        raise AssignmentRefused("assign_usage", command=request.command)
    unit = resolve_unit(uow.session, request.unit)  # a code, or a unit's exact name
    if unit is None:
        raise AssignmentRefused("assign_unit_unknown", text=request.unit)
    return unit


def _withdraws(request: UnitCommand) -> bool:
    """Nothing after the unit records, a withdraw word (撤销) withdraws; anything else is
    refused with the usage."""
    if not request.rest:
        return False
    if is_withdraw_word(request.rest):
        return True
    raise AssignmentRefused("assign_usage", command=request.command)


def _last_set(uow: UnitOfWork, unit: Unit) -> AuditLog | None:
    return uow.session.exec(
        select(AuditLog)
        .where(AuditLog.action == CATEGORY_SET, AuditLog.target == unit.code)
        .order_by(col(AuditLog.id).desc())
    ).first()


def _view(uow: UnitOfWork, unit: Unit, **outcome: Any) -> CategoryView:
    """The unit's mapping, where it came from, and the exam it gives."""
    value = unit.category_department
    source, row = UNSET, None
    if value is not None:
        row = _last_set(uow, unit)
        if row is not None and json.loads(row.detail or "{}").get("to") == value:
            source = BY_COMMAND
        else:
            row = None
            named = infer_department(uow.config, unit.name, unit_level(uow.session, unit))
            source = BY_NAME if named is not None and named.name == value else BY_IMPORT
    return CategoryView(
        unit_code=unit.code,
        unit_name=unit.name,
        value=value,
        source=source,
        exam=exam_of(uow.session, uow.config, unit),
        set_at=row.at.astimezone(uow.config.tz) if row is not None else None,
        set_by=row.actor if row is not None else "",
        **outcome,
    )


def category(uow: UnitOfWork, request: UnitCommand) -> CategoryView:
    """``/category UNIT``: the mapping; ``/category UNIT 省公安厅`` / ``无``: set it."""
    city_or_operator(uow)
    unit = _unit(uow, request)
    if not request.rest:
        return _view(uow, unit)
    value = read_department(uow.config, request.rest)
    if value is None:
        raise AssignmentRefused("category_unknown", value=request.rest)
    if is_centralized(uow.config, unit):
        raise AssignmentRefused("category_centralized", unit=unit.name)
    if unit.kind not in MAPPED_KINDS:
        raise AssignmentRefused("category_not_department", unit=unit.name)
    previous = unit.category_department
    changed = _set(
        uow, unit, "category_department", value, CATEGORY_SET, {"from": previous, "to": value}
    )
    return _view(uow, unit, changed=changed, previous=previous)


def consent(uow: UnitOfWork, request: UnitCommand) -> Toggled:
    """``/consent UNIT``: record the provincial department's consent to the zone exam (二.3);
    ``/consent UNIT 撤销``: withdraw it. Only a unit taking a category exam can be given it."""
    city_or_operator(uow)
    unit = _unit(uow, request)
    withdraw = _withdraws(request)
    exam = exam_of(uow.session, uow.config, unit)
    granted = not withdraw
    if granted and not unit.category_consent and exam.kind != CATEGORY:
        raise AssignmentRefused("consent_not_category", unit=unit.name, exam=exam)
    department = exam.department.name if exam.department is not None else ""
    detail = {"department": department, "consent": granted}
    changed = _set(uow, unit, "category_consent", granted, CONSENT_SET, detail)
    if changed:
        exam = exam_of(uow.session, uow.config, unit)
    return Toggled("consent", unit.code, unit.name, granted, changed, exam, department)


def allow_zone(uow: UnitOfWork, request: UnitCommand) -> Toggled:
    """``/allow_zone UNIT``: a centralized-exam unit (五（四）) may book online zone sessions
    too; ``/allow_zone UNIT 撤销``: no longer. Refused for a unit not on the centralized list."""
    city_or_operator(uow)
    unit = _unit(uow, request)
    withdraw = _withdraws(request)
    if not is_centralized(uow.config, unit):
        raise AssignmentRefused("zone_not_centralized", unit=unit.name)
    granted = not withdraw
    changed = _set(uow, unit, "zone_approved", granted, ZONE_APPROVAL_SET, {"approved": granted})
    exam = exam_of(uow.session, uow.config, unit)
    return Toggled("zone", unit.code, unit.name, granted, changed, exam)


def _set(
    uow: UnitOfWork, unit: Unit, column: str, value: object, action: str, detail: dict[str, object]
) -> bool:
    """Set one of the unit's assignment columns, audited; False (nothing written) when it
    already holds ``value``."""
    if getattr(unit, column) == value:
        return False
    setattr(unit, column, value)
    uow.session.add(unit)
    uow.audit(action, target=unit.code, detail={"unit": unit.name, **detail})
    uow.session.flush()
    return True


def whoami(uow: UnitOfWork) -> WhoAmI:
    """The sender's binding and, for a unit administrator, the exam their unit takes."""
    identity: Identity = uow.authorize()
    exam = None
    if identity.role == Role.UNIT:
        unit = uow.session.get(Unit, identity.unit_id)
        if unit is not None:
            exam = exam_of(uow.session, uow.config, unit)
    return WhoAmI(identity, exam)
