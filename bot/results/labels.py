"""The results capability's labels (``labels.toml`` next to this file): table headers, sheet
and column names, chart axes, file names, the "everyone on the list" words, CLI help.

Kept as data so that wording is edited in one place, never in the code that lays it out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core import words

LABELS_FILE = Path(__file__).with_name("labels.toml")


def labels() -> dict[str, Any]:
    return words.load(LABELS_FILE)


def section(name: str) -> dict[str, Any]:
    """One table of ``labels.toml`` (``"workbook.sheets"`` names a nested one)."""
    node: Any = labels()
    for part in name.split("."):
        node = node[part]
    return dict(node)
