"""``python -m reminders list --json [--now ISO8601]``: the upcoming reminders, as the bot would
send them at their time (text rendered then, tags stripped), one JSON object per line. Its words
are in ``cli.toml``."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from bot.core import words
from bot.core.clock import Clock
from bot.core.config import ConfigError, load_config
from bot.core.logging_setup import setup_logging
from bot.core.render import strip_html
from bot.core.uow import Origin
from reminders import messages, store
from reminders.messages import Preview

WORDS_PATH = Path(__file__).resolve().parent / "cli.toml"
WORDS: dict[str, Any] = words.load(WORDS_PATH)


def _as_dict(item: Preview) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "id": item.id,
        "fire_at": item.fire_at.isoformat(),
        "kind": item.kind,
        "text": strip_html(item.text),
    }
    if item.paused:
        shown["paused"] = True
    return shown


def _as_line(item: Preview) -> str:
    paused = WORDS["list"]["paused_mark"] if item.paused else ""
    text = strip_html(item.text)
    first = text.splitlines()[0] if text else ""
    return f"{item.fire_at:%Y-%m-%d %H:%M}  {item.id}{paused}  {first}"


def cmd_list(args: argparse.Namespace) -> int:
    from bot.context import create_context  # the composition root: the shell's, not ours

    config = load_config(args.config)
    clock = Clock(config.tz)
    if args.now:
        try:
            clock.freeze(dt.datetime.fromisoformat(args.now))
        except ValueError:
            print(WORDS["bad_now"].format(value=args.now), file=sys.stderr)
            return 2
    ctx = create_context(config, clock=clock)
    try:
        ctx.run_sync(store.sync_calendar, Origin.cli())
        items = ctx.run_sync(
            lambda uow: messages.preview_upcoming(
                uow, limit=args.limit, include_paused=args.paused
            ),
            Origin.cli(),
        )
    finally:
        ctx.db.dispose()
    for item in items:
        print(json.dumps(_as_dict(item), ensure_ascii=False) if args.json else _as_line(item))
    return 0


def build_parser() -> argparse.ArgumentParser:
    words = WORDS["list"]
    parser = argparse.ArgumentParser(prog="python -m reminders", description=WORDS["description"])
    parser.add_argument("--config", help=WORDS["config"])
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help=words["help"])
    listing.add_argument("--json", action="store_true", help=words["json"])
    listing.add_argument("--now", help=words["now"])
    listing.add_argument("--limit", type=int, default=None, help=words["limit"])
    listing.add_argument("--paused", action="store_true", help=words["paused"])
    listing.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging("WARNING")
    try:
        result: int = args.func(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    return result


if __name__ == "__main__":
    sys.exit(main())
