"""Importing the platform's exam-results file: validated row by row, idempotent.

The file's rows come from ``bot.core.tabular.read_table(path, "results")``. Rounds are the
catalogue's (``bot.core.rounds``), named in a file by the words of ``importer.toml``; so is an
absence. Run by the server's operator (the command line): there is no administrator to
authorize. Checked rows stream into a staging table and are merged into the results by
set-based statements (``bot.core.bulk``) once the whole file has passed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col, select

from bot.core import rounds
from bot.core.bulk import Merge, Stage
from bot.core.config import Config
from bot.core.render import cn_numeral
from bot.core.tabular import (
    WRITE,
    ImportReport,
    ImportRequest,
    Row,
    RowCheck,
    RowErrors,
    TableRows,
    fold,
    load_data,
    parse_number,
    step,
    table,
    vocabulary,
)
from bot.core.uow import UnitOfWork
from bot.org.models import Unit
from bot.results.aggregates import refold
from bot.results.models import ExamResult
from bot.roster.learners import ACCOUNT_RE
from bot.roster.models import Learner

WORDS_FILE = Path(__file__).with_name("importer.toml")
CHUNK = 500  # accounts per IN (…) query
WHOLE_ROSTER = 20_000  # a file naming more accounts reads the roster in one pass instead


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


StageRow = tuple[int, int, str, "float | None", bool, "int | None", int]
"""A checked row as staged: its row number, the learner's id, the round, the score (None:
absent), absent, the unit the file names (None: none) and the learner's roster unit."""


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
    lookups = _Lookups(
        uow.config,
        Vocabulary.of(uow.config),
        _learners(uow.session, _cells(rows, "account")),
        _unit_ids(uow.session) if any(_cells(rows, "unit")) else {},
    )
    errors = RowErrors(table("results"))
    counted: dict[str, int] = {}
    with _stage(uow) as stage:
        checks = errors.rows(rows, request.progress)
        stage.load(_checked(checks, lookups, counted))
        report = ImportReport(errors=errors.sorted(), header=request.header, config=uow.config)
        if errors and not request.skip_bad:
            return report
        with step(request.progress, WRITE, stage.count):
            _write(uow, report, stage, request.source)
    report.written = True
    uow.audit(
        "results.import",
        target=request.source,
        detail={**report.counts(), "rounds": counted, "source": request.source},
    )
    uow.session.flush()
    return report


def _cells(rows: Sequence[Row], key: str) -> Iterator[str]:
    """Every row's cell in column ``key``, stripped ("" where a row has none)."""
    values = rows.column(key) if isinstance(rows, TableRows) else (r.get(key) for r in rows)
    return (str(v or "").strip() for v in values)


def _stage(uow: UnitOfWork) -> Stage:
    """The staging table: the columns of ``StageRow``."""
    return Stage(
        uow.session,
        "results_stage",
        sa.Column("row", sa.Integer),
        sa.Column("learner_id", sa.Integer),
        sa.Column("round_key", sa.String),
        sa.Column("score", sa.Float),
        sa.Column("absent", sa.Boolean),
        sa.Column("unit_id", sa.Integer),
        sa.Column("roster_unit_id", sa.Integer),
    )


def _checked(
    checks: Iterable[RowCheck], lookups: _Lookups, counted: dict[str, int]
) -> Iterator[StageRow]:
    """The rows that pass, as staged, counted per round; the others leave their errors."""
    seen: dict[tuple[str, str], int] = {}
    for check in checks:
        parsed = _parse_row(check, lookups, seen)
        if parsed is not None:
            counted[parsed[2]] = counted.get(parsed[2], 0) + 1
            yield parsed


def _learners(session: Session, accounts: Iterable[str]) -> dict[str, tuple[int, int]]:
    """Account -> (learner id, roster unit) for the accounts named: by ``IN (…)`` queries, or
    one pass over the roster for a file naming a good part of it."""
    wanted = sorted({a for a in accounts if a})
    query = select(Learner.account, Learner.id, Learner.unit_id)
    if len(wanted) > WHOLE_ROSTER:
        names = set(wanted)
        return {a: (i, u) for a, i, u in session.exec(query) if a in names and i is not None}
    learners: dict[str, tuple[int, int]] = {}
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        for account, lid, unit_id in session.exec(query.where(col(Learner.account).in_(chunk))):
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


def _write(uow: UnitOfWork, report: ImportReport, stage: Stage, source: str) -> None:
    """Count, then rewrite the changed results and insert the new ones: a result keeps the
    unit it has unless the file names one; a new one takes the file's unit, else the
    learner's roster unit. The learners whose results are created or changed are noted before
    the merge (afterwards nothing tells them apart) and refolded after it."""
    results = SQLModel.metadata.tables[str(ExamResult.__tablename__)]
    s, t = stage.c, results.c
    merge = Merge(
        stage,
        results,
        key={"learner_id": s.learner_id, "round_key": s.round_key},
        values={
            "score": s.score,
            "absent": s.absent,
            "unit_id": sa.func.coalesce(s.unit_id, t.unit_id),
        },
        new={
            "learner_id": s.learner_id,
            "round_key": s.round_key,
            "score": s.score,
            "absent": s.absent,
            "unit_id": sa.func.coalesce(s.unit_id, s.roster_unit_id),
        },
        stamp={"source": source[:256], "imported_at": uow.now},
        order=[s.row],
    )
    tally = merge.tally()
    report.created, report.updated, report.unchanged = (
        tally.created,
        tally.matched,
        tally.unchanged,
    )
    if not (tally.created or tally.changed):
        return
    with Stage(uow.session, "results_refold", sa.Column("learner_id", sa.Integer)) as changed:
        noted = (
            sa.select(s.learner_id)
            .distinct()
            .select_from(merge.joined())
            .where(sa.or_(t.id.is_(None), merge.changed))
        )
        uow.session.execute(sa.insert(changed.table).from_select(["learner_id"], noted))
        merge.apply(tally)
        refold(uow.session.connection(), uow.config, sa.select(changed.c.learner_id))


def _parse_row(
    check: RowCheck, lookups: _Lookups, seen: dict[tuple[str, str], int]
) -> StageRow | None:
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
    return (check.number, learner[0], key, score, score is None, unit_id, learner[1])


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
