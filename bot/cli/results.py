"""Exam results on the server: ``python -m bot results import FILE [--skip-bad]``,
``python -m bot results show`` and ``python -m bot results export FILE.xlsx``.

The command line acts as the server's operator: its units of work have no administrator
(``Origin.cli``), and what it prints comes from templates, as plain text."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from bot.cli.common import ProgressLine, open_context, run_import
from bot.core.render import render, strip_html
from bot.core.uow import Origin
from bot.results import export, importer, rates
from bot.results.labels import section
from bot.results.table import percent, tables_for

if TYPE_CHECKING:
    from bot.context import AppContext
    from bot.core.tabular import ImportFileError


def _print(template: str, *, file: TextIO | None = None, **variables: object) -> None:
    """A template as the terminal shows it: plain text."""
    print(strip_html(render(template, **variables)), file=file)


def cmd_import(args: argparse.Namespace) -> int:
    """0 all written, 1 rows refused (or skipped), 2 the file refused."""

    def refused(error: ImportFileError) -> None:
        _print("results_import_unreadable", file=sys.stderr, error=error)

    return run_import(args, "results", importer.import_results, refused)


def _report(args: argparse.Namespace) -> tuple[AppContext, rates.RatesReport]:
    ctx = open_context(args)
    try:
        return ctx, ctx.run_sync(rates.rates, Origin.cli())
    finally:
        ctx.db.dispose()


def cmd_show(args: argparse.Namespace) -> int:
    ctx, report = _report(args)
    view = rates.city_view(report, limit=args.limit)
    tables = tables_for(view)
    _print(
        "results",
        c=ctx.config,
        now=report.now,
        v=view,
        table=tables.table,
        counties=tables.counties,
        pct=percent,
    )
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from bot.cli.reports import xlsx_target_error

    path = Path(args.file)
    if error := xlsx_target_error(path):
        print(error, file=sys.stderr)
        return 2
    # The export's steps on the progress line, the workbook's unit rows as they are written.
    with ProgressLine() as progress:
        progress("rates", 0, None)
        ctx, report = _report(args)
        progress("workbook", 0, None)
        size = export.write_results_xlsx(
            ctx.config, report, path, lambda done, total: progress("workbook", done, total)
        )
        progress("chart", 0, None)
        chart = export.render_chart(ctx.config, report)
        png = path.with_suffix(".png")
        png.write_bytes(chart.png)
    _print("results_export_written", xlsx=path, size=size, png=png)
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    words = section("cli")
    group = sub.add_parser("results", help=words["results"])
    actions = group.add_subparsers(dest="action", required=True)
    imp = actions.add_parser("import", help=words["import"])
    imp.add_argument("file", metavar="FILE", help=words["import_file"])
    imp.add_argument("--skip-bad", action="store_true", help=words["skip_bad"])
    imp.set_defaults(func=cmd_import)
    show = actions.add_parser("show", help=words["show"])
    show.add_argument("--limit", type=int, default=rates.ROWS, help=words["show_limit"])
    show.set_defaults(func=cmd_show)
    xlsx = actions.add_parser("export", help=words["export"])
    xlsx.add_argument("file", metavar="FILE", help=words["export_file"])
    xlsx.set_defaults(func=cmd_export)
