"""Alembic environment: runs against the engine the application hands over."""

from typing import Any, Literal

from alembic import context
from sqlmodel import SQLModel

import bot.tables  # noqa: F401  (every table joins the metadata)

target_metadata = SQLModel.metadata

# Tables owned by others (APScheduler's job store) stay out of autogenerate.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    return not (type_ == "table" and name in FOREIGN_TABLES)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Write our UTCDateTime as the plain timestamptz it is in the database."""
    if type_ == "type" and type(obj).__name__ == "UTCDateTime":
        return "sa.DateTime(timezone=True)"
    return False


def run_migrations_online() -> None:
    engine = context.config.attributes["engine"]
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            include_object=include_object,
            render_item=render_item,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
