"""What the FAQ's command lines share: their words (``cli.toml``) and reading ``--now``."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path
from typing import Any

from bot.core.clock import Clock
from bot.core.config import Config

CLI_PATH = Path(__file__).resolve().parent / "cli.toml"


def cli_words(section: str) -> dict[str, Any]:
    """One command's help texts and messages (a section of ``cli.toml``)."""
    with CLI_PATH.open("rb") as fh:
        return dict(tomllib.load(fh)[section])


def moment(text: str | None, config: Config) -> dt.datetime:
    """``--now`` in the campaign's timezone (a naive time is taken as local), else the clock's
    now. Raises ValueError for a malformed time."""
    clock = Clock(config.tz)
    if text:
        clock.freeze(dt.datetime.fromisoformat(text))
    return clock.now()
