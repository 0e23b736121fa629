"""Column types shared by every table: aware datetimes on every database, 64-bit ids."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Column, DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware datetimes on every database: stored in UTC, read back aware.

    SQLite has no timezone type and would drop the offset, so values are normalised to UTC on the
    way in and get UTC attached on the way out; PostgreSQL stores timestamptz.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a timezone-aware column")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(
        self, value: dt.datetime | None, dialect: Dialect
    ) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def aware(**kwargs: Any) -> Column[dt.datetime]:
    return Column(UTCDateTime(), **kwargs)


def bigint(**kwargs: Any) -> Column[int]:
    """Telegram user and chat ids exceed 32 bits."""
    return Column(BigInteger, **kwargs)
