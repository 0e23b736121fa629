"""The question bank's vocabulary (``words.toml``): names and labels of the files it writes and
the command line's help, kept out of the code so that wording is edited in one place."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

WORDS_FILE = Path(__file__).with_name("words.toml")


@dataclass(frozen=True)
class MergedSheet:
    """The merged bank's question sheet: its name, the columns around the template's header,
    and the mark a late department's questions carry."""

    sheet: str
    number: str
    department: str
    late: str
    late_mark: str


@dataclass(frozen=True)
class ReportSheet:
    """The merged export's sheet of every department's submission state."""

    sheet: str
    headers: tuple[str, ...]


@dataclass(frozen=True)
class Words:
    template_file: str
    states: dict[str, str]  # DepartmentStatus.state -> label
    merged: MergedSheet
    report: ReportSheet
    cli: dict[str, str]  # argparse help, by sub-command


@cache
def words() -> Words:
    """The vocabulary, read once per process."""
    with WORDS_FILE.open("rb") as handle:
        data = tomllib.load(handle)
    return Words(
        template_file=data["template_file"],
        states=dict(data["states"]),
        merged=MergedSheet(**data["merged"]),
        report=ReportSheet(data["report"]["sheet"], tuple(data["report"]["headers"])),
        cli=dict(data["cli"]),
    )
