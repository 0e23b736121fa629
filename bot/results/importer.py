"""Importing the platform's exam-results file: validated row by row, idempotent.

The file's rows come from ``bot.core.tabular.read_table(path, "results")``. Rounds are the
catalogue's (``bot.core.rounds``), named in a file by the words of ``importer.toml``; so is an
absence. Run by the server's operator (the command line): there is no administrator to
authorize.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sql
from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, SQLModel, col, select

from bot.core import rounds
from bot.core.config import Config
from bot.core.render import cn_numeral
from bot.core.tabular import (
    ImportReport,
    ImportRequest,
    RowCheck,
    RowErrors,
    fold,
    load_data,
    parse_number,
    table,
    vocabulary,
)
from bot.core.uow import UnitOfWork
from bot.org.models import Unit
from bot.results.models import ExamResult
from bot.roster.learners import ACCOUNT_RE
from bot.roster.models import Learner

WORDS_FILE = Path(__file__).with_name("importer.toml")
CHUNK = 500  # ids per IN (…) query


@dataclass(frozen=True)
class Vocabulary:
    """How this campaign's results file names rounds and absences (folded words)."""

    rounds: dict[str, str]  # word -> round key
    absent: frozenset[str]
    suffix: str  # what may follow a score, "85分"

    @classmethod
    def of(cls, config: Config) -> Vocabulary:
        data = load_data(WORDS_FILE)
        words = {r.key: _round_words(config, r, data["rounds"]) for r in rounds.catalogue(config)}
        score = data["score"]
        return cls(vocabulary(words), frozenset(fold(w) for w in score["absent"]), score["suffix"])


def _round_words(
    config: Config, item: rounds.ExamRound, words: Mapping[str, list[str]]
) -> list[str]:
    """A round's words: the data file's, and the name the config gives it."""
    if item.kind == rounds.CATEGORY:
        return [*words["category"], config.category_exam.name]
    if item.kind == rounds.MAKEUP:
        return [*words["makeup"], config.makeup.scope]
    forms = {str(item.number), cn_numeral(item.number)}
    return [word.format(n=n) for word in words["zone"] for n in sorted(forms)]


@dataclass(frozen=True)
class _ResultRow:
    number: int
    learner_id: int
    round_key: str
    score: float | None
    unit_id: int | None  # the file's unit at the time of the round, if it names one


@dataclass(frozen=True)
class _Lookups:
    """What the rows are checked against."""

    config: Config
    words: Vocabulary
    learners: dict[str, tuple[int, int]]  # account -> (learner id, roster unit id)
    unit_ids: dict[str, int]  # unit code (or a unit name used by one unit only) -> id


def import_results(uow: UnitOfWork, request: ImportRequest) -> ImportReport:
    """Validate every row, then upsert one result per learner and round. Any bad row refuses
    the whole file unless the request skips bad rows. A re-import replaces a result (score,
    absent, and the unit only when the file names one)."""
    rows = request.rows
    accounts = sorted({a for r in rows if (a := str(r.get("account") or "").strip())})
    lookups = _Lookups(
        uow.config,
        Vocabulary.of(uow.config),
        _learners(uow.session, accounts),
        _unit_ids(uow.session) if any(str(r.get("unit") or "").strip() for r in rows) else {},
    )
    errors = RowErrors(table("results"))
    good: list[_ResultRow] = []
    seen: dict[tuple[str, str], int] = {}
    for check in errors.rows(rows):
        parsed = _parse_row(check, lookups, seen)
        if parsed is not None:
            good.append(parsed)

    report = ImportReport(errors=errors.sorted(), header=request.header, config=uow.config)
    if errors and not request.skip_bad:
        return report
    counted = _write(uow, report, good, lookups, request.source)
    report.written = True
    uow.audit(
        "results.import",
        target=request.source,
        detail={**report.counts(), "rounds": counted, "source": request.source},
    )
    uow.session.flush()
    return report


def _learners(session: Session, accounts: list[str]) -> dict[str, tuple[int, int]]:
    learners: dict[str, tuple[int, int]] = {}
    for start in range(0, len(accounts), CHUNK):
        chunk = accounts[start : start + CHUNK]
        for lid, account, unit_id in session.exec(
            select(Learner.id, Learner.account, Learner.unit_id).where(
                col(Learner.account).in_(chunk)
            )
        ):
            if lid is not None:
                learners[account] = (lid, unit_id)
    return learners


def _unit_ids(session: Session) -> dict[str, int]:
    """Unit code -> id, and a unit name used by one unit only -> id (codes win)."""
    query = select(Unit.code, Unit.name, Unit.id)
    pairs = [(code, name, uid) for code, name, uid in session.exec(query) if uid is not None]
    names: dict[str, list[int]] = {}
    for _code, name, uid in pairs:
        names.setdefault(name, []).append(uid)
    unit_ids = {name: ids[0] for name, ids in names.items() if len(ids) == 1}
    unit_ids.update({code: uid for code, _name, uid in pairs})
    return unit_ids


def _write(
    uow: UnitOfWork,
    report: ImportReport,
    good: Iterable[_ResultRow],
    lookups: _Lookups,
    source: str,
) -> dict[str, int]:
    """Upsert the good rows (one executemany for the new, one for the changed, read as plain
    rows); the number of results per round, for the audit."""
    session, now, good = uow.session, uow.now, list(good)
    table = SQLModel.metadata.tables[str(ExamResult.__tablename__)]
    existing: dict[tuple[int, str], tuple[int, float | None, bool, int]] = {}
    ids = sorted({item.learner_id for item in good})
    columns = (table.c.id, table.c.learner_id, table.c.round_key, table.c.score, table.c.absent,
               table.c.unit_id)  # fmt: skip
    for start in range(0, len(ids), CHUNK):
        query = sql.select(*columns).where(table.c.learner_id.in_(ids[start : start + CHUNK]))
        for rid, lid, key, score, absent, unit_id in session.execute(query):
            existing[(lid, key)] = (rid, score, absent, unit_id)
    roster_unit = dict(lookups.learners.values())
    counted: dict[str, int] = {}
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    stamp = {"source": source[:256], "imported_at": now}
    for item in good:
        counted[item.round_key] = counted.get(item.round_key, 0) + 1
        absent = item.score is None
        current = existing.get((item.learner_id, item.round_key))
        if current is None:
            unit_id = item.unit_id or roster_unit[item.learner_id]
            inserts.append(
                {"learner_id": item.learner_id, "round_key": item.round_key, "score": item.score,
                 "absent": absent, "unit_id": unit_id, **stamp}
            )  # fmt: skip
            report.created += 1
            continue
        report.updated += 1
        rid, *was = current
        unit_id = item.unit_id or was[2]
        if tuple(was) == (item.score, absent, unit_id):
            report.unchanged += 1
            continue
        updates.append(
            {"result_id": rid, "score": item.score, "absent": absent, "unit_id": unit_id, **stamp}
        )
    if inserts:
        session.execute(insert(table), inserts)
    if updates:
        values: dict[str, Any] = {k: bindparam(k) for k in ("score", "absent", "unit_id", *stamp)}
        session.execute(
            update(table).where(table.c.id == bindparam("result_id")).values(values), updates
        )
    return counted


def _parse_row(
    check: RowCheck, lookups: _Lookups, seen: dict[tuple[str, str], int]
) -> _ResultRow | None:
    account, round_text = check.get("account"), check.get("round")
    learner = None
    if not account:
        check.error("account", "empty")
    elif not ACCOUNT_RE.fullmatch(account):
        check.error("account", "account_format", value=account)
    elif account not in lookups.learners:
        check.error("account", "learner_unknown", account=account)
    else:
        learner = lookups.learners[account]
    key = None
    if not round_text:
        check.error("round", "empty")
    else:
        key = lookups.words.rounds.get(fold(round_text))
        if key is None:
            catalogue = rounds.catalogue(lookups.config)
            check.error("round", "round_unknown", value=round_text, rounds=catalogue)
    score = _score(check, lookups)
    unit_id = _unit(check, lookups)
    if account and key is not None:
        if (account, key) in seen:
            found = rounds.find(lookups.config, key)
            check.error(
                "account",
                "result_duplicate",
                account=account,
                round=found,
                first=seen[account, key],
            )
        else:
            seen[account, key] = check.number
    if not check.ok or learner is None or key is None:
        return None
    return _ResultRow(check.number, learner[0], key, score, unit_id)


def _score(check: RowCheck, lookups: _Lookups) -> float | None:
    """The score; None for an absentee (and for a bad cell, with its error)."""
    text = check.get("score")
    if not text:
        check.error("score", "score_empty")
        return None
    if fold(text) in lookups.words.absent:
        return None
    number = parse_number(text.strip().removesuffix(lookups.words.suffix))
    full = lookups.config.exam.full_marks
    if number is None:
        check.error("score", "score_invalid", value=text)
    elif not math.isfinite(number):
        check.error("score", "score_not_finite", value=text)
    elif not 0 <= number <= full:
        check.error("score", "score_range", value=text, full=full)
    return number


def _unit(check: RowCheck, lookups: _Lookups) -> int | None:
    """The unit the file names (code, or a name only one unit has); None when it names none."""
    text = check.get("unit")
    if not text:
        return None
    limit = table("results").columns["unit"].max
    unit_id = lookups.unit_ids.get(text) if limit is None or len(text) <= limit else None
    if unit_id is None:
        check.error("unit", "unit_unknown", value=text, max=limit)
    return unit_id
