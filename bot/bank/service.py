"""The question bank (notice 四（三）): each department in ``config.question_bank`` owes a fixed
number of single- and multiple-choice questions on its laws by the deadline.

``write_template`` makes the XLSX template; ``validate`` checks an uploaded XLSX/CSV completely
and says what is wrong row by row; ``submit`` stores a fully valid file for the administrator's
department (superseding the earlier one, which stays as history; late files are accepted and
marked late); ``status`` tells the city office who has submitted; ``export`` writes the merged
bank. File-safety checks (size, type, macros, zip bombs) are the importer's, reused.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from bot.bank.models import QuestionSubmission
from bot.bank.questions import (
    HEADER,
    HELP_SHEET_NAME,
    LETTERS,
    MAX_FILE_BYTES,
    MULTIPLE,
    SHEET_NAME,
    SINGLE,
    TYPE_LABELS,
    Validation,
    validate,
)
from bot.core import audit
from bot.core.config import Config, QuestionDepartment
from bot.core.errors import Refused
from bot.org.identity import Identity
from bot.org.models import Unit


@dataclass(frozen=True)
class SubmitResult:
    department: str
    validation: Validation
    stored: bool
    late: bool = False
    replaced: bool = False
    submission_id: int | None = None


def template_bytes(config: Config) -> bytes:
    """The XLSX template: a question sheet with the header row (and the type column pre-filled
    with the owed number of each type), and a sheet of instructions in Chinese."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    qs = config.question_submission
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET_NAME
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for _ in range(qs.single_choice):
        ws.append([TYPE_LABELS[SINGLE]])
    for _ in range(qs.multiple_choice):
        ws.append([TYPE_LABELS[MULTIPLE]])
    widths = {"A": 8, "B": 50, "I": 10, "J": 24}
    for column in "CDEFGH":
        widths[column] = 22
    for column, width in widths.items():
        ws.column_dimensions[column].width = width
    ws.freeze_panes = "A2"
    types = DataValidation(type="list", formula1='"单选,多选"', allow_blank=True)
    types.add(f"A2:A{qs.total + 200}")
    ws.add_data_validation(types)

    help_sheet = wb.create_sheet(HELP_SHEET_NAME)
    help_sheet.column_dimensions["A"].width = 110
    for line in _instructions(config):
        help_sheet.append([line])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _instructions(config: Config) -> list[str]:
    """The instruction sheet's lines, from bot/templates/bank_instructions.j2 (plain text)."""
    from bot.core.render import render, strip_html

    text = render(
        "bank_instructions",
        c=config,
        sheet=SHEET_NAME,
        header=HEADER,
        max_mb=MAX_FILE_BYTES // 1024 // 1024,
    )
    return strip_html(text).splitlines()


def write_template(path: str | Path, config: Config) -> Path:
    path = Path(path)
    path.write_bytes(template_bytes(config))
    return path


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
    """ "6月15日前" is read as "by the end of June 15" in the campaign's timezone."""
    return now.astimezone(config.tz).date() > config.question_submission.deadline


def submit(
    session: Session,
    config: Config,
    identity: Identity,
    *,
    file_bytes: bytes,
    filename: str,
    now: dt.datetime,
    chat_id: int | None = None,
) -> SubmitResult:
    """Validate and, when fully valid, store the department's file (replacing the current one,
    which is kept as history), with one audit row in the same transaction.

    Refusals: not a department's administrator (``Refused``); the file as a whole
    (``BankFileError``). A file with row errors is returned unstored with its errors.
    """
    dept = department_of(identity, config)
    validation = validate(file_bytes, filename, dept.department, config)
    if not validation.ok:
        return SubmitResult(dept.department, validation, stored=False)
    late = is_late(now, config)
    current = session.exec(
        select(QuestionSubmission).where(
            QuestionSubmission.unit_id == identity.unit_id,
            col(QuestionSubmission.superseded_at).is_(None),
        )
    ).first()
    if current is not None:
        # Conditional: two uploads at once supersede the same row once; the partial unique
        # index then refuses the second new row.
        session.execute(
            update(QuestionSubmission)
            .where(
                col(QuestionSubmission.id) == current.id,
                col(QuestionSubmission.superseded_at).is_(None),
            )
            .values(superseded_at=now)
        )
    content = json.dumps(
        [asdict(q) for q in validation.questions], ensure_ascii=False, separators=(",", ":")
    )
    row = QuestionSubmission(
        unit_id=identity.unit_id,
        department=dept.department,
        file_name=Path(filename).name[:256],
        sha256=hashlib.sha256(file_bytes).hexdigest(),
        single_count=validation.single,
        multiple_count=validation.multiple,
        content=content,
        late=late,
        admin_id=identity.admin_id,
        telegram_user_id=identity.telegram_user_id,
        submitted_at=now,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        at=now,
        action="questions.submit",
        actor=identity.unit_name,
        target=dept.department,
        detail={
            "submission_id": row.id,
            "file": row.file_name,
            "sha256": row.sha256,
            "single": row.single_count,
            "multiple": row.multiple_count,
            "late": late,
            "replaced": current.id if current is not None else None,
        },
        actor_admin_id=identity.admin_id,
        actor_telegram_id=identity.telegram_user_id,
        chat_id=chat_id,
    )
    return SubmitResult(
        dept.department,
        validation,
        stored=True,
        late=late,
        replaced=current is not None,
        submission_id=row.id,
    )


@dataclass(frozen=True)
class DepartmentStatus:
    department: str
    topic: str
    state: str  # "submitted" | "late" | "missing"
    submitted_at: dt.datetime | None = None
    file_name: str = ""
    versions: int = 0


def _department_units(session: Session, config: Config) -> dict[str, int]:
    names = [d.department for d in config.question_bank]
    units = session.exec(
        select(Unit).where(col(Unit.code).in_(names) | col(Unit.name).in_(names))
    ).all()
    found: dict[str, int] = {u.code: u.id for u in units if u.code in names}  # type: ignore[misc]
    for unit in units:  # a unit matched by name only where no code matches
        if unit.name in names and unit.name not in found:
            found[unit.name] = unit.id  # type: ignore[assignment]
    return found


def status(session: Session, config: Config) -> list[DepartmentStatus]:
    """Every department of the config, in the config's order, with its current submission."""
    units = _department_units(session, config)
    rows = session.exec(
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


def current_questions(session: Session, config: Config) -> list[tuple[str, bool, list[dict]]]:
    """(department, late, questions) for every department with a current submission."""
    units = _department_units(session, config)
    current = {
        row.unit_id: row
        for row in session.exec(
            select(QuestionSubmission).where(
                col(QuestionSubmission.unit_id).in_(units.values()),
                col(QuestionSubmission.superseded_at).is_(None),
            )
        )
    }
    merged: list[tuple[str, bool, list[dict[str, Any]]]] = []
    for dept in config.question_bank:
        row = current.get(units.get(dept.department, -1))
        if row is not None:
            merged.append((dept.department, row.late, json.loads(row.content)))
    return merged


def export(path: str | Path, session: Session, config: Config) -> int:
    """Write the merged bank (current submissions, in the config's order) and a sheet with
    every department's status; return the number of questions written."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "题库"
    ws.append(["序号", "报送单位", *HEADER, "逾期"])
    count = 0
    for department, late, questions in current_questions(session, config):
        for question in questions:
            count += 1
            options = question["options"]
            ws.append(
                [
                    count,
                    department,
                    TYPE_LABELS[question["kind"]],
                    question["stem"],
                    *(options.get(letter, "") for letter in LETTERS),
                    question["key"],
                    question["law"],
                    "是" if late else "",
                ]
            )
    sheet = wb.create_sheet("报送情况")
    sheet.append(["报送单位", "报送内容", "状态", "报送时间", "文件", "报送次数"])
    labels = {"submitted": "已报送", "late": "逾期报送", "missing": "未报送"}
    for item in status(session, config):
        when = (
            item.submitted_at.astimezone(config.tz).strftime("%Y-%m-%d %H:%M")
            if (item.submitted_at)
            else ""
        )
        sheet.append(
            [item.department, item.topic, labels[item.state], when, item.file_name, item.versions]
        )
    for worksheet in (ws, sheet):
        for cell in worksheet[1]:
            cell.font = Font(bold=True)
    Path(path).write_bytes(_save(wb))
    return count


def _save(workbook: Any) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
