"""Storage: migrations build the schema the models describe; seeding is idempotent."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlmodel import SQLModel, func, select

from bot.context import create_context
from bot.core.audit import AuditLog
from bot.org.models import ROOT_CODE, Administrator, Role, Unit
from bot.seed import seed


def test_migrations_match_the_models(any_ctx):
    with any_ctx.db.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = [d for d in compare_metadata(mc, SQLModel.metadata) if "apscheduler" not in str(d)]
    assert diff == []


def test_seed_creates_the_config_units_once(any_ctx, config, clock):
    with any_ctx.db.session() as s:
        root = s.exec(select(Unit).where(Unit.code == ROOT_CODE)).one()
        units = s.exec(select(Unit).where(Unit.parent_id == root.id)).all()
        names = {u.name for u in units}
        assert set(config.centralized.units) <= names
        assert {q.department for q in config.question_bank} <= names
        assert all(u.path == f"{root.path}{u.id}/" for u in units)
        city_admins = s.exec(select(Administrator).where(Administrator.role == Role.CITY)).all()
        assert len(city_admins) == 1
        before = s.exec(select(func.count()).select_from(Unit)).one()
        audits = s.exec(select(func.count()).select_from(AuditLog)).one()
    with any_ctx.db.session() as s:
        assert seed(s, config, clock.now()) == []
    with any_ctx.db.session() as s:
        assert s.exec(select(func.count()).select_from(Unit)).one() == before
        assert s.exec(select(func.count()).select_from(AuditLog)).one() == audits


def test_start_migrates_a_fresh_file(tmp_path, config, clock):
    ctx = create_context(config, db_url=f"sqlite:///{tmp_path / 'fresh.db'}", clock=clock)
    with ctx.db.session() as s:
        assert s.exec(select(func.count()).select_from(Unit)).one() == 1 + len(
            set(config.centralized.units) | {q.department for q in config.question_bank}
        )
    ctx.db.dispose()
    # A second start on the same file applies nothing new and seeds nothing.
    again = create_context(config, db_url=f"sqlite:///{tmp_path / 'fresh.db'}", clock=clock)
    with again.db.session() as s:
        assert s.exec(select(func.count()).select_from(AuditLog)).one() == 1
    again.db.dispose()
