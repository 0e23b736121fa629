"""The roster on the server, beyond the import shared with the unit tree (``bot.cli``):
``python -m bot roster import FILE`` counts, after writing, the learners exempt on the platform
with no exemption on file; ``python -m bot roster unfiled [--limit N]`` lists them for the city
office's spot-check (notice 三)."""

from __future__ import annotations

import argparse

from bot.cli.common import open_context, say
from bot.core.tabular import ImportReport, ImportRequest
from bot.core.uow import Origin, UnitOfWork
from bot.results import unfiled
from bot.roster.roster_import import import_roster


def import_roster_checked(uow: UnitOfWork, request: ImportRequest) -> ImportReport:
    """Import the roster; once written, count the learners the platform shows exempt with no
    filing on file (in the same transaction, so the count is the file's outcome)."""
    report = import_roster(uow, request)
    if report.written:
        report.exempt_unfiled = unfiled.count_unfiled(uow.session)
    return report


def cmd_unfiled(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    try:
        listing = ctx.run_sync(
            lambda uow: unfiled.list_unfiled(uow, limit=args.limit), Origin.cli()
        )
    finally:
        ctx.db.dispose()
    print(say(ctx, "exempt_unfiled", u=listing))
    return 0


def add_unfiled_command(actions: argparse._SubParsersAction, words: dict[str, str]) -> None:
    """``roster unfiled`` under the roster's commands."""
    listing = actions.add_parser("unfiled", help=words["unfiled"])
    listing.add_argument(
        "--limit", type=int, default=unfiled.LIST_LIMIT, metavar="N", help=words["unfiled_limit"]
    )
    listing.set_defaults(func=cmd_unfiled)
