"""Shared fixtures: the real config, a real database (SQLite; PostgreSQL with
TEST_DATABASE_URL), a movable clock, and the real Application on an offline Telegram."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import warnings
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

import bot.tables
from bot.context import AppContext, create_context
from bot.core.clock import Clock
from bot.core.config import load_config
from bot.core.db import Database, database_url
from bot.sandbox.offline import OfflineRequest
from bot.sandbox.runner import Sandbox

PG_URL = os.environ.get("TEST_DATABASE_URL", "")
CAMPAIGN_NOW = dt.datetime(2022, 9, 14, 10, 0)


def pytest_report_header(config):
    if PG_URL:
        return "PostgreSQL tests: on (TEST_DATABASE_URL is set)"
    return "PostgreSQL tests: SKIPPED — set TEST_DATABASE_URL to run them"


@pytest.fixture(scope="session")
def campaign_config():
    return load_config()


@pytest.fixture
def config(campaign_config):
    return campaign_config


@pytest.fixture
def clock(config) -> Clock:
    clock = Clock(config.tz)
    clock.freeze(CAMPAIGN_NOW)
    return clock


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """A migrated SQLite file, made once; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "bot.db"
    db = Database(f"sqlite:///{path}")
    db.migrate()
    db.dispose()
    return path


@pytest.fixture
def sqlite_url(sqlite_template, tmp_path) -> str:
    target = tmp_path / "bot.db"
    shutil.copy(sqlite_template, target)
    return f"sqlite:///{target}"


_pg_migrated = False


def _worker_database(url: str) -> str:
    """Each pytest-xdist worker gets its own PostgreSQL database (test_gw0, test_gw1 ...),
    created on first use beside the one TEST_DATABASE_URL names."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if not worker:
        return url
    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            ).first()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def _reset_postgres() -> str:
    global _pg_migrated
    url = _worker_database(database_url(PG_URL))
    db = Database(url)
    with db.engine.begin() as conn:
        if not _pg_migrated:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            tables = [
                r[0]
                for r in conn.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname='public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ]
            if tables:
                conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    if not _pg_migrated:
        db.migrate()
        _pg_migrated = True
    db.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def any_db_url(request, sqlite_url) -> str:
    """Runs a test on SQLite and, where TEST_DATABASE_URL is set, on PostgreSQL."""
    if request.param == "sqlite":
        return sqlite_url
    if not PG_URL:
        warnings.warn("PostgreSQL variant skipped: TEST_DATABASE_URL is not set", stacklevel=1)
        pytest.skip("TEST_DATABASE_URL is not set")
    return _reset_postgres()


def _context(config, url, clock) -> AppContext:
    return create_context(config, db_url=url, clock=clock, migrate=False)


@pytest.fixture
def ctx(config, sqlite_url, clock):
    context = _context(config, sqlite_url, clock)
    yield context
    context.db.dispose()


@pytest.fixture
def any_ctx(config, any_db_url, clock):
    context = _context(config, any_db_url, clock)
    yield context
    context.db.dispose()


@pytest.fixture
async def bot(ctx):
    """The real Application on an offline Telegram; handler errors fail the test."""
    errors: list[BaseException] = []
    sandbox = Sandbox(ctx)

    async def record(update, context):
        errors.append(context.error)

    sandbox.app.add_error_handler(record)
    async with sandbox:
        yield sandbox
    if errors:
        raise errors[0]


# The Bot API methods that carry a text or a caption, and the field that holds it.
TEXT_FIELDS = {
    "sendMessage": "text",
    "editMessageText": "text",
    "sendDocument": "caption",
    "sendPhoto": "caption",
    "editMessageCaption": "caption",
}
NO_PREVIEW_METHODS = {"sendMessage", "editMessageText"}


@pytest.fixture(autouse=True)
def texts_go_out_as_html(monkeypatch):
    """Every text and caption the bot sends on the offline Telegram names the HTML parse mode
    (and texts, link previews off: ``bot.outgoing``); one that did not would show its tags
    raw. Fails the test that sent it."""
    plain: list[tuple[str, object]] = []
    do_request = OfflineRequest.do_request

    async def checked(self, url, method, request_data=None, *args, **kwargs):
        api = url.rsplit("/", 1)[-1]
        field = TEXT_FIELDS.get(api)
        params = request_data.parameters if request_data is not None else {}
        if field is not None and field in params:
            previews = params.get("link_preview_options")
            if params.get("parse_mode") != "HTML" or (
                api in NO_PREVIEW_METHODS and previews != {"is_disabled": True}
            ):
                plain.append((api, params[field]))
        return await do_request(self, url, method, request_data, *args, **kwargs)

    monkeypatch.setattr(OfflineRequest, "do_request", checked)
    yield plain
    assert not plain, f"sent without the HTML parse mode or with link previews: {plain}"
