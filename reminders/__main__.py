"""``python -m reminders list --json [--now ISO8601]``: the upcoming reminders, as the bot would
send them at their time (text rendered then, tags stripped), one JSON object per line."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.core.config import ConfigError, load_config
from bot.core.logging_setup import setup_logging
from bot.core.render import strip_html


def _now(ctx, text: str | None) -> dt.datetime:
    if not text:
        return ctx.clock.now()
    return ctx.clock.localize(dt.datetime.fromisoformat(text))


def cmd_list(args: argparse.Namespace) -> int:
    from bot.context import create_context
    from reminders import service

    config = load_config(args.config)
    ctx = create_context(config)
    try:
        try:
            now = _now(ctx, args.now)
        except ValueError:
            print(
                f"--now 需要 ISO 8601 时间，例如 2022-09-12T08:00；收到 {args.now!r}",
                file=sys.stderr,
            )
            return 2
        with ctx.db.session() as session:
            service.sync_calendar(session, config, now)
        with ctx.db.session() as session:
            rows = service.upcoming(session, now, limit=args.limit, include_paused=args.paused)
            items = []
            for row in rows:
                text, _ = service.render_text(session, config, row, row.fire_at)
                items.append(
                    {
                        "id": row.id,
                        "fire_at": row.fire_at.astimezone(config.tz).isoformat(),
                        "kind": row.kind,
                        "text": strip_html(text),
                        **({"paused": True} if row.paused else {}),
                    }
                )
    finally:
        ctx.db.dispose()
    for item in items:
        if args.json:
            print(json.dumps(item, ensure_ascii=False))
        else:
            when = dt.datetime.fromisoformat(item["fire_at"]).strftime("%Y-%m-%d %H:%M")
            paused = "（已暂停）" if item.get("paused") else ""
            first = item["text"].splitlines()[0] if item["text"] else ""
            print(f"{when}  {item['id']}{paused}  {first}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m reminders", description="截止日期提醒")
    parser.add_argument("--config", help="config.toml 路径（默认仓库根目录的 config.toml）")
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="列出接下来的提醒")
    listing.add_argument("--json", action="store_true", help="每行一个 JSON 对象")
    listing.add_argument("--now", help="从这个时间起算（ISO 8601，默认当前时间）")
    listing.add_argument("--limit", type=int, default=None, help="最多列出几条")
    listing.add_argument("--paused", action="store_true", help="也列出已暂停的提醒")
    listing.set_defaults(func=cmd_list)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    setup_logging("WARNING")
    try:
        return args.func(args)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
