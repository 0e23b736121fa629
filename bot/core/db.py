"""Database engine, sessions and schema migrations.

SQLite (a file under data/) by default; PostgreSQL through ``DATABASE_URL``. The schema is created
and upgraded by the Alembic migrations in bot/core/migrations, checked at every start: Alembic
itself (a third of a second of imports, then every migration script loaded) runs only when the
database's ``alembic_version`` is not the scripts' head.
"""

from __future__ import annotations

import ast
import logging
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlmodel import Session, create_engine

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSIONS = MIGRATIONS / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's default, which env.py keeps
STARTUP_LOCK_KEY = 7_220_914  # pg_advisory_lock key of this application's start-up


def database_url(configured: str) -> str:
    """``DATABASE_URL`` from the environment wins over config.toml; relative SQLite paths are
    taken from the repository root so the bot finds its data wherever it is started."""
    url = os.environ.get("DATABASE_URL") or configured
    parsed = make_url(url)
    if parsed.drivername.startswith("postgres") and parsed.drivername in ("postgres", "postgresql"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if not path.is_absolute():
            path = ROOT / path
        path.parent.mkdir(parents=True, exist_ok=True)
        parsed = parsed.set(database=str(path))
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine, campaign: object = None) -> AlembicConfig:
    """Alembic's config for ``engine``; ``campaign``: the running config.toml, for a
    migration whose data follows from it (0014 folds the results by its pass mark)."""
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    if campaign is not None:
        cfg.attributes["campaign_config"] = campaign
    return cfg


# Alembic writes each on one line: ``revision: str = '0012'``, ``down_revision = ('a', 'b')``.
_ASSIGNMENT = re.compile(r"^(revision|down_revision)\b[^=\n]*=(.*)$", re.MULTILINE)


def _identifiers(script: Path) -> tuple[str, tuple[str, ...]]:
    """A migration script's revision and the revisions it builds on, read as text: a script's
    ``revision`` and ``down_revision`` lines (their literal values), or, written another way,
    the whole script parsed (without running it)."""
    text = script.read_text(encoding="utf-8")
    values: dict[str, Any] = {}
    try:
        for name, value in _ASSIGNMENT.findall(text):
            values.setdefault(name, ast.literal_eval(value.strip()))
    except (ValueError, SyntaxError):  # e.g. a tuple over several lines
        values = {}
    if len(values) < 2:
        tree = ast.parse(text, filename=str(script))
        for node in tree.body:
            if isinstance(node, ast.AnnAssign | ast.Assign) and node.value is not None:
                targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
                for target in targets:
                    if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                        values[target.id] = ast.literal_eval(node.value)
    down = values.get("down_revision")
    return values["revision"], (down,) if isinstance(down, str) else tuple(down or ())


def head_revisions(versions: Path = VERSIONS) -> frozenset[str]:
    """The revisions no migration script builds on: what ``alembic upgrade head`` ends at.

    Read from the scripts' text, so the check costs a millisecond instead of importing
    Alembic and running every script; scripts added later (a merge with a tuple of
    down-revisions included) are found the same way."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in versions.glob("*.py"):
        revision, down = _identifiers(script)
        revisions.add(revision)
        parents.update(down)
    return frozenset(revisions - parents)


def current_revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database is at (empty for a database Alembic never touched)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return frozenset()
    rows = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))
    return frozenset(row[0] for row in rows)


def schema_is_current(engine: Engine) -> bool:
    with engine.connect() as connection:
        return current_revisions(connection) == head_revisions()


def migrate(engine: Engine, campaign: object = None) -> bool:
    """Bring the schema to the newest migration; False when it was there already (then
    Alembic is not even imported). A database that is ahead of the scripts, or on another
    branch, goes to Alembic, which says what is wrong."""
    if schema_is_current(engine):
        log.debug("database schema at its head revision: no migration to run")
        return False
    from alembic import command

    command.upgrade(alembic_config(engine, campaign), "head")
    return True


class Database:
    """The engine plus a transactional session scope."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def migrate(self, campaign: object = None) -> bool:
        """Apply the migrations the database lacks (``campaign``: the running config, for
        those that need it); whether there were any."""
        return migrate(self.engine, campaign)

    @contextmanager
    def startup_lock(self) -> Iterator[None]:
        """Serialises start-up work (migrations, seeding) between processes sharing one
        PostgreSQL database: two instances starting together would otherwise both create the
        same seed rows and one would fail. A session-level advisory lock, released on exit (or
        when the process dies). SQLite needs none: its writes are serialised already."""
        if self.dialect != "postgresql":
            yield
            return
        with self.engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": STARTUP_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": STARTUP_LOCK_KEY})
                conn.commit()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """One transaction: committed on success, rolled back on any error."""
        with Session(self.engine, expire_on_commit=False) as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def dispose(self) -> None:
        self.engine.dispose()
