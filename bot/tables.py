"""Every table of the product, imported once so that SQLModel's metadata (and with it Alembic
and start-up) knows them all. Each table is defined in its capability's ``models`` module."""

import reminders.models  # noqa: F401

__all__: list[str] = []
