"""The question bank (notice 四（三）): each department in ``config.question_bank`` owes a fixed
number of single- and multiple-choice questions on its laws by the deadline.

``check_upload`` decides, before a file is downloaded, whether its sender and its declared name
and size may submit at all; ``submit`` validates an uploaded XLSX/CSV completely and stores a
fully valid file for the administrator's department (superseding the earlier one, which stays as
history; late files are accepted and marked late); ``status`` tells the city office who has
submitted and ``current_questions`` gives the merged bank. The spreadsheets themselves (the
template, the merged export) are written by ``bot.bank.workbooks``. File-safety checks (size,
type, macros, zip bombs) are the importer's, reused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.bank.models import QuestionSubmission
from bot.bank.questions import MAX_FILE_BYTES, BankFileError, Validation, validate
from bot.core import windows
from bot.core.config import Config, QuestionDepartment
from bot.core.errors import Refused
from bot.core.tabular import ImportFileError, check_file_name, check_file_size
from bot.core.uow import UnitOfWork
from bot.org.access import city_or_operator
from bot.org.identity import Identity
from bot.org.models import Unit

# --- commands and results -------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    """A file as Telegram announces it, before it is downloaded."""

    file_name: str
    size: int


@dataclass(frozen=True)
class SubmitRequest:
    """A downloaded question file to validate and, when fully valid, store."""

    file_bytes: bytes
    filename: str


@dataclass(frozen=True)
class SubmitResult:
    department: str
    validation: Validation
    stored: bool
    late: bool = False
    replaced: bool = False
    submission_id: int | None = None


@dataclass(frozen=True)
class DepartmentStatus:
    department: str
    topic: str
    state: str  # "submitted" | "late" | "missing"
    submitted_at: dt.datetime | None = None
    file_name: str = ""
    versions: int = 0


@dataclass(frozen=True)
class MergedDepartment:
    """A department's current questions (as stored: ``asdict`` of ``questions.Question``)."""

    department: str
    late: bool
    questions: list[dict[str, Any]]


# --- rules ------------------------------------------------------------------------------------


def department_of(identity: Identity, config: Config) -> QuestionDepartment:
    """The question-bank department the administrator speaks for, or a refusal.

    Departments are seeded as units whose code is the department's name; a unit renamed by an
    import is still matched by its name.
    """
    for dept in config.question_bank:
        if dept.department in (identity.unit_code, identity.unit_name):
            return dept
    raise Refused("bank_not_department", unit=identity.unit_name)


def is_late(now: dt.datetime, config: Config) -> bool:
    """ "6月15日前": late from the campaign's closing hour of June 15 (``bot.core.windows``)."""
    return windows.is_past(config, config.question_submission.deadline, now)


# --- submitting -------------------------------------------------------------------------------


def check_upload(uow: UnitOfWork, upload: Upload) -> QuestionDepartment:
    """Refuse a file before it is downloaded: its sender must be a department's administrator,
    and its declared name and size must be acceptable. Changes nothing."""
    dept = department_of(uow.authorize(), uow.config)
    try:
        check_file_name(upload.file_name)
        check_file_size(upload.size, MAX_FILE_BYTES)
    except ImportFileError as exc:
        raise Refused("bank_file", message=str(exc)) from None
    return dept


def submit(uow: UnitOfWork, request: SubmitRequest) -> SubmitResult:
    """Validate and, when fully valid, store the department's file (replacing the current one,
    which is kept as history), with one audit row in the same transaction.

    Refusals: not a department's administrator; the file as a whole (``bank_file``, with the
    validator's reason). A file with row errors is returned unstored with its errors.
    """
    identity: Identity = uow.authorize()
    dept = department_of(identity, uow.config)
    try:
        validation = validate(request.file_bytes, request.filename, dept.department, uow.config)
    except BankFileError as exc:
        raise Refused("bank_file", message=str(exc)) from None
    if not validation.ok:
        return SubmitResult(dept.department, validation, stored=False)
    late = is_late(uow.now, uow.config)
    replaced = _supersede_current(uow.session, identity.unit_id, uow.now)
    row = _store(uow, identity, dept, request, validation, late)
    uow.audit(
        "questions.submit",
        target=dept.department,
        detail={
            "submission_id": row.id,
            "file": row.file_name,
            "sha256": row.sha256,
            "single": row.single_count,
            "multiple": row.multiple_count,
            "late": late,
            "replaced": replaced,
        },
    )
    return SubmitResult(
        dept.department,
        validation,
        stored=True,
        late=late,
        replaced=replaced is not None,
        submission_id=row.id,
    )


def _supersede_current(session: Session, unit_id: int, now: dt.datetime) -> int | None:
    """Mark the unit's current submission superseded; its id, or None when there was none.

    Conditional: two uploads at once supersede the same row once; the partial unique index
    then refuses the second new row.
    """
    current = session.exec(
        select(QuestionSubmission).where(
            QuestionSubmission.unit_id == unit_id,
            col(QuestionSubmission.superseded_at).is_(None),
        )
    ).first()
    if current is None:
        return None
    session.execute(
        update(QuestionSubmission)
        .where(
            col(QuestionSubmission.id) == current.id,
            col(QuestionSubmission.superseded_at).is_(None),
        )
        .values(superseded_at=now)
    )
    return current.id


def _store(
    uow: UnitOfWork,
    identity: Identity,
    dept: QuestionDepartment,
    request: SubmitRequest,
    validation: Validation,
    late: bool,
) -> QuestionSubmission:
    content = json.dumps(
        [asdict(q) for q in validation.questions], ensure_ascii=False, separators=(",", ":")
    )
    row = QuestionSubmission(
        unit_id=identity.unit_id,
        department=dept.department,
        file_name=Path(request.filename).name[:256],
        sha256=hashlib.sha256(request.file_bytes).hexdigest(),
        single_count=validation.single,
        multiple_count=validation.multiple,
        content=content,
        late=late,
        admin_id=identity.admin_id,
        telegram_user_id=identity.telegram_user_id,
        submitted_at=uow.now,
    )
    uow.session.add(row)
    uow.session.flush()
    return row


# --- who has submitted ------------------------------------------------------------------------


def _department_units(session: Session, config: Config) -> dict[str, int]:
    """The unit id of each department: by code, or by name where no code matches."""
    names = [d.department for d in config.question_bank]
    units = session.exec(
        select(Unit).where(col(Unit.code).in_(names) | col(Unit.name).in_(names))
    ).all()
    found: dict[str, int] = {}
    for unit in units:
        if unit.id is not None and unit.code in names:
            found[unit.code] = unit.id
    for unit in units:
        if unit.id is not None and unit.name in names and unit.name not in found:
            found[unit.name] = unit.id
    return found


def status(uow: UnitOfWork) -> list[DepartmentStatus]:
    """Every department of the config, in the config's order, with its current submission
    (the city office, or the operator on the command line)."""
    city_or_operator(uow)
    config = uow.config
    units = _department_units(uow.session, config)
    rows = uow.session.exec(
        select(QuestionSubmission).where(col(QuestionSubmission.unit_id).in_(units.values()))
    ).all()
    by_unit: dict[int, list[QuestionSubmission]] = {}
    for row in rows:
        by_unit.setdefault(row.unit_id, []).append(row)
    result: list[DepartmentStatus] = []
    for dept in config.question_bank:
        history = by_unit.get(units.get(dept.department, -1), [])
        current = next((r for r in history if r.superseded_at is None), None)
        if current is None:
            result.append(DepartmentStatus(dept.department, dept.topic, "missing"))
            continue
        result.append(
            DepartmentStatus(
                dept.department,
                dept.topic,
                "late" if current.late else "submitted",
                current.submitted_at,
                current.file_name,
                len(history),
            )
        )
    return result


def current_questions(uow: UnitOfWork) -> list[MergedDepartment]:
    """Every department with a current submission, in the config's order, with its questions
    (the city office, or the operator on the command line)."""
    city_or_operator(uow)
    units = _department_units(uow.session, uow.config)
    current = {
        row.unit_id: row
        for row in uow.session.exec(
            select(QuestionSubmission).where(
                col(QuestionSubmission.unit_id).in_(units.values()),
                col(QuestionSubmission.superseded_at).is_(None),
            )
        )
    }
    merged: list[MergedDepartment] = []
    for dept in uow.config.question_bank:
        row = current.get(units.get(dept.department, -1))
        if row is not None:
            merged.append(MergedDepartment(dept.department, row.late, json.loads(row.content)))
    return merged
