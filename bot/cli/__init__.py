"""The command line: ``python -m bot run | sandbox | ...``."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import os
import sys

from bot.cli.common import open_context
from bot.core.config import ConfigError, load_config
from bot.core.logging_setup import setup_logging

log = logging.getLogger("bot")


def cmd_run(args: argparse.Namespace) -> int:
    from bot.serve import run, serving_from

    # The settings are checked before the database is touched: a missing token or webhook
    # secret is a one-line error and exit code 2.
    serving = serving_from(load_config(args.config))
    return run(open_context(args), serving)


def cmd_sandbox(args: argparse.Namespace) -> int:
    from bot.sandbox.runner import SANDBOX_DATABASE, run_sandbox

    # The sandbox keeps its own database, so trying things out never touches real data.
    ctx = open_context(args, db_url=os.environ.get("SANDBOX_DATABASE_URL") or SANDBOX_DATABASE)
    try:
        return asyncio.run(run_sandbox(ctx))
    except KeyboardInterrupt:
        return 0


def cmd_check_config(args: argparse.Namespace) -> int:
    config = load_config(args.config)
    print(f"配置正确 config OK: {config.campaign.title}")
    return 0


def _cmd_import(args: argparse.Namespace) -> int:
    """``units import`` / ``roster import``: 0 all written, 1 rows refused, 2 file refused."""
    from pathlib import Path

    from bot.core import tabular as imports
    from bot.org.units_import import import_units
    from bot.roster.roster_import import import_roster

    table = "units" if args.command == "units" else "roster"
    service = import_units if table == "units" else import_roster
    try:
        rows = imports.read_table(args.file, table)
    except imports.ImportFileError as exc:
        print(f"无法导入：{exc}", file=sys.stderr)
        return 2
    ctx = open_context(args)
    try:
        with ctx.db.session() as session:
            report = service(
                session, rows, now=ctx.now(), skip_bad=args.skip_bad, source=Path(args.file).name
            )
    finally:
        ctx.db.dispose()
    print(report.render())
    return 0 if report.written and not report.errors else 1


def _add_import_commands(sub) -> None:
    for name, help_text in (("units", "单位树"), ("roster", "学员名单")):
        group = sub.add_parser(name, help=f"{help_text}管理")
        actions = group.add_subparsers(dest="action", required=True)
        action = actions.add_parser("import", help=f"从 .xlsx / .csv 导入{help_text}")
        action.add_argument("file", metavar="FILE", help=".xlsx 或 .csv 文件")
        action.add_argument(
            "--skip-bad", action="store_true", help="跳过有错误的行，导入其余的行（默认整份拒绝）"
        )
        action.set_defaults(func=_cmd_import)


# Feature modules that add sub-commands: each has ``add_commands(sub)``.
FEATURE_CLIS = ("bot.cli.admin", "bot.cli.bank", "bot.cli.reports", "bot.cli.results")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bot", description="学法考法管理员助手")
    parser.add_argument(
        "--config", help="config.toml 路径（默认仓库根目录的 config.toml，或 CONFIG_PATH）"
    )
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "INFO"))
    parser.add_argument(
        "--now", help="从这个时间开始计时（ISO 8601，用于演示和测试），例如 2022-09-14T10:00"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="连接 Telegram 服务（需要 TELEGRAM_BOT_TOKEN）").set_defaults(
        func=cmd_run
    )
    sub.add_parser("sandbox", help="离线沙盒：在终端里和机器人对话").set_defaults(func=cmd_sandbox)
    sub.add_parser("check-config", help="检查 config.toml").set_defaults(func=cmd_check_config)
    _add_import_commands(sub)
    for module in FEATURE_CLIS:
        importlib.import_module(module).add_commands(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    quiet = args.command == "sandbox"
    setup_logging("WARNING" if quiet else args.log_level.upper())
    try:
        return args.func(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
