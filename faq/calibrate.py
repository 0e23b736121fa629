"""How far the group's confidence can be trusted on phrasings the index has never seen.

The knowledge base's own phrasings are split into folds; each fold is ranked against an engine
built without it, as group messages. An answer counts right when it is the entry the phrasing
belongs to (strict: a sibling entry that would also do counts wrong), so the figures are a floor.
The report shows how often the answers that pass ``FaqEngine.agreed`` are right, against those it
holds back: the evidence for the group thresholds, independent of any evaluation set.

``python -m faq.calibrate [--folds N] [--verbose]`` prints the figures (``--verbose``: and each
wrong answer, phrasing, its entry and the one answered: the knowledge base's own text).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.config import Config, load_config
from faq.decision import Thresholds
from faq.engine import ROUTED, FaqEngine
from faq.knowledge import load_entries
from faq.modes import GROUP
from faq.text import Lexicon

SEED = 7


@dataclass
class Tally:
    answered: int = 0
    right: int = 0
    wrong: list[str] = field(default_factory=list)  # "phrasing: gold -> answered"

    def add(self, right: bool, miss: str = "") -> None:
        self.answered += 1
        self.right += right
        if not right:
            self.wrong.append(miss)

    def line(self, name: str, total: int) -> str:
        share = self.answered / total if total else 0.0
        rate = self.right / self.answered if self.answered else 0.0
        return f"{name}: {self.answered} answers ({share:.0%} of held-out), {rate:.1%} right"


def calibrate(
    config: Config, folds: int = 5, thresholds: Thresholds | None = None
) -> dict[str, Tally]:
    """Held-out group answers, by path: "agreed" (answered), "held back" (silent now), and
    "computed" (answered from the facts the question states, outside the ranking)."""
    lexicon, entries = Lexicon.load(), load_entries()
    rng = random.Random(SEED)
    fold_of = {(e.id, p): rng.randrange(folds) for e in entries for p in e.phrasings}
    now = dt.datetime.combine(config.study.start, dt.time(10), config.tz)
    tallies = {"agreed": Tally(), "held back": Tally(), "computed": Tally()}
    for fold in range(folds):
        kept = [
            dataclasses.replace(
                e, phrasings=tuple(p for p in e.phrasings if fold_of[(e.id, p)] != fold)
            )
            for e in entries
        ]
        engine = FaqEngine(kept, lexicon, config, thresholds)
        for entry in entries:
            for phrasing in (p for p in entry.phrasings if fold_of[(entry.id, p)] == fold):
                _count(engine, entry.id, phrasing, now, tallies)
    return tallies


def _count(
    engine: FaqEngine, gold: str, phrasing: str, now: dt.datetime, tallies: dict[str, Tally]
) -> None:
    result = engine.decide(phrasing, mode=GROUP, now=now)
    if result.entry is None:
        return
    right = result.entry.id == gold
    miss = f"{phrasing}: {gold} -> {result.entry.id} ({result.score:.2f})"
    if result.kind == "answer":
        tallies["computed" if result.score == ROUTED else "agreed"].add(right, miss)
    elif result.kind == "silent" and result.score >= engine.thresholds.group - (
        engine.thresholds.clear_bonus
    ):
        ranked = engine.rank(phrasing)
        if ranked and not engine.agreed(phrasing, ranked):
            tallies["held back"].add(right, miss)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> None:
    parser = argparse.ArgumentParser(prog="python -m faq.calibrate")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--verbose", action="store_true", help="list the wrong answers")
    args = parser.parse_args(argv)
    config = load_config()
    tallies = calibrate(config, args.folds)
    total = sum(len(e.phrasings) for e in load_entries())
    for name, tally in tallies.items():
        out(tally.line(name, total))
    if args.verbose:
        for name, tally in tallies.items():
            out(f"--- wrong, {name} ({len(tally.wrong)})")
            for miss in tally.wrong:
                out(miss)


if __name__ == "__main__":
    main()
