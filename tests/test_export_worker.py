"""The export worker (``bot.workers``): /results_export and /export are made in another process,
their files the same as made in the bot's own; the bot answers others while an export runs;
a worker that died is replaced; the worker stops with the application."""

from __future__ import annotations

import asyncio
import functools
import io
import os
import socket
from pathlib import Path

import openpyxl
import pytest
from sqlmodel import func, select

from bot import workers
from bot.core import tabular as imports
from bot.core.render import render
from bot.core.uow import Origin, UnitOfWork
from bot.org.models import Unit
from bot.results import export, importer
from bot.results.table import percent
from tests import factories

RESULTS = (
    "account,round,score\nly1zhang,zone1,80\nlyjyli,zone1,50\nhdzhao,zone1,缺考\nsfjwang,zone1,95\n"
)
CITY = "市办"
REAL_RESULTS_FILES = workers.results_files  # (in the worker too: there it is the module's own)


def _results(ctx, tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    path.write_text(RESULTS, encoding="utf-8")
    request = imports.ImportRequest(imports.read_table(path, "results"), source=path.name)
    assert ctx.run_sync(lambda uow: importer.import_results(uow, request), Origin.cli()).written


@pytest.fixture
def world(ctx, tmp_path):
    factories.tree(ctx)
    _results(ctx, tmp_path)
    return ctx


@pytest.fixture
async def city_bot(bot, world):
    """The bot, the city office bound; its export worker stopped at the end (as the
    application's shutdown does)."""
    factories.bind(world, "city", "city", bot.user_id(CITY))
    yield bot
    await workers.stop(bot.app.bot_data)


def _rows(content: bytes) -> dict[str, list[tuple]]:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return {sheet.title: list(sheet.iter_rows(values_only=True)) for sheet in book}


# --- jobs the worker runs for these tests (module-level: they travel by name) ------------------


def pid_and_units(uow: UnitOfWork) -> tuple[int, int]:
    """Where the job ran, and what it read of the database."""
    return os.getpid(), uow.session.exec(select(func.count()).select_from(Unit)).one()


def gated_results_files(gate: str, uow: UnitOfWork) -> workers.ResultsFiles:
    """The real export, held at its start: tells the test's socket its process id, then waits
    for the test to send a byte."""
    with socket.socket(socket.AF_UNIX) as conn:
        conn.connect(gate)
        conn.sendall(f"{os.getpid()}\n".encode())
        conn.recv(1)
    return REAL_RESULTS_FILES(uow)


# --- the tests ---------------------------------------------------------------------------------


async def test_results_export_from_the_worker_matches_the_bots_own(city_bot, world):
    bot, uid = city_bot, city_bot.user_id(CITY)
    await bot.send("/results_export", user=CITY)
    assert workers.worker_of(bot.app.bot_data).started
    xlsx, png = bot.request.of("sendDocument")
    here = world.run_sync(workers.results_files, Origin.telegram(uid, uid))  # in this process
    assert _rows(xlsx.files["document"][1]) == _rows(here.xlsx)
    assert list(_rows(here.xlsx)) == list(export.SHEETS)
    assert png.files["document"][1] == here.png
    assert png.params["caption"] == here.chart_caption
    caption = render(
        "results_export_done",
        c=world.config,
        now=here.now,
        city=here.city,
        has_makeup=here.has_makeup,
        sheets=export.SHEETS,
        pct=percent,
    )
    assert xlsx.params["caption"] == caption
    await bot.send("/export", user=CITY)
    (_, _, registrations) = bot.request.of("sendDocument")
    made = world.run_sync(workers.registrations_file, Origin.telegram(uid, uid))
    assert _rows(registrations.files["document"][1]) == _rows(made.xlsx)


async def test_the_bot_answers_others_while_an_export_runs(city_bot, tmp_path, monkeypatch):
    bot = city_bot
    gate = str(tmp_path / "gate")
    monkeypatch.setattr(workers, "results_files", functools.partial(gated_results_files, gate))
    loop = asyncio.get_running_loop()
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(gate)
        server.listen(1)
        server.setblocking(False)
        exporting = asyncio.create_task(bot.send("/results_export", user=CITY))
        conn, _ = await asyncio.wait_for(loop.sock_accept(server), 60)
        with conn:
            pid = int((await loop.sock_recv(conn, 32)).decode())
            assert pid != os.getpid()  # the export is in another process, and it is running
            answer = await bot.send("/faq 补考什么时候报名", user="群友", group=True)
            assert answer and not exporting.done() and not bot.request.of("sendDocument")
            await loop.sock_sendall(conn, b"!")
            await asyncio.wait_for(exporting, 60)
    assert [c.files["document"][0][-4:] for c in bot.request.of("sendDocument")] == [
        "xlsx",
        ".png",
    ]


async def test_a_dead_worker_is_replaced_and_the_worker_stops(any_ctx):
    """On SQLite and PostgreSQL: the worker reads the bot's database with its own connection."""
    factories.tree(any_ctx)
    with any_ctx.db.session() as s:
        units = s.exec(select(func.count()).select_from(Unit)).one()
    worker = workers.ExportWorker()
    first, seen = await worker.run(any_ctx, pid_and_units, Origin.cli())
    assert first != os.getpid() and seen == units
    os.kill(first, 9)  # the worker dies while idle (killed, out of memory)
    second, seen = await worker.run(any_ctx, pid_and_units, Origin.cli())
    assert second not in (first, os.getpid()) and seen == units
    await worker.stop()
    assert not worker.started
    with pytest.raises(ProcessLookupError):
        os.kill(second, 0)  # gone, and reaped


def test_in_memory_databases_stay_in_the_bot():
    assert not workers.shareable("sqlite://")
    assert not workers.shareable("sqlite:///:memory:")
    assert workers.shareable("sqlite:////tmp/bot.db")
    assert workers.shareable("postgresql+psycopg://u:p@db/x")
