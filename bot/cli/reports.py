"""The city office's overview on the server: ``python -m bot status`` and ``python -m bot export``.

The operator on the server acts as the city office (``Origin.cli``); ``--now`` moves the clock
(``bot.cli.common.open_context``). Help texts are in ``bot/overview/cli.toml``; what is printed
comes from ``bot/overview/templates``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bot.cli.common import open_context, say
from bot.context import AppContext
from bot.core import rounds
from bot.core import words as data
from bot.core.render import render, strip_html
from bot.core.uow import Origin
from bot.overview import export
from bot.overview import status as reports


def words() -> dict[str, Any]:
    """The help texts of these commands (bot/overview/cli.toml)."""
    return data.of("bot.overview", "cli.toml")


def _with_round_names(ctx: AppContext, data: dict[str, Any]) -> dict[str, Any]:
    """The JSON names each round as the messages do."""
    for item in [*data["rounds"], data["makeup"]]:
        item["name"] = rounds.name(ctx.config, item["key"])
    return data


def cmd_status(args: argparse.Namespace) -> int:
    ctx = open_context(args)
    try:
        result = ctx.run_sync(reports.report, Origin.cli())
    finally:
        ctx.db.dispose()
    if args.json:
        print(json.dumps(_with_round_names(ctx, result.to_dict()), ensure_ascii=False, indent=2))
    else:
        print(say(ctx, "status", now=result.now, r=result))
    return 0


def xlsx_target_error(path: Path) -> str | None:
    """Why ``path`` cannot take an XLSX export, or None when it can."""
    if path.suffix.lower() != ".xlsx":
        problem = "suffix"
    elif not path.parent.is_dir():
        problem = "directory"
    else:
        return None
    return strip_html(render("overview_cli_target", problem=problem, path=path))


def cmd_export(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if error := xlsx_target_error(path):
        print(error, file=sys.stderr)
        return 2
    ctx = open_context(args)
    try:
        done = ctx.run_sync(lambda uow: export.write_registrations_xlsx(uow, path), Origin.cli())
    finally:
        ctx.db.dispose()
    print(say(ctx, "overview_cli_exported", path=path, done=done))
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    # SUPPRESS: a top-level ``--now`` (if the main parser has one) is not overwritten by None.
    text = words()
    status = sub.add_parser("status", help=text["status"]["help"])
    status.add_argument("--json", action="store_true", help=text["status"]["json"])
    status.add_argument("--now", default=argparse.SUPPRESS, help=text["status"]["now"])
    status.set_defaults(func=cmd_status)

    xlsx = sub.add_parser("export", help=text["export"]["help"])
    xlsx.add_argument("file", metavar="FILE", help=text["export"]["file"])
    xlsx.add_argument("--now", default=argparse.SUPPRESS, help=text["export"]["now"])
    xlsx.set_defaults(func=cmd_export)
