"""What every command-line action shares: opening the application context from the
arguments (config, database, an optional ``--now``)."""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING, Any

from bot.core.clock import Clock
from bot.core.config import ConfigError, load_config
from bot.core.render import render, strip_html

if TYPE_CHECKING:  # the context (database, FAQ, platform) is loaded by the commands that use it
    from bot.context import AppContext


def open_context(args: argparse.Namespace, db_url: str | None = None) -> AppContext:
    """Load the config named by ``--config``, move the clock to ``--now`` if given, and open
    the database (migrated and seeded)."""
    from bot.context import create_context

    config = load_config(args.config)
    clock = Clock(config.tz)
    if getattr(args, "now", None):
        try:
            clock.set(dt.datetime.fromisoformat(args.now))
        except ValueError:
            raise ConfigError(f"--now 格式不对 / bad --now: {args.now!r} (ISO 8601)") from None
    return create_context(config, clock=clock, db_url=db_url)


def say(ctx: AppContext, template: str, **variables: Any) -> str:
    """A template rendered for the terminal: the config as ``c``, HTML tags stripped."""
    return strip_html(render(template, c=ctx.config, **variables))
