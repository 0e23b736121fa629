"""The city office's overview on the server: ``python -m bot status`` and ``python -m bot export``."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from bot.core.render import render, strip_html
from bot.overview import export
from bot.overview import status as reports


def _ctx(args: argparse.Namespace):
    from bot.cli.common import open_context

    return open_context(args)


def _now(ctx, args: argparse.Namespace) -> dt.datetime | None:
    """``--now`` (ISO 8601, campaign timezone when naive) or the context's clock; None if bad."""
    text = getattr(args, "now", None)
    if not text:
        return ctx.now()
    try:
        return ctx.clock.localize(dt.datetime.fromisoformat(text))
    except ValueError:
        print(f"--now 格式不对 / bad --now: {text!r} (ISO 8601)", file=sys.stderr)
        return None


def cmd_status(args: argparse.Namespace) -> int:
    ctx = _ctx(args)
    try:
        now = _now(ctx, args)
        if now is None:
            return 2
        with ctx.db.session() as session:
            result = reports.status(session, ctx.config, now)
    finally:
        ctx.db.dispose()
    if args.json:
        print(result.to_json(indent=2))
    else:
        print(strip_html(render("status", c=ctx.config, now=now, r=result)))
    return 0


def xlsx_target_error(path: Path) -> str | None:
    """Why ``path`` cannot take an XLSX export, or None when it can."""
    if path.suffix.lower() != ".xlsx":
        return f"文件名须以 .xlsx 结尾 / FILE must end in .xlsx: {path}"
    if not path.parent.is_dir():
        return f"目录不存在 / no such directory: {path.parent}"
    return None


def cmd_export(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if error := xlsx_target_error(path):
        print(error, file=sys.stderr)
        return 2
    ctx = _ctx(args)
    try:
        now = _now(ctx, args)
        if now is None:
            return 2
        with ctx.db.session() as session:
            size = export.write_registrations_xlsx(session, ctx.config, path, now=now)
            rows = export.count_registrations(session)
    finally:
        ctx.db.dispose()
    print(f"已写入 {path}（{size} 字节，报名 {rows} 条）/ wrote {path} ({size} bytes, {rows} rows)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    # SUPPRESS: a top-level ``--now`` (if the main parser has one) is not overwritten by None.
    status = sub.add_parser("status", help="报名总览（各轮报名、集中考试、补考、县市区安排）")
    status.add_argument("--json", action="store_true", help="输出 JSON")
    status.add_argument(
        "--now", default=argparse.SUPPRESS, help="按这个时间统计（ISO 8601），例如 2022-09-14T10:00"
    )
    status.set_defaults(func=cmd_status)

    xlsx = sub.add_parser("export", help="导出报名汇总 Excel（.xlsx）")
    xlsx.add_argument("file", metavar="FILE", help="要写入的 .xlsx 文件")
    xlsx.add_argument("--now", default=argparse.SUPPRESS, help="按这个时间统计（ISO 8601）")
    xlsx.set_defaults(func=cmd_export)
