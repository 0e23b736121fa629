"""Importing the learner roster from the city office's CSV/XLSX file (validated row by row)."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.tabular import (
    ACCOUNT_RE,
    MAX_CODE,
    MAX_NAME,
    Errors,
    ImportReport,
    cell_value,
    check_text,
    parse_bool,
    row_number,
)
from bot.org.models import Unit
from bot.roster.models import Learner


def _parse_credits(text: str) -> float | None:
    """A number ≥ 0; raises ValueError with a Chinese reason."""
    normalized = unicodedata.normalize("NFKC", text).strip().replace(",", "")
    try:
        number = float(normalized)
    except ValueError:
        raise ValueError(f"“{text}”不是数字") from None
    if not math.isfinite(number):
        raise ValueError(f"“{text}”不是有效数字")
    if number < 0:
        raise ValueError(f"不能为负数（{text}）")
    return number


@dataclass
class _LearnerRow:
    number: int
    account: str
    name: str
    unit_code: str
    values: dict[str, object]  # only the optional columns present in the row


def import_roster(
    session: Session,
    rows: Sequence[dict[str, str]],
    *,
    now: dt.datetime,
    actor: str = "cli",
    skip_bad: bool = False,
    source: str = "",
) -> ImportReport:
    """Create or update learners by account. A changed unit is a transfer (the city office's
    roster is the truth); passwords are never touched; learners missing from the file stay."""
    errors = Errors("roster")
    unit_ids: dict[str, int] = {
        code: unit_id for code, unit_id in session.exec(select(Unit.code, Unit.id))
    }
    good: dict[str, _LearnerRow] = {}
    seen: dict[str, int] = {}
    for index, row in enumerate(rows):
        number = row_number(row, index)
        parsed = _parse_learner_row(errors, row, number, unit_ids, seen)
        if parsed is not None:
            good[parsed.account] = parsed

    report = ImportReport(errors=errors.sorted())
    if errors.items and not skip_bad:
        return report

    found: dict[str, Learner] = {}
    accounts = list(good)
    for start in range(0, len(accounts), 500):
        chunk = accounts[start : start + 500]
        for learner in session.exec(select(Learner).where(col(Learner.account).in_(chunk))):
            found[learner.account] = learner
    for item in sorted(good.values(), key=lambda r: r.number):
        unit_id = unit_ids[item.unit_code]
        learner = found.get(item.account)
        if learner is None:
            learner = Learner(
                account=item.account,
                name=item.name,
                unit_id=unit_id,
                in_service=bool(item.values.get("in_service", True)),
                exempt=bool(item.values.get("exempt", False)),
                required_credits=item.values.get("required_credits"),  # type: ignore[arg-type]
                total_credits=item.values.get("total_credits"),  # type: ignore[arg-type]
                updated_at=now,
            )
            session.add(learner)
            found[item.account] = learner
            report.created += 1
            continue
        report.updated += 1
        changes = {"name": item.name, "unit_id": unit_id, **item.values}
        changed = False
        for key, value in changes.items():
            if getattr(learner, key) != value:
                if key == "unit_id":
                    report.transferred += 1
                setattr(learner, key, value)
                changed = True
        if changed:
            learner.updated_at = now
        else:
            report.unchanged += 1
    session.flush()
    report.written = True
    audit.record(
        session,
        at=now,
        action="roster.import",
        actor=actor,
        target=source,
        detail={
            **report.counts(),
            "transferred": report.transferred,
            "source": source,
        },
    )
    session.flush()
    return report


def _parse_learner_row(
    errors: Errors,
    row: dict[str, str],
    number: int,
    unit_ids: dict[str, int],
    seen: dict[str, int],
) -> _LearnerRow | None:
    account, name, unit = (
        cell_value(row, "account"),
        cell_value(row, "name"),
        cell_value(row, "unit"),
    )
    before = len(errors.items)
    if not account:
        errors.add(number, "account", "不能为空")
    elif not ACCOUNT_RE.fullmatch(account):
        errors.add(
            number,
            "account",
            f"“{account[:80]}”格式不正确（3–64 位字母、数字或 _ . - @）",
        )
    elif account in seen:
        errors.add(number, "account", f"账号 {account} 与第 {seen[account]} 行重复")
    else:
        seen[account] = number
    check_text(errors, number, "name", name, limit=MAX_NAME, required=True)
    if check_text(errors, number, "unit", unit, limit=MAX_CODE, required=True) and (
        unit and unit not in unit_ids
    ):
        errors.add(number, "unit", f"单位编码 {unit} 不存在，请先导入单位")
    values: dict[str, object] = {}
    for key in ("in_service", "exempt"):
        if key not in row:
            continue
        text = cell_value(row, key)
        if not text:
            continue  # empty keeps the current value (new learners: in service, not exempt)
        flag = parse_bool(key, text)
        if flag is None:
            errors.add(number, key, f"“{text[:20]}”无法识别，请填 是/否")
        else:
            values[key] = flag
    for key in ("required_credits", "total_credits"):
        if key not in row:
            continue
        text = cell_value(row, key)
        if not text:
            values[key] = None
            continue
        try:
            values[key] = _parse_credits(text)
        except ValueError as exc:
            errors.add(number, key, str(exc))
    if len(errors.items) > before:
        return None
    return _LearnerRow(number=number, account=account, name=name, unit_code=unit, values=values)
