"""The composition root: what every handler, job and command-line action shares (config,
database, clock, FAQ), and the one way to act on the database, a unit of work
(``bot.core.uow``) opened by ``unit_of_work`` or, from async code, ``run``."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, TypeVar

import bot.tables  # noqa: F401  (every table joins the metadata)
from bot.core.clock import Clock
from bot.core.config import Config, load_config
from bot.core.db import Database, database_url
from bot.core.errors import Refused
from bot.core.uow import Origin, UnitOfWork
from bot.org.admins import authorize
from bot.platform.gateway import Gateway
from bot.results.aggregates import ensure_folds
from bot.seed import map_units as map_unmapped_units
from bot.seed import seed

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from faq.engine import FaqEngine

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class AppContext:
    config: Config
    db: Database
    clock: Clock
    options: dict = field(default_factory=dict)
    units_to_map: bool = False  # seeded without the unit mapping: ``map_units`` still to run

    @cached_property
    def faq(self) -> FaqEngine:
        from faq.engine import engine_for  # jieba and the index load on first use

        return engine_for(self.config)

    @property
    def faq_ready(self) -> bool:
        """Whether the FAQ engine is built (the bot starts serving before it is)."""
        return "faq" in self.__dict__

    @cached_property
    def gateway(self) -> Gateway:
        """How platform tasks reach the platform (``[platform] gateway``); the sandbox sets its
        own stand-in. Built on first use, so commands that never touch the platform need none
        of its environment."""
        from bot.platform.gateways import gateway_for  # the http adapter only if configured

        return gateway_for(self.config)

    def now(self) -> dt.datetime:
        return self.clock.now()

    @contextmanager
    def unit_of_work(self, origin: Origin) -> Iterator[UnitOfWork]:
        """One transaction for one action: committed when the block ends, rolled back on any
        error. A refusal that asks to be audited (``Refused.audit_as``) is recorded afterwards
        in a transaction of its own."""
        try:
            with self.db.session() as session:
                yield UnitOfWork(
                    session,
                    config=self.config,
                    now=self.clock.now(),
                    origin=origin,
                    authorizer=authorize,
                )
        except Refused as refusal:
            if refusal.audit_as:
                with self.db.session() as session:
                    UnitOfWork(
                        session,
                        config=self.config,
                        now=self.clock.now(),
                        origin=origin,
                        authorizer=authorize,
                    ).audit(refusal.audit_as, detail={"reason": refusal.key})
            raise

    def run_sync(self, work: Callable[[UnitOfWork], T], origin: Origin) -> T:
        with self.unit_of_work(origin) as uow:
            return work(uow)

    async def run(self, work: Callable[[UnitOfWork], T], origin: Origin) -> T:
        """Do ``work`` in one unit of work, in a worker thread: the event loop (every other
        user's updates) never waits for the database."""
        return await asyncio.to_thread(self.run_sync, work, origin)

    async def read(self, query: Callable[[Connection], T]) -> T:
        """A read on a plain connection, in a worker thread: for a lookup made on every
        message (an ORM session and unit of work cost four times the query itself). Nothing is
        written and nothing is authorized here: a read that decides an action must be repeated
        inside the action's unit of work."""

        def on_connection() -> T:
            with self.db.engine.connect() as connection:
                return query(connection)

        return await asyncio.to_thread(on_connection)

    def map_units(self) -> int:
        """The unit mapping a start left for later (``create_context(map_units=False)``), if
        any; the units mapped. Called once the bot serves (bot.app)."""
        if not self.units_to_map:
            return 0
        with self.db.startup_lock(), self.db.session() as session:  # as seeding is
            mapped = map_unmapped_units(session, self.config, self.clock.now())
        self.units_to_map = False
        if mapped:
            log.info("mapped %d units to their attachment-1 departments", mapped)
        return mapped


def create_context(
    config: Config | None = None,
    *,
    db_url: str | None = None,
    clock: Clock | None = None,
    migrate: bool = True,
    map_units: bool = True,
) -> AppContext:
    """Load config, open the database, apply the migrations it lacks and seed: the bot's
    start-up. ``map_units=False`` leaves the unit mapping for ``AppContext.map_units``, so that
    serving need not wait for it."""
    config = config or load_config()
    db = Database(database_url(db_url or config.storage.database_url))
    clock = clock or Clock(config.tz)
    with db.startup_lock():  # another instance starting at the same time waits here
        if migrate:
            db.migrate(config)
        with db.session() as session:
            created = seed(session, config, clock.now(), map_units=map_units)
            if ensure_folds(session.connection(), config):
                log.info("results folded again under the config's rules")
    if created:
        log.info("seeded %d records from config", len(created))
    return AppContext(config=config, db=db, clock=clock, units_to_map=not map_units)
