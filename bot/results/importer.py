"""Importing the platform's exam-results file: validated row by row, idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlmodel import Session, col, select

from bot.core import audit
from bot.core.config import Config
from bot.core.tabular import ACCOUNT_RE, LABELS, MAX_CODE, ROW_KEY, ImportReport, RowError
from bot.org.models import Unit
from bot.results.models import ExamResult
from bot.results.service import parse_round, parse_score, round_keys, round_name
from bot.roster.models import Learner


class _Errors:
    def __init__(self) -> None:
        self.items: list[RowError] = []

    def add(self, row: int, key: str, message: str) -> None:
        self.items.append(RowError(row, key, message, LABELS["results"].get(key, "")))

    def sorted(self) -> list[RowError]:
        return sorted(self.items, key=lambda e: e.row)


@dataclass(frozen=True)
class _ResultRow:
    number: int
    learner_id: int
    round_key: str
    score: float | None
    unit_id: int | None  # the file's unit at the time of the round, if it names one


def _cell(row: dict[str, str], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def import_results(
    session: Session,
    config: Config,
    rows: Sequence[dict[str, str]],
    *,
    now: dt.datetime,
    actor: str = "cli",
    skip_bad: bool = False,
    source: str = "",
) -> ImportReport:
    """Validate every row (rows from ``imports.read_table(path, "results")``), then upsert one
    result per learner and round. Any bad row refuses the whole file unless ``skip_bad``.
    A re-import replaces a result (score, absent, and the unit only when the file names one)."""
    errors = _Errors()
    accounts = sorted({_cell(r, "account") for r in rows if _cell(r, "account")})
    learners: dict[str, tuple[int, int]] = {}
    for start in range(0, len(accounts), 500):
        chunk = accounts[start : start + 500]
        for lid, account, unit_id in session.exec(
            select(Learner.id, Learner.account, Learner.unit_id).where(
                col(Learner.account).in_(chunk)
            )
        ):
            learners[account] = (lid, unit_id)
    unit_ids: dict[str, int] = {}  # unit code (or a unit name used by one unit only) -> id
    if any(_cell(r, "unit") for r in rows):
        pairs = list(session.exec(select(Unit.code, Unit.name, Unit.id)))
        names: dict[str, list[int]] = {}
        for _code, name, uid in pairs:
            names.setdefault(name, []).append(uid)
        unit_ids = {name: ids[0] for name, ids in names.items() if len(ids) == 1}
        unit_ids.update({code: uid for code, _name, uid in pairs})
    good: list[_ResultRow] = []
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        try:
            number = int(row.get(ROW_KEY) or index + 2)
        except ValueError:
            number = index + 2
        parsed = _parse_row(config, errors, row, number, learners, unit_ids, seen)
        if parsed is not None:
            good.append(parsed)

    report = ImportReport(errors=errors.sorted())
    if errors.items and not skip_bad:
        return report

    existing: dict[tuple[int, str], ExamResult] = {}
    ids = sorted({item.learner_id for item in good})
    for start in range(0, len(ids), 500):
        for result in session.exec(
            select(ExamResult).where(col(ExamResult.learner_id).in_(ids[start : start + 500]))
        ):
            existing[(result.learner_id, result.round_key)] = result
    roster_unit = {lid: uid for lid, uid in learners.values()}
    rounds: dict[str, int] = {}
    for item in good:
        rounds[item.round_key] = rounds.get(item.round_key, 0) + 1
        absent = item.score is None
        current = existing.get((item.learner_id, item.round_key))
        if current is None:
            session.add(
                ExamResult(
                    learner_id=item.learner_id,
                    round_key=item.round_key,
                    score=item.score,
                    absent=absent,
                    unit_id=item.unit_id or roster_unit[item.learner_id],
                    source=source[:256],
                    imported_at=now,
                )
            )
            report.created += 1
            continue
        report.updated += 1
        unit_id = item.unit_id or current.unit_id
        if (current.score, current.absent, current.unit_id) == (item.score, absent, unit_id):
            report.unchanged += 1
            continue
        current.score, current.absent, current.unit_id = item.score, absent, unit_id
        current.source, current.imported_at = source[:256], now
        session.add(current)
    session.flush()
    report.written = True
    audit.record(
        session,
        at=now,
        action="results.import",
        actor=actor,
        target=source,
        detail={
            **report.counts(),
            "rounds": rounds,
            "source": source,
        },
    )
    session.flush()
    return report


def _parse_row(
    config: Config,
    errors: _Errors,
    row: dict[str, str],
    number: int,
    learners: dict[str, tuple[int, int]],
    unit_ids: dict[str, int],
    seen: dict[tuple[str, str], int],
) -> _ResultRow | None:
    before = len(errors.items)
    account, round_text = _cell(row, "account"), _cell(row, "round")
    score_text, unit_code = _cell(row, "score"), _cell(row, "unit")
    learner = None
    if not account:
        errors.add(number, "account", "不能为空")
    elif not ACCOUNT_RE.fullmatch(account):
        errors.add(number, "account", f"“{account[:80]}”格式不正确（3–64 位字母、数字或 _ . - @）")
    elif account not in learners:
        errors.add(number, "account", f"花名册里没有账号 {account}，请先导入学员名单")
    else:
        learner = learners[account]
    key = None
    if not round_text:
        errors.add(number, "round", "不能为空")
    else:
        key = parse_round(config, round_text)
        if key is None:
            names = "、".join(round_name(config, k) for k in round_keys(config))
            errors.add(number, "round", f"“{round_text[:30]}”无法识别，应为 {names} 之一")
    score: float | None = None
    try:
        score = parse_score(config, score_text)
    except ValueError as exc:
        errors.add(number, "score", str(exc))
    unit_id = None
    if unit_code:
        if len(unit_code) > MAX_CODE or unit_code not in unit_ids:
            errors.add(number, "unit", f"单位 {unit_code[:MAX_CODE]} 不存在（请写单位编码）")
        else:
            unit_id = unit_ids[unit_code]
    if account and key is not None:
        if (account, key) in seen:
            errors.add(
                number,
                "account",
                f"账号 {account} 的{round_name(config, key)}成绩与第 {seen[account, key]} 行重复",
            )
        else:
            seen[account, key] = number
    if len(errors.items) > before or learner is None or key is None:
        return None
    return _ResultRow(number, learner[0], key, score, unit_id)
