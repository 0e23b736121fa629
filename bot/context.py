"""What every handler, job and command-line action shares: config, database, clock, FAQ."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING

import bot.tables  # noqa: F401  (every table joins the metadata)
from bot.core.clock import Clock
from bot.core.config import Config, load_config
from bot.core.db import Database, database_url
from bot.seed import seed

if TYPE_CHECKING:
    from faq.engine import FaqEngine

log = logging.getLogger(__name__)


@dataclass
class AppContext:
    config: Config
    db: Database
    clock: Clock
    options: dict = field(default_factory=dict)

    @cached_property
    def faq(self) -> FaqEngine:
        return faq_engine_for(self.config)

    def now(self):
        return self.clock.now()


_ENGINES: dict[int, tuple[Config, FaqEngine]] = {}


def faq_engine_for(config: Config) -> FaqEngine:
    """One FAQ engine per configuration in a process (building one takes a few hundred ms)."""
    from faq.engine import FaqEngine

    cached = _ENGINES.get(id(config))
    if cached is None or cached[0] is not config:
        cached = (config, FaqEngine.from_config(config))
        _ENGINES[id(config)] = cached
    return cached[1]


def create_context(
    config: Config | None = None,
    *,
    db_url: str | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
) -> AppContext:
    """Load config, open the database, apply migrations and seed: the bot's start-up."""
    config = config or load_config()
    db = Database(database_url(db_url or config.storage.database_url))
    clock = clock or Clock(config.tz)
    with db.startup_lock():  # another instance starting at the same time waits here
        if migrate:
            db.migrate()
        with db.session() as session:
            created = seed(session, config, clock.now())
    if created:
        log.info("seeded %d records from config", len(created))
    return AppContext(config=config, db=db, clock=clock)
