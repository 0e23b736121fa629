"""The registration capability's vocabulary (``words.toml`` next to this file): how people write
learner lists and county plans. Kept as data so that the parsers hold no wording of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.core import words as data

WORDS_FILE = Path(__file__).with_name("words.toml")


def words() -> dict[str, Any]:
    return data.load(WORDS_FILE)


def section(name: str) -> dict[str, list[str]]:
    return dict(words()[name])
