"""Which exam a unit takes (notice 二 and 五（四）), and why.

- The centralized exam (五（四）) for the units on the city's list (config ``centralized.units``);
  the city office may approve one of them to book online zone sessions too (``zone_approved``).
- A provincial department's category exam (二.1, 附件1) when the unit's mapping
  (``Unit.category_department``, its meaning in ``bot.org.sectors``) names a row whose exam
  covers the unit's level, and no consent of the department to the zone exam is recorded
  (二.3 分类组考优先；确需参加市本级分众组考的，需经相应省级组考部门同意).
- Otherwise the city's online zone exam (二.2), for one of the reasons ``ZONE_REASONS`` names.

The registration services refuse what a unit's assignment excludes (``category_precedence``,
through ``bot.registration.assignment``), the city office's overview leaves category and
centralized units out of "not yet registered", and ``/whoami`` tells a unit its exam
(``exam_of``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from bot.core.config import CategoryDepartment, Config
from bot.org.models import Unit
from bot.org.sectors import department_named
from bot.org.tree import ancestry, level_of

CATEGORY, ZONE, CENTRALIZED = "category", "zone", "centralized"
# Why a unit takes the zone exam:
NO_ROW = "no_row"  # no mapping and no row of attachment 1 in its name
NOT_COVERED = "not_covered"  # its row's exam does not cover its level (省科技厅 at 县市区)
CONSENT = "consent"  # the department agreed to the zone exam (二.3)
NONE_SET = "none_set"  # explicitly none ("" set by the city office or an import)
UNKNOWN_ROW = "unknown_row"  # its mapping names a department attachment 1 no longer lists
ZONE_REASONS = (NO_ROW, NOT_COVERED, CONSENT, NONE_SET, UNKNOWN_ROW)


@dataclass(frozen=True)
class ExamAssignment:
    """A unit's exam: ``kind`` (CATEGORY, ZONE or CENTRALIZED) and, for the zone exam, why.

    ``department`` is the category exam's department, or the row passed over (consent, level
    not covered); ``decided_by`` names the unit whose mapping decided ("" when none did),
    ``inherited`` says that it is an ancestor."""

    kind: str
    level: str
    department: CategoryDepartment | None = None
    reason: str = ""
    decided_by: str = ""
    inherited: bool = False
    zone_approved: bool = False  # centralized: may book online zone sessions too
    consent_by: str = ""  # consent recorded on an ancestor: that ancestor's name
    mapping: str = ""  # the deciding unit's ``category_department`` as stored

    @property
    def may_register_zone(self) -> bool:
        """Whether the unit may register for the city's online zone exam."""
        return self.kind == ZONE or (self.kind == CENTRALIZED and self.zone_approved)


@dataclass(frozen=True)
class _Decision:
    department: CategoryDepartment | None
    reason: str  # CATEGORY, or one of ZONE_REASONS
    node: Unit | None
    consent_by: Unit | None = None


def _decide(config: Config, chain: list[Unit]) -> _Decision:
    """The nearest mapping up the chain decides; consent counts on the unit or any node up to
    and including the one whose mapping decides."""
    level = level_of(chain)
    consent: Unit | None = None
    for node in chain:
        if consent is None and node.category_consent:
            consent = node
        if node.category_department is None:
            continue
        name = "".join(node.category_department.split())
        if not name:
            return _Decision(None, NONE_SET, node)
        department = config.category_department(name)
        if department is None:
            return _Decision(None, UNKNOWN_ROW, node)
        if not department.covers(level):
            return _Decision(department, NOT_COVERED, node)
        if consent is not None:
            return _Decision(department, CONSENT, node, consent)
        return _Decision(department, CATEGORY, node)
    return _Decision(None, NO_ROW, None)


def is_centralized(config: Config, unit: Unit) -> bool:
    """Whether the unit is on the city's list for the centralized exam (notice 五（四）)."""
    return unit.name in config.centralized.units


def category_precedence(session: Session, config: Config, unit: Unit) -> CategoryDepartment | None:
    """The provincial department whose category exam this unit takes instead of the city's zone
    exam, or None (the zone exam, or the centralized exam for a unit on the city's list).

    The unit's own ``category_department`` decides, else its nearest ancestor's that has one
    ("" there: explicitly none). It takes precedence only when that name is a department of
    attachment 1 whose exam covers the unit's level, and only while no consent of the
    department is recorded (``category_consent`` on the unit or on any node up to and including
    the one naming the department).
    """
    if is_centralized(config, unit):
        return None
    decision = _decide(config, ancestry(session, unit))
    return decision.department if decision.reason == CATEGORY else None


def exam_of(session: Session, config: Config, unit: Unit) -> ExamAssignment:
    """The unit's exam and why (``/whoami``, ``/category UNIT``): the one function every
    view of a unit's assignment reads."""
    chain = ancestry(session, unit)
    level = level_of(chain)
    if is_centralized(config, unit):
        return ExamAssignment(CENTRALIZED, level, zone_approved=unit.zone_approved)
    decision = _decide(config, chain)
    if decision.node is None:
        named = department_named(config, unit.name)
        if named is not None and not named.covers(level):
            return ExamAssignment(ZONE, level, named, NOT_COVERED)
        return ExamAssignment(ZONE, level, None, NO_ROW)
    consent_by = decision.consent_by
    return ExamAssignment(
        kind=CATEGORY if decision.reason == CATEGORY else ZONE,
        level=level,
        department=decision.department,
        reason="" if decision.reason == CATEGORY else decision.reason,
        decided_by=decision.node.name,
        inherited=decision.node is not unit,
        consent_by=consent_by.name if consent_by is not None and consent_by is not unit else "",
        mapping=decision.node.category_department or "",
    )
