"""``python -m faq ask [--json] [--mode group|private] [--now ISO8601] QUESTION | -``

Prints what the bot would answer. With ``--json``, one object per question per line:
{"question", "answer" (the text the bot would send, HTML removed; null when silent), "entry",
"score", "suggestions"}. ``-`` reads one question a line from standard input.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys

from bot.core.config import ConfigError, load_config


def _parse_now(text: str | None, config) -> dt.datetime:
    if not text:
        return dt.datetime.now(config.tz)
    moment = dt.datetime.fromisoformat(text)
    return (
        moment.replace(tzinfo=config.tz) if moment.tzinfo is None else moment.astimezone(config.tz)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faq")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="回答问题 / answer questions")
    ask.add_argument("question", nargs="+", help="问题；- 表示从标准输入逐行读取")
    ask.add_argument("--json", action="store_true")
    ask.add_argument("--mode", choices=("group", "private"), default="group")
    ask.add_argument("--addressed", action="store_true", help="群内被 @ 或用 /faq 提问")
    ask.add_argument("--now", help="ISO 8601 时间，例如 2022-09-14T10:00")
    ask.add_argument("--config")
    args = parser.parse_args(argv)

    try:
        config = load_config(args.config)
        now = _parse_now(args.now, config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    except ValueError:
        print(f"--now 格式不对 / bad --now: {args.now!r}", file=sys.stderr)
        return 2

    from faq.engine import FaqEngine

    engine = FaqEngine.from_config(config)
    if args.question == ["-"]:
        questions = (line.rstrip("\n") for line in sys.stdin)
    else:
        questions = iter([" ".join(args.question)])
    for question in questions:
        if not question.strip():
            continue
        result = engine.decide(question, mode=args.mode, addressed=args.addressed, now=now)
        if args.json:
            print(json.dumps(result.as_json(), ensure_ascii=False), flush=True)
        else:
            print(
                result.answer_text if result.answer_text is not None else "（不回答 silent）",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
