"""Start-up: Alembic runs only for a database behind the scripts' head; the unit mapping, the
command menus and the FAQ index wait until the bot polls (bot.core.db, bot.seed, bot.app)."""

from __future__ import annotations

import asyncio
import json

import alembic.command
import pytest
from alembic.script import ScriptDirectory
from sqlmodel import select

from bot.app import BACKGROUND_KEY, CATCH_UP_KEY, build_application
from bot.context import create_context
from bot.core.audit import AuditLog
from bot.core.db import (
    Database,
    alembic_config,
    current_revisions,
    head_revisions,
    schema_is_current,
)
from bot.org.models import Unit
from bot.sandbox.offline import OfflineRequest
from bot.seed import seed
from reminders import scheduler

SCRIPT = '''"""{doc}"""
revision: str = {revision!r}
down_revision = {down!r}
branch_labels = None


def upgrade() -> None:
    pass
'''


def _script(folder, name: str, revision: str, down: object) -> None:
    (folder / f"{name}.py").write_text(
        SCRIPT.format(doc=name, revision=revision, down=down), encoding="utf-8"
    )


def test_the_head_is_the_revision_no_script_builds_on(tmp_path):
    _script(tmp_path, "a", "0001", None)
    _script(tmp_path, "b", "0002", "0001")
    _script(tmp_path, "c1", "0003", "0002")
    _script(tmp_path, "c2", "0003b", "0002")
    assert head_revisions(tmp_path) == {"0003", "0003b"}  # two branches, two heads
    _script(tmp_path, "d", "0004", ("0003", "0003b"))
    assert head_revisions(tmp_path) == {"0004"}  # merged
    (tmp_path / "e.py").write_text(  # a merge written over several lines
        'revision = "0005"\ndown_revision = (\n    "0004",\n    "0003",\n)\n', encoding="utf-8"
    )
    assert head_revisions(tmp_path) == {"0005"}


def test_the_head_read_from_the_scripts_is_alembics():
    scripts = ScriptDirectory.from_config(alembic_config(None))
    assert head_revisions() == set(scripts.get_heads())


@pytest.fixture
def upgrades(monkeypatch):
    """Every ``alembic upgrade`` run (carried out as usual)."""
    calls: list[str] = []
    upgrade = alembic.command.upgrade

    def recorded(config, revision, **kwargs):
        calls.append(revision)
        return upgrade(config, revision, **kwargs)

    monkeypatch.setattr(alembic.command, "upgrade", recorded)
    return calls


def test_a_current_database_does_not_run_alembic(any_db_url, upgrades):
    db = Database(any_db_url)
    try:
        assert schema_is_current(db.engine)
        assert db.migrate() is False
    finally:
        db.dispose()
    assert upgrades == []


def test_a_database_behind_is_migrated_and_a_new_one_created(sqlite_url, tmp_path, upgrades):
    db = Database(sqlite_url)
    try:
        alembic.command.downgrade(alembic_config(db.engine), "-1")
        with db.engine.connect() as conn:
            behind = current_revisions(conn)
        assert behind and behind != head_revisions()
        assert db.migrate() is True
        with db.engine.connect() as conn:
            assert current_revisions(conn) == head_revisions()
        assert db.migrate() is False  # and now it is current
    finally:
        db.dispose()
    new = Database(f"sqlite:///{tmp_path / 'new.db'}")
    try:
        assert new.migrate() is True
        assert schema_is_current(new.engine)
    finally:
        new.dispose()
    assert upgrades == ["head", "head"]


def _departments(ctx) -> dict[str, str | None]:
    with ctx.db.session() as s:
        return {u.name: u.category_department for u in s.exec(select(Unit))}


def _seed_audits(ctx) -> list[dict]:
    with ctx.db.session() as s:
        rows = s.exec(select(AuditLog).where(AuditLog.action == "seed").order_by(AuditLog.id))
        return [json.loads(r.detail) for r in rows]


def test_a_start_may_leave_the_unit_mapping_for_later(config, sqlite_url, clock):
    ctx = create_context(config, db_url=sqlite_url, clock=clock, migrate=False, map_units=False)
    try:
        assert ctx.units_to_map
        assert _departments(ctx)["市教育局"] is None  # seeded, not mapped yet
        (seeded,) = _seed_audits(ctx)
        assert "category_departments" not in seeded
        assert ctx.map_units() == 9
        assert _departments(ctx)["市教育局"] == "省教育厅"
        assert _seed_audits(ctx)[-1]["category_departments"]["mapped"] == 9
        assert ctx.map_units() == 0 and not ctx.units_to_map  # done once
        with ctx.db.session() as s:
            assert seed(s, config, clock.now()) == []  # a later start finds nothing to do
    finally:
        ctx.db.dispose()


async def _background_done(app, tasks: int) -> None:
    """Until the after-start job has started its tasks, then until they end."""
    for _ in range(500):
        if len(app.bot_data.get(BACKGROUND_KEY, [])) >= tasks:
            break
        await asyncio.sleep(0.01)
    started = app.bot_data[BACKGROUND_KEY]
    assert len(started) >= tasks
    await asyncio.wait_for(asyncio.gather(*started), 60)


async def test_the_menus_and_the_faq_index_do_not_hold_up_polling(ctx):
    request = OfflineRequest()
    app = build_application(ctx, "1:startup", request=request, rate_limit=False)
    async with app:
        await app.post_init(app)
        # Before polling: the reminders are scheduled; post_init did not wait for the menus,
        # and the FAQ index waits for the application to start.
        assert scheduler.scheduler_of(app) is not None
        assert request.of("setMyCommands") == []
        assert not ctx.faq_ready
        await app.start()  # the JobQueue starts with it, as after the first getUpdates
        await _background_done(app, tasks=2)
        assert len(request.of("setMyCommands")) == 2
        assert ctx.faq_ready
        assert app.bot_data[CATCH_UP_KEY].is_set()  # the catch-up has run
        await app.stop()
    await app.post_shutdown(app)


async def test_a_deferred_mapping_runs_before_the_reminders_start(config, sqlite_url, clock):
    ctx = create_context(config, db_url=sqlite_url, clock=clock, migrate=False, map_units=False)
    app = build_application(ctx, "1:startup", request=OfflineRequest(), rate_limit=False)
    async with app:
        await app.post_init(app)  # returns at once: mapping and reminders in the background
        await app.start()
        await _background_done(app, tasks=3)
        assert _departments(ctx)["市教育局"] == "省教育厅"
        assert scheduler.scheduler_of(app) is not None
        assert app.bot_data[CATCH_UP_KEY].is_set() and ctx.faq_ready
        await app.stop()
    await app.post_shutdown(app)


def test_serving_does_not_import_what_only_a_workbook_or_the_faq_needs():
    """What polls (the command line's ``run``: bot.serve, bot.app and every handler) imports
    neither openpyxl nor the FAQ's libraries: they load when a workbook is made and in the FAQ
    warm-up."""
    import subprocess
    import sys

    code = (
        "import sys, bot.cli, bot.serve, bot.app, handlers\n"
        "print(sorted(m for m in ('openpyxl', 'jieba', 'bm25s', 'marisa_trie', 'matplotlib')"
        " if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
