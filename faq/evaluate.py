"""Accuracy of the FAQ engine on a held-out evaluation set (tests/data/faq_eval.toml).

``python -m faq.evaluate [--verbose]`` prints the figures; ``make bench`` includes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from faq.engine import FaqEngine

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


def load_eval(path: Path = EVAL_PATH) -> dict:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def evaluate(engine: FaqEngine, now: dt.datetime, data: dict | None = None) -> Figures:
    data = data or load_eval()
    figures = Figures()
    for item in data["answerable"]:
        figures.answerable += 1
        result = engine.decide(item["q"], mode="group", now=now)
        got = result.entry.id if result.kind == "answer" and result.entry else None
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
        if (private.kind == "answer" and private.entry and private.entry.id in item["expect"]) or (
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
    parser = argparse.ArgumentParser(prog="python -m faq.evaluate")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    from bot.core.config import load_config

    config = load_config()
    engine = FaqEngine.from_config(config)
    now = dt.datetime(2022, 9, 14, 10, 0, tzinfo=config.tz)
    figures = evaluate(engine, now)
    print(
        f"FAQ group mode: answered correctly {figures.answered_right}/{figures.answerable} "
        f"({figures.answer_rate:.1%}), wrong answers {figures.answered_wrong}; "
        f"chatter silent {figures.silent_kept}/{figures.silent_total} ({figures.silence_rate:.1%}); "
        f"private mode right answer or suggestion {figures.private_right}/{figures.answerable} "
        f"({figures.private_rate:.1%})"
    )
    if args.verbose:
        print("\n".join(figures.misses))


if __name__ == "__main__":
    main()
