"""Importing the learner roster from a CSV/XLSX file, the platform's export that the city office
runs through the command line (validated row by row).

The file's rows come from ``bot.core.tabular.read_table(path, "roster")``; the words its yes-no
columns hold are ``roster_import.toml``'s. Run by the server's operator (the command line, the
sandbox's demo data): there is no administrator to authorize.

Credits are checked against the campaign (``config.study``): a credits cell is a number, not
negative and not beyond ``study.max_credits_factor`` times the campaign's requirement for its column,
and a row's 必修学分 never exceeds its own 总学分. Any bad cell refuses the whole file (unless
the import skips bad rows), with its row and value.

The 免考 column, and the rule it follows. 如法网 is the system of record, and a roster file is
the platform's export: its 免考 column is the platform's current state, whoever set it there.
The import takes it as such, as it takes every other column, and records each change of a
learner's exemption state (exempt → not exempt as well as the reverse, a new learner who comes
in exempt included) in the audit log as an action of its own, ``roster.exempt_from_roster``,
naming the learner, the file and the row. That state is not a filing: an exemption is filed
only through the notice's chain (``bot.exemptions``: the unit's steps, then the city office's
filing, then the platform sets the flag). A learner the platform shows exempt without a filing
on record in the bot is what the notice (三) has the city office spot-check: the import
summary counts them and the city office lists them (``bot.results.unfiled``; on the command
line ``python -m bot roster unfiled``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel, select

from bot.core.bulk import Merge, Stage
from bot.core.config import Config
from bot.core.tabular import (
    WRITE,
    ImportReport,
    ImportRequest,
    RowCheck,
    RowErrors,
    YesNo,
    load_data,
    step,
)
from bot.core.tabular import table as table_of
from bot.core.uow import UnitOfWork
from bot.org.models import Unit
from bot.roster.learners import ACCOUNT_RE
from bot.roster.models import Learner

WORDS_FILE = Path(__file__).with_name("roster_import.toml")
FLAGS = ("in_service", "exempt")
CREDITS = ("required_credits", "total_credits")
EXEMPT_ACTION = "roster.exempt_from_roster"


@cache
def flag_words() -> dict[str, YesNo]:
    """Each yes-no column's words, from ``roster_import.toml`` and the pipeline's own."""
    data = load_data(WORDS_FILE)
    return {key: YesNo.with_words(data[key]["true"], data[key]["false"]) for key in FLAGS}


StageRow = tuple[
    int, str, str, int, "bool | None", "bool | None", bool, "float | None", bool, "float | None"
]
"""A checked row as staged: its row number, account, name, unit id, the two yes-no cells (None:
empty, keep the learner's value) and each credits column as (set?, value)."""


def _stage(uow: UnitOfWork) -> Stage:
    """The staging table: the columns of ``StageRow``."""
    return Stage(
        uow.session,
        "roster_stage",
        sa.Column("row", sa.Integer),
        sa.Column("account", sa.String),
        sa.Column("name", sa.String),
        sa.Column("unit_id", sa.Integer),
        sa.Column("in_service", sa.Boolean),
        sa.Column("exempt", sa.Boolean),
        sa.Column("set_required", sa.Boolean),
        sa.Column("required_credits", sa.Float),
        sa.Column("set_total", sa.Boolean),
        sa.Column("total_credits", sa.Float),
    )


def import_roster(uow: UnitOfWork, request: ImportRequest) -> ImportReport:
    """Create or update learners by account. A changed unit is a transfer and a changed 免考
    cell a change of exemption state, each as the file shows it (the platform's export is the
    truth; see the module's docstring); passwords are never touched; learners missing from the
    file stay.

    The rows are checked one by one as they stream into a staging table; the learners table is
    written only once every row has passed (or the import skips bad rows), by set-based
    statements (``bot.core.bulk``): a whole city's file is a few statements, not 150,000."""
    errors = RowErrors(table_of("roster"))
    unit_ids: dict[str, int] = {
        code: unit_id
        for code, unit_id in uow.session.exec(select(Unit.code, Unit.id))
        if unit_id is not None
    }
    with _stage(uow) as stage:
        checks = errors.rows(request.rows, request.progress)
        stage.load(_checked(checks, unit_ids, uow.config))
        report = ImportReport(errors=errors.sorted(), header=request.header, config=uow.config)
        if errors and not request.skip_bad:
            return report
        with step(request.progress, WRITE, stage.count):
            _write(uow, report, stage, request.source)
    report.written = True
    uow.audit(
        "roster.import",
        target=request.source,
        detail={
            **report.counts(),
            "transferred": report.transferred,
            "exempt_set": report.exempt_set,
            "exempt_cleared": report.exempt_cleared,
            "source": request.source,
        },
    )
    uow.session.flush()
    return report


def _checked(
    checks: Iterable[RowCheck], unit_ids: Mapping[str, int], config: Config
) -> Iterator[StageRow]:
    """The rows that pass, as staged; the others leave their errors behind."""
    seen: dict[str, int] = {}
    scales = credit_scales(config)
    for check in checks:
        parsed = _parse_learner_row(check, unit_ids, seen, scales)
        if parsed is not None:
            yield parsed


def _merge(uow: UnitOfWork, stage: Stage) -> Merge:
    """The staged rows into the learners table, by account: an empty yes-no cell keeps the
    learner's value (a new learner: in service, not exempt); a credits column the file has sets
    the credits, an empty cell clearing them."""
    learners = SQLModel.metadata.tables[str(Learner.__tablename__)]
    s, t = stage.c, learners.c
    return Merge(
        stage,
        learners,
        key={"account": s.account},
        values={
            "name": s.name,
            "unit_id": s.unit_id,
            "in_service": sa.func.coalesce(s.in_service, t.in_service),
            "exempt": sa.func.coalesce(s.exempt, t.exempt),
            "required_credits": sa.case(
                (s.set_required, s.required_credits), else_=t.required_credits
            ),
            "total_credits": sa.case((s.set_total, s.total_credits), else_=t.total_credits),
        },
        new={
            "account": s.account,
            "name": s.name,
            "unit_id": s.unit_id,
            "in_service": sa.func.coalesce(s.in_service, sa.true()),
            "exempt": sa.func.coalesce(s.exempt, sa.false()),
            "required_credits": s.required_credits,
            "total_credits": s.total_credits,
        },
        stamp={"updated_at": uow.now},
        order=[s.row],
    )


def _write(uow: UnitOfWork, report: ImportReport, stage: Stage, source: str) -> None:
    """Count, audit each change of exemption state, then update and insert."""
    merge = _merge(uow, stage)
    s, t = stage.c, merge.target.c
    flipped = sa.and_(s.exempt.is_not(None), t.exempt != s.exempt)
    tally = merge.tally(transferred=t.unit_id != s.unit_id, flipped=flipped)
    report.created, report.updated = tally.created, tally.matched
    report.unchanged, report.transferred = tally.unchanged, tally.extra["transferred"]
    if tally.created or tally.extra["flipped"]:
        for row, account, exempt, was in uow.session.execute(_exempt_changes(merge, flipped)):
            _exempt_changed(uow, report, account, row, bool(exempt), was, source)
    merge.apply(tally)


def _exempt_changes(merge: Merge, flipped: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """The staged rows whose 免考 cell changes a learner's exemption state (``flipped``, for a
    learner on the roster; a new learner's when it comes in exempt), in the file's order."""
    s, t = merge.stage.c, merge.target.c
    new_exempt = sa.and_(t.id.is_(None), s.exempt.is_(True))
    return (
        sa.select(s.row, s.account, s.exempt, t.exempt)
        .select_from(merge.joined())
        .where(sa.or_(new_exempt, sa.and_(t.id.is_not(None), flipped)))
        .order_by(s.row)
    )


def _exempt_changed(
    uow: UnitOfWork,
    report: ImportReport,
    account: str,
    row: int,
    exempt: bool,
    was: bool | None,
    source: str,
) -> None:
    """One audit row per change of a learner's exemption state that the file brings (``was``:
    None for a learner new to the roster): the platform's state, taken as such."""
    if exempt:
        report.exempt_set += 1
    else:
        report.exempt_cleared += 1
    uow.audit(
        EXEMPT_ACTION,
        target=account,
        detail={
            "exempt": exempt,
            "was": None if was is None else bool(was),
            "source": source,
            "row": row,
        },
    )


def _parse_learner_row(
    check: RowCheck, unit_ids: Mapping[str, int], seen: dict[str, int], scales: Scales
) -> StageRow | None:
    account, name, unit = check.get("account"), check.get("name"), check.get("unit")
    if not account:
        check.error("account", "empty")
    elif not ACCOUNT_RE.fullmatch(account):
        check.error("account", "account_format", value=account)
    elif account in seen:
        check.error("account", "account_duplicate", account=account, first=seen[account])
    else:
        seen[account] = check.number
    check.text("name", required=True)
    if check.text("unit", required=True) and unit and unit not in unit_ids:
        check.error("unit", "unit_unknown", unit=unit)
    in_service, exempt = _flags(check)
    required, total = _credits(check, scales)
    if not check.ok:
        return None
    return (check.number, account, name, unit_ids[unit], in_service, exempt, *required, *total)


def _flags(check: RowCheck) -> tuple[bool | None, bool | None]:
    """The yes-no cells (in service, exempt): an empty one (None) keeps the current value (new
    learners: in service, not exempt); an empty credits cell, by contrast, clears the
    credits."""
    words = flag_words()
    in_service, exempt = (check.flag(key, words[key]) if check.get(key) else None for key in FLAGS)
    return in_service, exempt


Scales = dict[str, tuple[float, float]]
"""Per credits column: the campaign's requirement and the most a cell may hold."""


def credit_scales(config: Config) -> Scales:
    """The campaign's requirement per credits column, and ``study.max_credits_factor`` times it."""
    study = config.study
    scales = {"required_credits": study.required_credits, "total_credits": study.total_credits}
    return {key: (scale, study.max_credits_factor * scale) for key, scale in scales.items()}


Credits = tuple[bool, "float | None"]
"""A credits column as staged: whether the row sets it, and to what (None: cleared)."""


def _credits(check: RowCheck, scales: Scales) -> tuple[Credits, Credits]:
    """The credits columns the file has (an empty cell clears the learner's credits): numbers,
    not negative, within ``study.max_credits_factor`` times the campaign's requirement, 必修 within
    the row's 总学分."""
    found: list[Credits] = []
    for key in CREDITS:
        text = check.get(key)
        if not text:
            found.append((check.has(key), None))
            continue
        amount = check.amount(key)
        scale, limit = scales[key]
        if amount is not None and amount > limit:
            check.error(key, "credits_too_high", value=text, max=limit, scale=scale)
            amount = None
        found.append((amount is not None, amount))
    (_, required), (_, total) = found
    if required is not None and total is not None and required > total:
        check.error(
            "required_credits",
            "credits_above_total",
            value=check.get("required_credits"),
            total=check.get("total_credits"),
        )
    return found[0], found[1]
