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

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlmodel import Session, SQLModel, col, select

from bot.core.config import Config
from bot.core.tabular import ImportReport, ImportRequest, RowCheck, RowErrors, YesNo, load_data
from bot.core.tabular import table as table_of
from bot.core.uow import UnitOfWork
from bot.org.models import Unit
from bot.roster.learners import ACCOUNT_RE
from bot.roster.models import Learner

WORDS_FILE = Path(__file__).with_name("roster_import.toml")
FLAGS = ("in_service", "exempt")
CREDITS = ("required_credits", "total_credits")
CHUNK = 500  # accounts per IN (…) query
EXEMPT_ACTION = "roster.exempt_from_roster"


@cache
def flag_words() -> dict[str, YesNo]:
    """Each yes-no column's words, from ``roster_import.toml`` and the pipeline's own."""
    data = load_data(WORDS_FILE)
    return {key: YesNo.with_words(data[key]["true"], data[key]["false"]) for key in FLAGS}


@dataclass
class _LearnerRow:
    number: int
    account: str
    name: str
    unit_code: str
    flags: dict[str, bool]  # only the yes-no columns filled in the row
    credits: dict[str, float | None]  # only the credits columns present in the file


def import_roster(uow: UnitOfWork, request: ImportRequest) -> ImportReport:
    """Create or update learners by account. A changed unit is a transfer and a changed 免考
    cell a change of exemption state, each as the file shows it (the platform's export is the
    truth; see the module's docstring); passwords are never touched; learners missing from the
    file stay."""
    session = uow.session
    errors = RowErrors(table_of("roster"))
    unit_ids: dict[str, int] = {
        code: unit_id
        for code, unit_id in session.exec(select(Unit.code, Unit.id))
        if unit_id is not None
    }
    good: dict[str, _LearnerRow] = {}
    seen: dict[str, int] = {}
    for check in errors.rows(request.rows):
        parsed = _parse_learner_row(check, unit_ids, seen, uow.config)
        if parsed is not None:
            good[parsed.account] = parsed

    report = ImportReport(errors=errors.sorted(), header=request.header, config=uow.config)
    if errors and not request.skip_bad:
        return report
    _write(uow, report, good, unit_ids, request.source)
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


FIELDS = ("name", "unit_id", "in_service", "exempt", "required_credits", "total_credits")


def _write(
    uow: UnitOfWork,
    report: ImportReport,
    good: dict[str, _LearnerRow],
    unit_ids: Mapping[str, int],
    source: str,
) -> None:
    """Insert the new learners and update the changed ones in bulk (one executemany each),
    reading the current roster as plain rows: a whole city's file is one pass, not 150,000
    ORM objects."""
    session, now = uow.session, uow.now
    found = _current(session, list(good))
    inserts: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for item in sorted(good.values(), key=lambda r: r.number):
        wanted = {"name": item.name, "unit_id": unit_ids[item.unit_code], **item.credits}
        current = found.get(item.account)
        if current is None:
            inserts.append(
                {
                    "account": item.account,
                    "in_service": item.flags.get("in_service", True),
                    "exempt": item.flags.get("exempt", False),
                    "required_credits": None,
                    "total_credits": None,
                    **wanted,
                    "updated_at": now,
                }
            )
            report.created += 1
            if inserts[-1]["exempt"]:
                _exempt_changed(uow, report, item, None, source)
            continue
        report.updated += 1
        wanted |= item.flags
        changed = {k: v for k, v in wanted.items() if current[k] != v}
        if not changed:
            report.unchanged += 1
            continue
        if "unit_id" in changed:
            report.transferred += 1
        if "exempt" in changed:
            _exempt_changed(uow, report, item, current["exempt"], source)
        updates.append({**current, **changed, "updated_at": now})
    table = SQLModel.metadata.tables[str(Learner.__tablename__)]
    if inserts:
        session.execute(insert(table), inserts)  # Core executemany: no ORM objects
    if updates:
        by_id = update(table).where(table.c.id == bindparam("learner_id"))
        session.execute(
            by_id.values({f: bindparam(f) for f in (*FIELDS, "updated_at")}),
            [{**row, "learner_id": row.pop("id")} for row in updates],
        )


def _current(session: Session, accounts: list[str]) -> dict[str, dict[str, Any]]:
    """The learners already on the roster among ``accounts``: id and fields, by account."""
    columns = [col(Learner.id), col(Learner.account), *(getattr(Learner, f) for f in FIELDS)]
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(accounts), CHUNK):
        chunk = accounts[start : start + CHUNK]
        query = select(*columns).where(col(Learner.account).in_(chunk))
        for row in session.execute(query).mappings():
            found[row["account"]] = {key: row[key] for key in ("id", *FIELDS)}
    return found


def _exempt_changed(
    uow: UnitOfWork, report: ImportReport, item: _LearnerRow, was: bool | None, source: str
) -> None:
    """One audit row per change of a learner's exemption state that the file brings (``was``:
    None for a learner new to the roster): the platform's state, taken as such."""
    exempt = item.flags["exempt"]
    if exempt:
        report.exempt_set += 1
    else:
        report.exempt_cleared += 1
    uow.audit(
        EXEMPT_ACTION,
        target=item.account,
        detail={"exempt": exempt, "was": was, "source": source, "row": item.number},
    )


def _parse_learner_row(
    check: RowCheck, unit_ids: Mapping[str, int], seen: dict[str, int], config: Config
) -> _LearnerRow | None:
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
    flags = _flags(check)
    credits = _credits(check, config)
    if not check.ok:
        return None
    return _LearnerRow(check.number, account, name, unit, flags, credits)


def _flags(check: RowCheck) -> dict[str, bool]:
    """The filled yes-no cells: an empty one keeps the current value (new learners: in
    service, not exempt); an empty credits cell, by contrast, clears the credits."""
    flags: dict[str, bool] = {}
    for key in FLAGS:
        if check.get(key):
            flag = check.flag(key, flag_words()[key])
            if flag is not None:
                flags[key] = flag
    return flags


def _credits(check: RowCheck, config: Config) -> dict[str, float | None]:
    """The credits columns the file has (an empty cell clears the learner's credits): numbers,
    not negative, within ``study.max_credits_factor`` times the campaign's requirement, 必修 within
    the row's 总学分."""
    scale = {
        "required_credits": config.study.required_credits,
        "total_credits": config.study.total_credits,
    }
    credits: dict[str, float | None] = {}
    for key in CREDITS:
        if not check.has(key):
            continue
        if not check.get(key):
            credits[key] = None
            continue
        amount = check.amount(key)
        limit = config.study.max_credits_factor * scale[key]
        if amount is not None and amount > limit:
            check.error(key, "credits_too_high", value=check.get(key), max=limit, scale=scale[key])
        elif amount is not None:
            credits[key] = amount
    required, total = credits.get("required_credits"), credits.get("total_credits")
    if required is not None and total is not None and required > total:
        check.error(
            "required_credits",
            "credits_above_total",
            value=check.get("required_credits"),
            total=check.get("total_credits"),
        )
    return credits
