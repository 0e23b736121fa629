"""``python -m faq ask [--json] [--mode group|private] [--now ISO8601] QUESTION | -``

Prints what the bot would answer. With ``--json``, one object per question per line:
{"question", "answer" (the text the bot would send, HTML removed; null when silent), "entry",
"score", "suggestions"}. ``-`` reads one question a line from standard input.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from typing import Any

from bot.core.config import ConfigError, load_config
from faq.cli import cli_words, moment


def parser(words: dict[str, Any]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m faq")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help=words["help"])
    ask.add_argument("question", nargs="+", help=words["question"])
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--mode", choices=("group", "private"), default="group")
    ask.add_argument("--addressed", action="store_true", help=words["addressed"])
    ask.add_argument("--now", help=words["now"])
    ask.add_argument("--config")
    return parser


def questions(args: argparse.Namespace) -> Iterator[str]:
    """The question on the command line, or one a line from standard input for ``-``."""
    lines = sys.stdin if args.question == ["-"] else [" ".join(args.question)]
    for line in lines:
        if line.strip():
            yield line.rstrip("\n")


def main(argv: list[str] | None = None) -> int:
    words = cli_words("ask")
    args = parser(words).parse_args(argv)
    try:
        config = load_config(args.config)
        now = moment(args.now, config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ValueError:
        print(words["bad_now"].format(value=repr(args.now)), file=sys.stderr)
        return 2

    from faq.engine import FaqEngine  # jieba and the index load only once the input is good

    engine = FaqEngine.from_config(config)
    for question in questions(args):
        result = engine.decide(question, mode=args.mode, addressed=args.addressed, now=now)
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)
        else:
            text = result.answer_text
            print(text if text is not None else words["silent"], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
