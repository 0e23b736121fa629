"""Writing a whole file's rows at once, inside the unit of work's transaction.

An import streams its checked rows into a ``Stage``, a temporary table of plain columns: on
PostgreSQL through one ``COPY … FROM STDIN`` (psycopg's ``cursor.copy``), on SQLite through the
driver's ``executemany`` in chunks; no ORM objects and no per-row bind processing either way.
A ``Merge`` then moves the staged rows into their table with set-based statements that read the
same on both databases: one query counts what will be created and changed, one ``UPDATE … FROM``
rewrites the rows whose values differ, one ``INSERT … SELECT`` adds the new ones.

Nothing here commits. A refused file leaves only the stage behind, and the stage is dropped
when its block ends (and, being temporary, never outlives the connection): all or nothing, as
the unit of work has it.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

CHUNK = 5_000  # rows per executemany on SQLite
TEMP_SCHEMA = {"postgresql": "pg_temp", "sqlite": "temp"}
SQLITE_CACHE_KIB = 64 * 1024
"""SQLite's page cache while a stage is open (its default is 2 MiB): a city's roster and its
indexes fit, and inserting 150,000 learners takes about a third less time."""


class Stage:
    """A temporary table for one import's rows (``columns``: its plain columns, without keys or
    constraints); ``with Stage(...) as stage`` creates it and drops it again."""

    def __init__(self, session: Session, name: str, *columns: sa.Column[Any]) -> None:
        self.session = session
        self.table = sa.Table(name, sa.MetaData(), *columns, prefixes=["TEMPORARY"])
        self.count = 0
        self._cache: Any = None  # SQLite's page cache size before the stage opened

    @property
    def c(self) -> Any:
        """The stage's columns, for statements."""
        return self.table.c

    @property
    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def __enter__(self) -> Stage:
        connection = self.session.connection()
        if self._dialect == "sqlite":
            self._cache = connection.exec_driver_sql("PRAGMA cache_size").scalar()
            connection.exec_driver_sql(f"PRAGMA cache_size = -{SQLITE_CACHE_KIB}")
        self._drop(connection)  # a stage an earlier import on this connection left
        self.table.create(connection)
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        # After a database error PostgreSQL refuses every statement until the rollback, which
        # drops the stage anyway (it was created in the same transaction).
        if error is None or self._dialect != "postgresql":
            connection = self.session.connection()
            self._drop(connection)
            if self._dialect == "sqlite":  # the connection goes back to the pool as it came
                connection.exec_driver_sql(f"PRAGMA cache_size = {int(self._cache)}")

    def _drop(self, connection: sa.Connection) -> None:
        schema = TEMP_SCHEMA.get(self._dialect)
        name = connection.dialect.identifier_preparer.quote(self.table.name)
        target = f"{schema}.{name}" if schema else name
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {target}")

    def load(self, rows: Iterable[Sequence[Any]]) -> int:
        """Stream ``rows`` (tuples in the order of the stage's columns) into the stage; the
        number loaded. ``rows`` may be a generator that checks a file as it goes."""
        connection = self.session.connection()
        quote = connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(c.name) for c in self.table.columns)
        table = quote(self.table.name)
        before = self.count
        if self._dialect == "postgresql":
            driver = connection.connection.driver_connection
            with driver.cursor() as cursor:  # type: ignore[union-attr]
                with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        self.count += 1
                cursor.execute(f"ANALYZE {table}")  # autovacuum never sees a temporary table
        else:
            marks = ", ".join("?" for _ in self.table.columns)
            statement = f"INSERT INTO {table} ({names}) VALUES ({marks})"
            iterator = iter(rows)
            while chunk := list(itertools.islice(iterator, CHUNK)):
                connection.exec_driver_sql(statement, chunk)
                self.count += len(chunk)
        return self.count - before


@dataclass(frozen=True)
class Tally:
    """What a merge will do: the rows staged, those matching a row already in the table, and
    those of them whose values differ; ``extra``: the counts asked for by name."""

    staged: int
    matched: int
    changed: int
    extra: dict[str, int] = field(default_factory=dict)

    @property
    def created(self) -> int:
        return self.staged - self.matched

    @property
    def unchanged(self) -> int:
        return self.matched - self.changed


@dataclass(frozen=True)
class Merge:
    """How a stage's rows go into ``target``: matched by ``key`` (target column → stage
    expression); a matched row takes ``values`` (target column → new value, which may use the
    row's current one) where any differs; an unmatched stage row is inserted as ``new``
    (target column → value), in the order of ``order``. ``stamp`` (column → constant) is
    written on every row inserted or changed."""

    stage: Stage
    target: sa.Table
    key: Mapping[str, ColumnElement[Any]]
    values: Mapping[str, ColumnElement[Any]]
    new: Mapping[str, ColumnElement[Any]]
    stamp: Mapping[str, Any] = field(default_factory=dict)
    order: Sequence[ColumnElement[Any]] = ()

    @property
    def matched(self) -> ColumnElement[bool]:
        return sa.and_(*(self.target.c[name] == value for name, value in self.key.items()))

    @property
    def changed(self) -> ColumnElement[bool]:
        return sa.or_(
            *(self.target.c[name].is_distinct_from(value) for name, value in self.values.items())
        )

    def joined(self) -> sa.Join:
        """Every staged row, with its row of ``target`` where it has one (else NULLs)."""
        return self.stage.table.outerjoin(self.target, self.matched)

    def tally(self, **extra: ColumnElement[bool]) -> Tally:
        """Count before writing: staged, matched, changed, and per ``extra`` name the matched
        rows meeting its condition."""
        present = next(iter(self.target.primary_key.columns)).is_not(None)

        def among_matched(condition: ColumnElement[bool]) -> Any:
            return sa.func.coalesce(sa.func.sum(sa.case((sa.and_(present, condition), 1))), 0)

        query = sa.select(
            sa.func.count(),
            among_matched(sa.true()),
            among_matched(self.changed),
            *(among_matched(condition) for condition in extra.values()),
        ).select_from(self.joined())
        staged, matched, changed, *counts = self.stage.session.execute(query).one()
        return Tally(staged, matched, changed, dict(zip(extra, map(int, counts), strict=True)))

    def apply(self, tally: Tally | None = None) -> None:
        """Rewrite the matched rows whose values differ, then insert the rest; given the
        ``tally``, a statement with nothing to do is left out (a re-import of the same file
        is then the one counting pass)."""
        session, target = self.stage.session, self.target
        if tally is None or tally.changed:
            changes = sa.update(target).where(self.matched, self.changed)
            session.execute(changes.values({**self.values, **self.stamp}))
        if tally is not None and not tally.created:
            return
        columns = [*self.new, *self.stamp]
        constants = [sa.literal(v, target.c[name].type) for name, v in self.stamp.items()]
        rows = (
            sa.select(*self.new.values(), *constants)
            .where(~sa.exists().where(self.matched))
            .order_by(*self.order)
        )
        session.execute(sa.insert(target).from_select(columns, rows))
