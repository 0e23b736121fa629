"""The operator's queue on the server: ``python -m bot platform tasks [--all] [--export
FILE.xlsx]`` lists (and exports) the tasks to carry out on the platform; ``python -m bot platform
done ID…`` and ``failed ID… --reason …`` mark them in bulk.

The command line acts as the operator (its units of work have no administrator). It only
records: the running bot's worker tells each requester, once (the notice claim works across
processes). Help texts are in ``bot/platform/cli.toml``; what is printed comes from
``bot/platform/templates/platform_cli_*.j2``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlmodel import col, select

from bot.cli.common import open_context, say
from bot.cli.reports import xlsx_target_error
from bot.context import AppContext
from bot.core import words as data
from bot.core.errors import Refused
from bot.core.render import strip_html
from bot.core.uow import Origin, UnitOfWork
from bot.effects import EFFECTS
from bot.platform import queue
from bot.platform.operator import OperatorGateway
from bot.platform.queue_export import write_queue_xlsx
from bot.platform.tasks import TaskView
from bot.roster.models import Learner

ORIGIN = Origin.cli("cli")


def words() -> dict[str, Any]:
    """The help texts of these commands (bot/platform/cli.toml)."""
    return data.of("bot.platform", "cli.toml")["platform"]


def learner_names(uow: UnitOfWork, accounts: Collection[str]) -> Mapping[str, str]:
    """Learners' names by account, from the roster (for the operator's table and workbook)."""
    if not accounts:
        return {}
    rows = uow.session.exec(
        select(Learner.account, Learner.name).where(col(Learner.account).in_(list(accounts)))
    )
    return dict(rows.all())


def operator_mode(ctx: AppContext) -> bool:
    """Whether the configured gateway leaves tasks to a person (``[platform] gateway``)."""
    return ctx.config.platform.gateway == OperatorGateway.name


def cmd_tasks(args: argparse.Namespace) -> int:
    target = Path(args.export) if args.export else None
    if target is not None and (error := xlsx_target_error(target)):
        print(error, file=sys.stderr)
        return 2
    ctx = open_context(args)
    try:
        items = ctx.run_sync(
            lambda uow: queue.queue(
                uow, include_finished=args.include_finished, names=learner_names
            ),
            ORIGIN,
        )
        print(
            say(
                ctx,
                "platform_cli_tasks",
                items=items,
                include_finished=args.include_finished,
                operator_mode=operator_mode(ctx),
            )
        )
        if target is not None:
            write_queue_xlsx(items, ctx.config, target)
            print(target, file=sys.stderr)
    finally:
        ctx.db.dispose()
    return 0


@dataclass(frozen=True)
class Marked:
    """What became of one id given on the command line."""

    given: str
    task: TaskView | None = None
    refusal: str = ""


def _mark_one(ctx: AppContext, request: queue.MarkRequest) -> Marked:
    try:
        done = ctx.run_sync(lambda uow: queue.mark(uow, request, EFFECTS), ORIGIN)
    except Refused as refusal:
        return Marked(request.task_id, refusal=strip_html(refusal.render(c=ctx.config)))
    return Marked(request.task_id, task=done)


def cmd_mark(args: argparse.Namespace) -> int:
    """Each id in its own unit of work: unknown or finished ids are reported, the rest marked.
    0 when every id was marked, 1 otherwise."""
    ctx = open_context(args)
    mode = operator_mode(ctx)
    try:
        rows = [
            _mark_one(
                ctx,
                queue.MarkRequest(
                    task_id, applied=args.applied, reason=args.reason, operator_mode=mode
                ),
            )
            for task_id in dict.fromkeys(args.ids)
        ]
    finally:
        ctx.db.dispose()
    print(say(ctx, "platform_cli_marked", rows=rows))
    return 0 if all(row.task is not None for row in rows) else 1


def add_commands(sub: argparse._SubParsersAction) -> None:
    text = words()
    platform = sub.add_parser("platform", help=text["help"])
    actions = platform.add_subparsers(dest="platform_command", required=True)

    tasks = actions.add_parser("tasks", help=text["tasks"]["help"])
    tasks.add_argument(
        "--all", dest="include_finished", action="store_true", help=text["tasks"]["all"]
    )
    tasks.add_argument("--export", metavar="FILE.xlsx", help=text["tasks"]["export"])
    tasks.set_defaults(func=cmd_tasks)

    for name, applied in (("done", True), ("failed", False)):
        words_of = text[name]
        action = actions.add_parser(name, help=words_of["help"])
        action.add_argument("ids", nargs="+", metavar="ID", help=words_of["ids"])
        action.add_argument("--reason", required=not applied, default="", help=words_of["reason"])
        action.set_defaults(func=cmd_mark, applied=applied)
