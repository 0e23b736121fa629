"""Exam results on the server: ``python -m bot results import FILE [--skip-bad]``,
``python -m bot results show`` and ``python -m bot results export FILE.xlsx``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.core.render import render, strip_html
from bot.results import export as results_export
from bot.results import importer
from bot.results import service as results


def _ctx(args: argparse.Namespace):
    from bot.cli.common import open_context

    return open_context(args)


def cmd_import(args: argparse.Namespace) -> int:
    """0 all written, 1 rows refused (or skipped), 2 the file refused."""
    from bot.core import tabular as imports

    try:
        rows = imports.read_table(args.file, "results")
    except imports.ImportFileError as exc:
        print(f"无法导入：{exc}", file=sys.stderr)
        return 2
    ctx = _ctx(args)
    try:
        with ctx.db.session() as session:
            report = importer.import_results(
                session,
                ctx.config,
                rows,
                now=ctx.now(),
                skip_bad=args.skip_bad,
                source=Path(args.file).name,
            )
    finally:
        ctx.db.dispose()
    print(report.render())
    return 0 if report.written and not report.errors else 1


def cmd_show(args: argparse.Namespace) -> int:
    ctx = _ctx(args)
    try:
        with ctx.db.session() as session:
            report = results.rates(session, ctx.config, ctx.now())
    finally:
        ctx.db.dispose()
    view = results.city_view(report, limit=args.limit)
    after = report.has_makeup
    text = render(
        "results",
        c=ctx.config,
        now=ctx.now(),
        v=view,
        table=results.text_table(view.rows, after=after),
        counties=results.text_table(report.counties, after=after) if report.counties else "",
        pct=results.percent,
    )
    print(strip_html(text))
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.cli.reports import xlsx_target_error

    path = Path(args.file)
    if error := xlsx_target_error(path):
        print(error, file=sys.stderr)
        return 2
    ctx = _ctx(args)
    try:
        with ctx.db.session() as session:
            report = results.rates(session, ctx.config, ctx.now())
    finally:
        ctx.db.dispose()
    size = results_export.write_results_xlsx(ctx.config, report, path)
    chart = results_export.render_chart(ctx.config, report)
    png = path.with_suffix(".png")
    png.write_bytes(chart.png)
    print(f"已写入 {path}（{size} 字节）和 {png} / wrote {path} ({size} bytes) and {png}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("results", help="考试成绩：导入、通过率、导出")
    actions = group.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help="从平台导出的 .xlsx / .csv 导入考试成绩")
    imp.add_argument("file", metavar="FILE", help=".xlsx 或 .csv（登录账号、考试轮次、成绩或缺考）")
    imp.add_argument(
        "--skip-bad", action="store_true", help="跳过有错误的行，导入其余的行（默认整份拒绝）"
    )
    imp.set_defaults(func=cmd_import)
    show = actions.add_parser("show", help="全市、各县市区和通过率最低的一级单位")
    show.add_argument("--limit", type=int, default=30, help="列出多少个一级单位（默认 30）")
    show.set_defaults(func=cmd_show)
    xlsx = actions.add_parser("export", help="导出各级通过率 Excel，并在旁边写入图表 PNG")
    xlsx.add_argument("file", metavar="FILE", help="要写入的 .xlsx 文件（图表写入同名 .png）")
    xlsx.set_defaults(func=cmd_export)
