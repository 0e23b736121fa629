"""Heavy exports in a worker process, so the bot's event loop (and its GIL, and its garbage
collector) stays free for everybody else while the city office's workbook is being made.

What runs where:

* the event loop, in the bot's main thread: reading the update, rendering the caption, sending
  the files — nothing that takes more than a few milliseconds;
* a thread of the bot (``AppContext.run``): the short units of work of every other command;
* the export worker, a separate process: an export's whole unit of work — authorization, the
  database reads (its own connection to the same database), building the workbook, drawing the
  chart. Only the finished files (bytes) and the few figures the caption quotes come back.

A thread was not enough: the export is Python code holding the GIL (openpyxl, the rates report)
and it allocates enough to set off full garbage collections of the bot's whole heap, which stop
every thread: while an export and a roster import ran, the loop stalled for 1.1-2.8 s and the
group's FAQ answers took 1.0-4.5 s at p99 (``make bench``, the concurrency section).

The worker is one process (exports are rare; a 2-core server has one core to give it), started
on the first export and stopped with the application (``stop``), at a lower CPU priority than the
bot: on a busy machine that halved the FAQ's p99 and let the import finish sooner, while the
export itself took longer. It is forked from multiprocessing's forkserver, a clean single-threaded process that imports
the export's modules once: the bot's own process, with its threads, is never forked, and a new
worker (after a crash, or for the next Application in the same process) starts in a fraction of
a second instead of re-importing everything. A database no other process can open (in-memory
SQLite) runs the job in a thread of the bot instead.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import multiprocessing
import os
import signal
import threading
from collections.abc import Callable, MutableMapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy.engine import make_url

from bot.context import AppContext
from bot.core.clock import Clock
from bot.core.config import Config
from bot.core.db import Database
from bot.core.uow import Origin, UnitOfWork
from bot.overview import export as overview_export
from bot.results import export as results_export
from bot.results import rates
from bot.results.rates import UnitRates

T = TypeVar("T")

WORKER_KEY = "export_worker"  # bot_data: this application's ExportWorker
NICENESS = 5  # added to the worker's nice value: the bot's own loop wins a busy CPU
# Imported once by the forkserver, so that every worker forked from it has them already
# (the chart's modules are imported by no other part of the bot).
PRELOAD = ["bot.workers", "matplotlib.figure", "matplotlib.backends.backend_agg"]


# --- the jobs: plain functions of a unit of work, picklable by name ---------------------------


@dataclass(frozen=True)
class ResultsFiles:
    """What /results_export sends: the workbook, the chart and the chart's caption, and the
    report's figures its message quotes."""

    xlsx: bytes
    png: bytes
    chart_caption: str
    now: dt.datetime
    city: UnitRates
    has_makeup: bool


def results_files(uow: UnitOfWork) -> ResultsFiles:
    """/results_export's whole work: the city's rates (city office only), the workbook, the
    chart."""
    report = rates.city_report(uow)
    buffer = io.BytesIO()
    results_export.write_results_xlsx(uow.config, report, buffer)
    chart = results_export.render_chart(uow.config, report)
    caption = results_export.chart_caption(uow.config, chart)
    return ResultsFiles(
        buffer.getvalue(), chart.png, caption, report.now, report.city, report.has_makeup
    )


@dataclass(frozen=True)
class RegistrationsFile:
    """What /export sends: the registrations workbook and what it holds."""

    xlsx: bytes
    done: overview_export.Exported


def registrations_file(uow: UnitOfWork) -> RegistrationsFile:
    """/export's whole work (city office or operator only)."""
    buffer = io.BytesIO()
    done = overview_export.write_registrations_xlsx(uow, buffer)
    return RegistrationsFile(buffer.getvalue(), done)


# --- the worker process's side ----------------------------------------------------------------


@dataclass(frozen=True)
class Job:
    """What a worker needs to open the same unit of work as the bot would: the config, the
    database, the moment (the bot's clock, which tests and the sandbox move) and the origin
    (authorization happens in the worker, inside the unit of work)."""

    config: Config = field(repr=False)
    db_url: str = field(repr=False)  # may hold a password: never in a repr or a log
    now: dt.datetime
    origin: Origin


_databases: dict[str, Database] = {}  # the worker's engines, kept from one job to the next


def _worker_started() -> None:
    """In each new worker: a lower priority, and Ctrl-C left to the bot (which stops the
    worker itself) instead of a traceback from every process of the group."""
    os.nice(NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run(job: Job, work: Callable[[UnitOfWork], T]) -> T:
    """In the worker: ``work`` in one unit of work, as ``AppContext.run_sync`` does in the bot
    (refusals raised here reach the bot's handler as they are)."""
    db = _databases.get(job.db_url)
    if db is None:
        db = _databases[job.db_url] = Database(job.db_url)
    clock = Clock(job.config.tz)
    clock.freeze(job.now)
    return AppContext(config=job.config, db=db, clock=clock).run_sync(work, job.origin)


# --- the bot's side ---------------------------------------------------------------------------


def shareable(url: str) -> bool:
    """Whether another process can open the database at ``url`` (not in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return True
    return bool(parsed.database) and parsed.database != ":memory:"


class ExportWorker:
    """One worker process for one application, started on first use."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    @property
    def started(self) -> bool:
        return self._pool is not None

    def _executor(self) -> ProcessPoolExecutor:
        with self._lock:  # two first exports at once start one worker
            if self._pool is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(PRELOAD)  # no effect once the server runs
                self._pool = ProcessPoolExecutor(
                    max_workers=1, mp_context=context, initializer=_worker_started
                )
            return self._pool

    async def run(self, ctx: AppContext, work: Callable[[UnitOfWork], T], origin: Origin) -> T:
        """``work`` (a module-level function: it travels by name) in one unit of work in the
        worker process; its result comes back by pickle. A job lost with its worker (killed,
        out of memory) runs once more on a new one: the jobs are read-only exports, so running
        one again is safe, and a job that itself kills its worker fails the second time."""
        if not shareable(ctx.db.url):
            return await ctx.run(work, origin)
        job = Job(ctx.config, ctx.db.url, ctx.now(), origin)
        try:
            return await self._submit(job, work)
        except BrokenProcessPool:
            return await self._submit(job, work)

    async def _submit(self, job: Job, work: Callable[[UnitOfWork], T]) -> T:
        # From a thread: the first job starts the worker process, which waits for the
        # forkserver (seconds, the first time, while it imports the preloaded modules).
        pool, future = await asyncio.to_thread(self._start, job, work)
        try:
            return await asyncio.wrap_future(future)
        except BrokenProcessPool:
            self._forget(pool)
            raise

    def _start(
        self, job: Job, work: Callable[[UnitOfWork], T]
    ) -> tuple[ProcessPoolExecutor, Future[T]]:
        pool = self._executor()
        try:
            return pool, pool.submit(_run, job, work)
        except BrokenProcessPool:  # it died while idle
            self._forget(pool)
            raise

    def _forget(self, pool: ProcessPoolExecutor) -> None:
        """A broken pool is dropped: the next job starts a new worker."""
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False)

    async def stop(self) -> None:
        """Stop the worker (after the export it is running, if any), off the event loop."""
        pool, self._pool = self._pool, None
        if pool is not None:
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)


def worker_of(bot_data: MutableMapping[str, Any]) -> ExportWorker:
    """The application's export worker (not started until its first job)."""
    worker = bot_data.get(WORKER_KEY)
    if worker is None:
        worker = bot_data[WORKER_KEY] = ExportWorker()
    return worker


async def stop(bot_data: MutableMapping[str, Any]) -> None:
    """At application stop (``bot.app``): the worker, if one was started, ends."""
    worker = bot_data.pop(WORKER_KEY, None)
    if worker is not None:
        await worker.stop()
