"""The question bank on the server: ``questions template FILE.xlsx`` writes the template,
``questions export FILE.xlsx`` writes the merged bank of every department's current file."""

from __future__ import annotations

import argparse
import sys

from bot.bank import service as bank


def _ctx(args: argparse.Namespace):
    from bot.cli.common import open_context

    return open_context(args)


def _xlsx_path(path: str) -> bool:
    if not path.lower().endswith(".xlsx"):
        print(f"文件名须以 .xlsx 结尾 / the file name must end in .xlsx: {path}", file=sys.stderr)
        return False
    return True


def cmd_template(args: argparse.Namespace) -> int:
    from bot.core.config import load_config

    if not _xlsx_path(args.file):
        return 2
    config = load_config(args.config)
    path = bank.write_template(args.file, config)
    qs = config.question_submission
    print(f"已写出试题模板：{path}（单选 {qs.single_choice} 道、多选 {qs.multiple_choice} 道）")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    if not _xlsx_path(args.file):
        return 2
    ctx = _ctx(args)
    try:
        with ctx.db.session() as session:
            count = bank.export(args.file, session, ctx.config)
            items = bank.status(session, ctx.config)
    finally:
        ctx.db.dispose()
    missing = [i.department for i in items if i.state == "missing"]
    late = [i.department for i in items if i.state == "late"]
    print(f"已写出合并题库：{args.file}，共 {count} 道题，来自 {len(items) - len(missing)} 个单位")
    if late:
        print(f"逾期报送：{'、'.join(late)}")
    if missing:
        print(f"未报送：{'、'.join(missing)}")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    group = sub.add_parser("questions", help="试题报送：模板与合并题库")
    actions = group.add_subparsers(dest="questions_command", required=True)
    template = actions.add_parser("template", help="写出试题报送模板 (.xlsx)")
    template.add_argument("file", metavar="FILE.xlsx")
    template.set_defaults(func=cmd_template)
    export = actions.add_parser("export", help="写出各单位当前版本合并后的题库 (.xlsx)")
    export.add_argument("file", metavar="FILE.xlsx")
    export.set_defaults(func=cmd_export)
