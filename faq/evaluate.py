"""Accuracy of the FAQ engine on a held-out evaluation set (tests/data/faq_eval.toml).

``python -m faq.evaluate [--verbose] [--now ISO8601]`` prints the figures; ``make bench``
includes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faq.engine import FaqEngine, Result

EVAL_PATH = Path(__file__).resolve().parent.parent / "tests" / "data" / "faq_eval.toml"


@dataclass
class Figures:
    answerable: int = 0
    answered_right: int = 0
    answered_wrong: int = 0
    silent_total: int = 0
    silent_kept: int = 0
    private_right: int = 0
    misses: list[str] = field(default_factory=list)

    @property
    def answer_rate(self) -> float:
        return self.answered_right / self.answerable if self.answerable else 0.0

    @property
    def silence_rate(self) -> float:
        return self.silent_kept / self.silent_total if self.silent_total else 0.0

    @property
    def private_rate(self) -> float:
        return self.private_right / self.answerable if self.answerable else 0.0

    def summary(self) -> str:
        return (
            f"FAQ group mode: answered correctly {self.answered_right}/{self.answerable} "
            f"({self.answer_rate:.1%}), wrong answers {self.answered_wrong}; "
            f"chatter silent {self.silent_kept}/{self.silent_total} ({self.silence_rate:.1%}); "
            f"private mode right answer or suggestion {self.private_right}/{self.answerable} "
            f"({self.private_rate:.1%})"
        )


def load_eval(path: Path = EVAL_PATH) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def _answered(result: Result) -> str | None:
    return result.entry.id if result.kind == "answer" and result.entry else None


def evaluate(engine: FaqEngine, now: dt.datetime, data: dict[str, Any] | None = None) -> Figures:
    """Group mode must answer each answerable question right (or stay silent, which counts as
    a miss, not a wrong answer) and keep silent on chatter; private mode must answer right or
    suggest the right entry."""
    data = data or load_eval()
    figures = Figures()
    for item in data["answerable"]:
        figures.answerable += 1
        result = engine.decide(item["q"], mode="group", now=now)
        got = _answered(result)
        if got in item["expect"]:
            figures.answered_right += 1
        else:
            if got is not None:
                figures.answered_wrong += 1
            top = result.entry.id if result.entry else None
            figures.misses.append(
                f"ANSWERABLE {item['q']!r}: got {got} (top {top} {result.score:.2f}), want {item['expect']}"
            )
        private = engine.decide(item["q"], mode="private", now=now)
        if _answered(private) in item["expect"] or (
            private.kind == "suggest" and any(e.id in item["expect"] for e in private.suggestions)
        ):
            figures.private_right += 1
    for item in data["silent"]:
        figures.silent_total += 1
        result = engine.decide(item["q"], mode="group", now=now)
        if result.answer_html is None:
            figures.silent_kept += 1
        else:
            figures.misses.append(
                f"SILENT {item['q']!r}: answered {result.entry.id if result.entry else None} "
                f"({result.score:.2f})"
            )
    return figures


def main() -> None:
    from bot.core.config import load_config
    from faq.cli import cli_words, moment

    words = cli_words("evaluate")
    parser = argparse.ArgumentParser(prog="python -m faq.evaluate")
    parser.add_argument("--verbose", action="store_true", help=words["verbose"])
    parser.add_argument("--now", help=words["now"])
    args = parser.parse_args()
    config = load_config()
    now = moment(args.now or words["at"].isoformat(), config)
    figures = evaluate(FaqEngine.from_config(config), now)
    print(figures.summary())
    if args.verbose:
        print("\n".join(figures.misses))


if __name__ == "__main__":
    main()
