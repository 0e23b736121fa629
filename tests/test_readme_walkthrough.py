"""README.md's sandbox walk-through, run line by line, so that the README cannot drift from the
bot.

The walk-through is the ```text blocks between ``<!-- walkthrough -->`` and
``<!-- /walkthrough -->`` in README.md. In them, ``$ make run`` is the sandbox starting, a line
starting with ``> `` is what the reader types, and every other line is what the README says the
sandbox shows for the input above it. Every typed line goes, in order, to one in-process sandbox
(``bot.sandbox.runner.Sandbox``, as ``make run`` drives it: the line, then the stand-in platform's
answer); every shown line must be found in the sandbox's output for that input, white space
normalised. "……" in a shown line elides: the parts between are found in that order.

Nothing is expected here but what the README says; the README's files (``data/sandbox-out/…``)
are written by the sandbox into a temporary working directory.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.core.clock import Clock
from bot.sandbox.runner import say

README = Path(__file__).resolve().parent.parent / "README.md"
REGION = re.compile(r"<!-- walkthrough -->(.*?)<!-- /walkthrough -->", re.S)
BLOCK = re.compile(r"^```text\n(.*?)^```", re.S | re.M)
START = "$ make run"
TYPED = "> "
ELIDED = "……"


@dataclass
class Step:
    typed: str  # START, or the line after "> "
    readme_line: int
    shown: list[str] = field(default_factory=list)


def walkthrough(text: str) -> list[Step]:
    """The walk-through's steps, in the README's order."""
    steps: list[Step] = []
    for region in REGION.finditer(text):
        for block in BLOCK.finditer(region.group(1)):
            first = text.count("\n", 0, region.start(1) + block.start(1)) + 1
            for number, line in enumerate(block.group(1).splitlines(), start=first):
                if line.strip() == START or line.startswith(TYPED):
                    typed = START if line.strip() == START else line[len(TYPED) :].strip()
                    steps.append(Step(typed, number))
                elif line.strip():
                    assert steps, f"README.md:{number}: output shown before any input: {line!r}"
                    steps[-1].shown.append(line)
    return steps


def normalised(text: str) -> str:
    return " ".join(text.split())


def shown_in(line: str, output: str) -> bool:
    """Whether the README's ``line`` is in ``output``: its parts around "……", in order."""
    position = 0
    for part in (normalised(p) for p in line.split(ELIDED)):
        if not part:
            continue
        found = output.find(part, position)
        if found < 0:
            return False
        position = found + len(part)
    return True


@pytest.fixture
def clock(config) -> Clock:
    """A running clock, as ``make run`` has: the sandbox puts it at ``[sandbox] start``."""
    return Clock(config.tz)


def test_the_walkthrough_is_marked_and_starts_with_make_run():
    steps = walkthrough(README.read_text(encoding="utf-8"))
    assert steps and steps[0].typed == START
    assert sum(1 for s in steps if s.shown) > len(steps) // 2  # it shows what happens


def test_shown_in_reads_elisions_in_order():
    output = normalised("bot（私聊）> 补考报名时间为10月25日至26日，\n    单位管理员统一报名")
    assert shown_in("bot（私聊）> ……10月25日至26日……", output)
    assert shown_in("    单位管理员统一报名", output)
    assert not shown_in("单位管理员……10月25日", output)  # out of order
    assert not shown_in("bot（群）> ……10月25日", output)


async def test_every_line_of_the_readme_walkthrough(bot, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # the sandbox writes data/sandbox-out/ here
    steps = walkthrough(README.read_text(encoding="utf-8"))
    missing: list[str] = []
    for index, step in enumerate(steps):
        if step.typed == START:
            lines = [say("banner"), *bot.start_clock()]
        else:
            answered = await bot.handle_line(step.typed)
            if answered is None:  # /quit: only as the last line
                assert index == len(steps) - 1, f"README.md:{step.readme_line} quits early"
                break
            lines = answered + await bot.settle()
        output = normalised("\n".join(lines))
        missing += [
            f"README.md:{step.readme_line} > {step.typed}\n  README: {line.strip()}\n"
            f"  sandbox: {output[:600]}"
            for line in step.shown
            if not shown_in(line, output)
        ]
    assert not missing, "\n".join(missing)
