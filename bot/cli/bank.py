"""The question bank on the server: ``questions template FILE.xlsx`` writes the template,
``questions export FILE.xlsx`` writes the merged bank of every department's current file."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from bot.bank import workbooks
from bot.bank.words import words
from bot.cli.common import open_context
from bot.core.config import load_config
from bot.core.render import render, strip_html
from bot.core.uow import Origin


def _say(template: str, *, error: bool = False, **variables: Any) -> None:
    """Print a template as plain text (to stderr for an error)."""
    print(strip_html(render(template, **variables)), file=sys.stderr if error else sys.stdout)


def _is_xlsx(path: str) -> bool:
    if path.lower().endswith(".xlsx"):
        return True
    _say("bank_cli_not_xlsx", error=True, path=path)
    return False


def cmd_template(args: argparse.Namespace) -> int:
    if not _is_xlsx(args.file):
        return 2
    config = load_config(args.config)
    path = workbooks.write_template(args.file, config)
    _say("bank_cli_template", c=config, path=path)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if not _is_xlsx(args.file):
        return 2
    ctx = open_context(args)
    try:
        summary = ctx.run_sync(
            lambda uow: workbooks.export(uow, Path(args.file)), Origin.cli("cli")
        )
    finally:
        ctx.db.dispose()
    _say("bank_cli_export", c=ctx.config, s=summary)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    help_text = words().cli
    group = sub.add_parser("questions", help=help_text["group"])
    actions = group.add_subparsers(dest="questions_command", required=True)
    template = actions.add_parser("template", help=help_text["template"])
    template.add_argument("file", metavar="FILE.xlsx")
    template.set_defaults(func=cmd_template)
    export = actions.add_parser("export", help=help_text["export"])
    export.add_argument("file", metavar="FILE.xlsx")
    export.set_defaults(func=cmd_export)
