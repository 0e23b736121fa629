"""What the city office does on the server, done from the sandbox's prompt: issue an invite code
(``python -m bot invite``) and import a units, roster or results file (``python -m bot units |
roster | results import FILE``). The same services as the command line, as the server's operator
(``Origin.cli``); the answers are the command line's, as plain text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.context import AppContext
from bot.core import tabular
from bot.core.errors import Refused
from bot.core.render import render, strip_html
from bot.core.tabular import ImportReport, ImportRequest
from bot.core.uow import Origin, UnitOfWork
from bot.org import invites
from bot.org.units_import import import_units
from bot.results import unfiled
from bot.results.importer import import_results
from bot.roster.roster_import import import_roster

ORIGIN = "sandbox"
SKIP_BAD = "--skip-bad"


@dataclass(frozen=True)
class Issued:
    code: str
    unit_name: str


def issue_invite(ctx: AppContext, unit: str, role: str) -> Issued:
    """An invite code for ``unit`` (a code or a full name) and ``role``; Refused as the bot
    refuses it."""
    request = invites.InviteRequest(unit_code=unit, role=role)
    issued = ctx.run_sync(lambda uow: invites.issue_invite(uow, request), Origin.cli(ORIGIN))
    return Issued(issued.code, issued.unit_name)


def refusal_text(ctx: AppContext, refusal: Refused) -> str:
    return strip_html(refusal.render(c=ctx.config))


def _roster(uow: UnitOfWork, request: ImportRequest) -> ImportReport:
    """The roster, and then (as ``python -m bot roster import`` reports) how many learners the
    platform shows exempt with no exemption on file."""
    report = import_roster(uow, request)
    if report.written:
        report.exempt_unfiled = unfiled.count_unfiled(uow.session)
    return report


SERVICES = {"units": import_units, "roster": _roster, "results": import_results}


def import_file(ctx: AppContext, kind: str, path_text: str) -> str | None:
    """Import the file at ``path_text`` (``--skip-bad`` after it: import the good rows) as a
    ``kind`` table; the report as the command line prints it. None: no such kind or file."""
    skip_bad = path_text.endswith(SKIP_BAD)
    path = Path(path_text.removesuffix(SKIP_BAD).strip()).expanduser()
    service = SERVICES.get(kind)
    if service is None or not path.is_file():
        return None
    try:
        rows = tabular.read_table(path, kind)
    except tabular.ImportFileError as exc:
        return strip_html(render("import_file_refused", e=exc))
    request = ImportRequest(rows, skip_bad=skip_bad, source=path.name)
    report = ctx.run_sync(lambda uow: service(uow, request), Origin.cli(ORIGIN))
    return report.render().strip()
