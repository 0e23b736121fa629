"""Accuracy of the FAQ engine on its evaluation sets.

- The blind sets (tests/data/faq_eval_blind.toml, faq_eval_blind2.toml … faq_eval_blind5.toml),
  each written from the notice alone by someone who never saw the knowledge base (nor the other
  sets), graded by the facts in the answer's text. Each case has a half: "tune" cases may be
  studied and tuned on; "holdout" cases are reported as totals only (no question, no miss is
  ever kept or printed for them).
- The existing set (tests/data/faq_eval.toml), graded by the entry answered.

For each set (and half) and each mode: answerable questions answered right, answered wrong,
left unanswered (silent, or sent to the contacts), silence kept on chatter, and the contacts
given for on-topic questions the notice does not answer. Private mode counts a question right
when the direct answer is right, or when one of at most three suggestions answers it.

``python -m faq.evaluate [--verbose] [--now ISO8601]`` prints the figures; ``make bench``
includes them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tomllib
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from faq.decision import Result
from faq.engine import GROUP, PRIVATE, FaqEngine

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
EVAL_PATH = DATA / "faq_eval.toml"
BLIND_SETS = {
    "blind": DATA / "faq_eval_blind.toml",
    "blind2": DATA / "faq_eval_blind2.toml",
    "blind3": DATA / "faq_eval_blind3.toml",
    "blind4": DATA / "faq_eval_blind4.toml",
    "blind5": DATA / "faq_eval_blind5.toml",
    "blind6": DATA / "faq_eval_blind6.toml",
    "blind7": DATA / "faq_eval_blind7.toml",
    "blind8": DATA / "faq_eval_blind8.toml",
    "blind9": DATA / "faq_eval_blind9.toml",
    "blind10": DATA / "faq_eval_blind10.toml",
    "blind11": DATA / "faq_eval_blind11.toml",
    "blind12": DATA / "faq_eval_blind12.toml",
    "blind13": DATA / "faq_eval_blind13.toml",
    "blind14": DATA / "faq_eval_blind14.toml",
    "blind15": DATA / "faq_eval_blind15.toml",
    "blind16": DATA / "faq_eval_blind16.toml",
    "blind17": DATA / "faq_eval_blind17.toml",
    "blind18": DATA / "faq_eval_blind18.toml",
}
BLIND_PATH = BLIND_SETS["blind"]
TUNE, HOLDOUT = "tune", "holdout"
ANSWER, CONTACT, SILENT = "answer", "contact", "silent"
MAX_SUGGESTIONS = 3


@dataclass
class Figures:
    """One set (or half) in one mode."""

    answerable: int = 0
    right: int = 0
    wrong: int = 0
    referred: int = 0  # answerable, sent to the contacts instead (not right, not a wrong fact)
    chatter: int = 0
    chatter_kept: int = 0
    uncovered: int = 0  # on-topic questions the notice does not answer
    contacts_given: int = 0
    uncovered_wrong: int = 0  # ... answered with an entry instead of the contacts
    misses: list[str] = field(default_factory=list)

    @property
    def silent(self) -> int:
        """Answerable questions left without an answer (silence or a referral)."""
        return self.answerable - self.right - self.wrong

    @property
    def questions(self) -> int:
        return self.answerable + self.uncovered

    @property
    def answer_rate(self) -> float:
        return _share(self.right, self.answerable)

    @property
    def wrong_rate(self) -> float:
        """Wrong answers (to answerable and to uncovered questions) per question asked."""
        return _share(self.wrong + self.uncovered_wrong, self.questions)

    @property
    def silence_rate(self) -> float:
        return _share(self.chatter_kept, self.chatter)

    @property
    def contact_rate(self) -> float:
        return _share(self.contacts_given, self.uncovered)

    def line(self) -> str:
        parts = [
            f"right {self.right}/{self.answerable} ({self.answer_rate:.1%})",
            f"wrong {self.wrong + self.uncovered_wrong} ({self.wrong_rate:.1%} of "
            f"{self.questions} questions)",
            f"silent-when-answerable {self.silent} (of which {self.referred} sent to contacts)",
        ]
        if self.chatter:
            parts.append(
                f"chatter silent {self.chatter_kept}/{self.chatter} ({self.silence_rate:.1%})"
            )
        if self.uncovered:
            parts.append(
                f"contacts when the notice is silent {self.contacts_given}/{self.uncovered} "
                f"({self.contact_rate:.1%})"
            )
        return "; ".join(parts)


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass
class Report:
    """Every figure: (part, mode) -> Figures. Parts: "blind:tune", "blind:holdout",
    "blind2:tune", ... (``part(set, half)``) and "existing"."""

    figures: dict[tuple[str, str], Figures]

    def get(self, name: str, mode: str = GROUP) -> Figures:
        return self.figures[(name, mode)]

    def lines(self) -> list[str]:
        out = []
        for (name, mode), figures in self.figures.items():
            out.append(f"{label(name)}, {mode}: {figures.line()}")
        return out


def part(set_name: str, half: str) -> str:
    """The report's key for one half of one blind set."""
    return f"{set_name}:{half}"


def label(name: str) -> str:
    if name == "existing":
        return "existing set"
    set_name, half = name.split(":")
    suffix = " (totals only)" if half == HOLDOUT else ""
    return f"{set_name} set, {half} half{suffix}"


def load_eval(path: Path = EVAL_PATH) -> dict[str, Any]:
    with path.open("rb") as fh:
        return tomllib.load(fh)


def load_blind(path: Path = BLIND_PATH) -> list[dict[str, Any]]:
    return list(load_eval(path)["case"])


def load_blind_sets() -> dict[str, list[dict[str, Any]]]:
    """Every blind set there is, by name."""
    return {name: load_blind(path) for name, path in BLIND_SETS.items() if path.exists()}


def fold(text: str) -> str:
    """What fact matching compares: full-width folded (NFKC), no spaces, lower case."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def holds(text: str | None, case: dict[str, Any]) -> bool:
    """Whether a reply's text states the case's facts: every ``must``, one of each ``any``
    group, no ``must_not``."""
    if text is None:
        return False
    got = fold(text)
    if not all(fold(m) in got for m in case.get("must", [])):
        return False
    if not all(any(fold(a) in got for a in group) for group in case.get("any", [])):
        return False
    return not any(fold(m) in got for m in case.get("must_not", []))


def moment_of(case: dict[str, Any], default: dt.datetime) -> dt.datetime:
    text = case.get("now")
    if not text:
        return default
    when = dt.datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=default.tzinfo)


def replies(engine: FaqEngine, result: Result, now: dt.datetime) -> list[str]:
    """The texts that may answer the asker: the reply, or each suggestion's own answer."""
    if result.answer_html is None:
        return []
    if result.kind == "suggest":
        picks = result.suggestions[:MAX_SUGGESTIONS]
        # what pressing its button sends: the answer for the question asked
        chosen = (engine.chosen(e.id, now, result.question) for e in picks)
        return [c.answer_text or "" for c in chosen if c is not None]
    return [result.answer_text or ""]


def contact_texts(engine: FaqEngine, result: Result, now: dt.datetime) -> list[str]:
    """Where the contacts may be: the reply itself (a suggestion list may end with them), or
    an answer a suggestion leads to."""
    own = [result.answer_text] if result.answer_text is not None else []
    return own + (replies(engine, result, now) if result.kind == "suggest" else [])


def grade_blind(
    engine: FaqEngine,
    cases: Iterable[dict[str, Any]],
    default_now: dt.datetime,
    mode: str,
    keep_misses: bool,
) -> Figures:
    """Grade ``cases`` in ``mode``; misses are written down only when ``keep_misses``."""
    figures = Figures()
    for case in cases:
        now = moment_of(case, default_now)
        result = engine.decide(case["q"], mode=mode, now=now)
        texts = replies(engine, result, now)
        if case["kind"] == CONTACT:
            texts = contact_texts(engine, result, now)
        outcome = _blind_outcome(case, result, texts, mode, figures)
        if outcome and keep_misses:
            figures.misses.append(
                f"{outcome} {case['q']!r} [{result.kind} {_entry(result)}]: "
                f"{(result.answer_text or '').replace(chr(10), ' ')[:160]}"
            )
    return figures


def _entry(result: Result) -> str:
    return f"{result.entry.id if result.entry else None} {result.score:.2f}"


def _blind_outcome(
    case: dict[str, Any], result: Result, texts: list[str], mode: str, figures: Figures
) -> str:
    """Count one case; return a label when it is a miss ("" when it is not)."""
    kind = case["kind"]
    answered = result.answer_html is not None
    if kind == SILENT and mode == PRIVATE:
        return ""  # a private message is addressed to the bot: chatter silence is a group matter
    if kind == SILENT:
        figures.chatter += 1
        if not answered:
            figures.chatter_kept += 1
            return ""
        return "SPOKE"
    referral = result.kind in ("contact", "fallback")
    if kind == CONTACT:
        figures.uncovered += 1
        if any(holds(t, case) for t in texts):
            figures.contacts_given += 1
            return ""
        if answered and not referral:
            figures.uncovered_wrong += 1
            return "WRONG-INSTEAD-OF-CONTACTS"
        return "NO-CONTACTS"
    figures.answerable += 1
    direct = result.kind != "suggest"
    if any(holds(t, case) for t in texts) and (direct or mode == PRIVATE):
        figures.right += 1
        return ""
    if answered and referral:
        figures.referred += 1
        return "REFERRED"
    if answered and result.kind != "suggest":
        figures.wrong += 1
        return "WRONG"
    return "SILENT"


def grade_existing(engine: FaqEngine, data: dict[str, Any], now: dt.datetime, mode: str) -> Figures:
    """The existing set, graded by the entry answered (or suggested, in private mode)."""
    figures = Figures()
    for item in data["answerable"]:
        figures.answerable += 1
        result = engine.decide(item["q"], mode=mode, now=now)
        got = result.entry.id if result.kind == "answer" and result.entry else None
        suggested = (
            result.kind == "suggest"
            and mode == PRIVATE
            and any(e.id in item["expect"] for e in result.suggestions[:MAX_SUGGESTIONS])
        )
        if got in item["expect"] or suggested:
            figures.right += 1
            continue
        if result.kind in ("contact", "fallback"):
            figures.referred += 1
        elif got is not None or result.kind == "repeat":
            figures.wrong += 1
        figures.misses.append(
            f"ANSWERABLE {item['q']!r}: got {got} ({result.kind} {_entry(result)}), "
            f"want {item['expect']}"
        )
    if mode == GROUP:
        for item in data["silent"]:
            figures.chatter += 1
            result = engine.decide(item["q"], mode=mode, now=now)
            if result.answer_html is None:
                figures.chatter_kept += 1
            else:
                figures.misses.append(f"SILENT {item['q']!r}: {result.kind} {_entry(result)}")
    return figures


def evaluate_all(
    engine: FaqEngine,
    now: dt.datetime,
    blind: dict[str, list[dict[str, Any]]] | None = None,
    existing: dict[str, Any] | None = None,
) -> Report:
    """Every set, half and mode (``blind``: the blind sets by name, default all of them). Only
    the tune halves and the existing set keep their misses."""
    blind = load_blind_sets() if blind is None else blind
    existing = load_eval() if existing is None else existing
    figures: dict[tuple[str, str], Figures] = {}
    for set_name, blind_cases in blind.items():
        for half in (TUNE, HOLDOUT):
            cases = [c for c in blind_cases if c["half"] == half]
            if not cases:
                continue
            for mode in (GROUP, PRIVATE):
                key = (part(set_name, half), mode)
                figures[key] = grade_blind(engine, cases, now, mode, half == TUNE)
    for mode in (GROUP, PRIVATE):
        figures[("existing", mode)] = grade_existing(engine, existing, now, mode)
    return Report(figures)


def evaluation_moment(config: Any, text: str | None = None) -> dt.datetime:
    from faq.cli import cli_words, moment

    return moment(text or cli_words("evaluate")["at"].isoformat(), config)


def main(argv: list[str] | None = None, out: Callable[[str], None] = print) -> None:
    from bot.core.config import load_config
    from faq.cli import cli_words

    words = cli_words("evaluate")
    parser = argparse.ArgumentParser(prog="python -m faq.evaluate")
    parser.add_argument("--verbose", action="store_true", help=words["verbose"])
    parser.add_argument("--now", help=words["now"])
    parser.add_argument("--skip-holdout", action="store_true", help=words["skip_holdout"])
    args = parser.parse_args(argv)
    config = load_config()
    blind = load_blind_sets()
    if args.skip_holdout:
        blind = {n: [c for c in cases if c["half"] != HOLDOUT] for n, cases in blind.items()}
    report = evaluate_all(
        FaqEngine.from_config(config), evaluation_moment(config, args.now), blind=blind
    )
    for line in report.lines():
        out(line)
    if args.verbose:
        for (name, mode), figures in report.figures.items():
            if figures.misses:
                out(f"--- misses, {label(name)}, {mode} ({len(figures.misses)})")
                for miss in figures.misses:
                    out(miss)


if __name__ == "__main__":
    main()
