"""The command line: ``python -m bot run | sandbox | ...``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys

from bot.cli.common import open_context
from bot.core import words
from bot.core.config import ConfigError, load_config
from bot.core.logging_setup import setup_logging

log = logging.getLogger("bot")


def _words(section: str) -> dict[str, str]:
    """The shell's command-line words (cli.toml)."""
    return words.beside(__file__, "cli.toml")[section]


def cmd_run(args: argparse.Namespace) -> int:
    config = load_config(args.config)  # a bad config.toml: exit 2 before the bot is loaded
    from bot.serve import run, serving_from

    # The settings are checked before the database is touched: a missing token or webhook
    # secret is a one-line error and exit code 2.
    serving = serving_from(config)
    # The unit mapping waits until the bot polls (bot.app): serving does not need it.
    return run(open_context(args, config=config, map_units=False), serving)


def cmd_sandbox(args: argparse.Namespace) -> int:
    load_config(args.config)  # a bad config.toml: exit 2 before the bot is loaded
    from bot.sandbox.runner import SANDBOX_DATABASE, run_sandbox

    # The sandbox keeps its own database, so trying things out never touches real data.
    ctx = open_context(args, db_url=os.environ.get("SANDBOX_DATABASE_URL") or SANDBOX_DATABASE)
    try:
        return asyncio.run(run_sandbox(ctx))
    except KeyboardInterrupt:
        return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(_words("main")["config_ok"].format(title=config.campaign.title))
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    """``units import`` / ``roster import``: 0 all written, 1 rows refused, 2 file refused
    (``bot.cli.common.run_import``: a progress line on stderr for a long file)."""
    from bot.cli.common import run_import
    from bot.cli.roster import import_roster_checked
    from bot.core.render import render
    from bot.org.units_import import import_units

    def refused(error: Exception) -> None:
        print(render("import_file_refused", e=error), file=sys.stderr)

    if args.command == "units":
        return run_import(args, "units", import_units, refused)
    return run_import(args, "roster", import_roster_checked, refused)


def _cmd_units_list(args: argparse.Namespace) -> int:
    """``units list [--match TEXT]``: the unit tree's codes, names, kinds and parents."""
    from bot.cli.common import say
    from bot.core.uow import Origin
    from bot.org.directory import list_units

    ctx = open_context(args)
    try:
        listing = ctx.run_sync(lambda uow: list_units(uow, args.match), Origin.cli())
    finally:
        ctx.db.dispose()
    print(say(ctx, "units_found", listing=listing))
    return 0 if listing.entries else 1


def _add_import_commands(sub: argparse._SubParsersAction, wanted: str | None) -> None:
    say = _words("import")
    for name in ("units", "roster"):
        what = say[name]
        group = sub.add_parser(name, help=say["manage"].format(what=what))
        actions = group.add_subparsers(dest="action", required=True)
        action = actions.add_parser("import", help=say["action"].format(what=what))
        action.add_argument("file", metavar="FILE", help=say["file"])
        action.add_argument("--skip-bad", action="store_true", help=say["skip_bad"])
        action.set_defaults(func=_cmd_import)
        if name == "roster" and wanted in (None, "roster"):
            from bot.cli.roster import add_unfiled_command

            add_unfiled_command(actions, say)
        if name == "units":
            listing = actions.add_parser("list", help=say["list"])
            listing.add_argument("--match", default="", metavar="TEXT", help=say["match"])
            listing.set_defaults(func=_cmd_units_list)


# Feature modules that add sub-commands (each has ``add_commands(sub)``), with the commands
# each adds: a command line imports only the module of its command, so ``check-config`` or
# ``units list`` does not load the workbooks, the reports and the platform queue.
FEATURE_CLIS: dict[str, tuple[str, ...]] = {
    "bot.cli.admin": ("invite", "admin", "audit"),
    "bot.cli.bank": ("questions",),
    "bot.cli.reports": ("status", "export"),
    "bot.cli.results": ("results",),
    "bot.cli.platform": ("platform",),
}


VALUE_OPTIONS = ("--config", "--log-level", "--now")  # the main options that take a value


def _command_in(argv: list[str]) -> str | None:
    """The sub-command named on the command line (None: asks for help, or names none)."""
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help"):
            return None
        if word in VALUE_OPTIONS:
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole parser; for a known ``argv``, only the sub-commands it can need."""
    say = _words("main")
    parser = argparse.ArgumentParser(prog="python -m bot", description=say["description"])
    parser.add_argument("--config", help=say["config"])
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    parser.add_argument("--now", help=say["now"])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help=say["run"]).set_defaults(func=cmd_run)
    sub.add_parser("sandbox", help=say["sandbox"]).set_defaults(func=cmd_sandbox)
    sub.add_parser("check-config", help=say["check_config"]).set_defaults(func=cmd_check_config)
    wanted = _command_in(argv) if argv is not None else None
    _add_import_commands(sub, wanted)
    named = {c for commands in FEATURE_CLIS.values() for c in commands} | set(sub.choices)
    for module, commands in FEATURE_CLIS.items():
        if wanted is None or wanted in commands or wanted not in named:
            importlib.import_module(module).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser(sys.argv[1:] if argv is None else argv).parse_args(argv)
    quiet = args.command == "sandbox"
    setup_logging("WARNING" if quiet else args.log_level.upper())
    try:
        return args.func(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
