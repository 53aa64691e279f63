"""Bulk writing for the demo: executemany on SQLite, COPY on PostgreSQL, no ORM objects.

Columns arrive as numpy arrays keyed by column name with these conventions: time stamps are
epoch seconds (NEVER = NULL), nullable foreign keys use -1 for NULL, floats use NaN.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pandas as pd
from sqlalchemy import Boolean, Connection, Index, Table, inspect, select

from salesops_core.db.models import Activity, Base, Deal, Lead, Rep
from salesops_core.demo.clock import NEVER
from salesops_core.timeutil import UtcDateTime

DEMO_PREFIX = "DEMO-"
DEMO_SLACK_PREFIX = "U0DEMO"
WRITE_BATCH = 50_000  # rows converted to Python objects at a time


def _time_strings(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds -> 'YYYY-MM-DD HH:MM:SS.000000' (SQLAlchemy's SQLite format), None=NULL."""
    missing = seconds >= NEVER
    text = np.datetime_as_string(
        np.where(missing, 0, seconds).astype("datetime64[s]").astype("datetime64[us]"), unit="us"
    )
    text = np.ascontiguousarray(text)
    text.view(np.uint32).reshape(len(text), -1)[:, 10] = ord(" ")
    out = text.astype(object)
    out[missing] = None
    return out


def _python_column(table: Table, name: str, values: np.ndarray) -> np.ndarray:
    column = table.c[name]
    if isinstance(column.type, UtcDateTime):
        return _time_strings(values)
    if isinstance(column.type, Boolean):
        return values.astype(np.int64)
    if values.dtype.kind == "f":
        out = values.astype(object)
        out[np.isnan(values)] = None
        return out
    if values.dtype.kind == "i" and column.nullable and column.foreign_keys:
        out = values.astype(object)
        out[values < 0] = None
        return out
    return values


class BulkWriter:
    """Appends column batches to tables inside one open connection (and transaction)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.postgres = connection.dialect.name == "postgresql"
        self.quote = connection.dialect.identifier_preparer.quote

    def write(self, table: Table, columns: dict[str, np.ndarray]) -> int:
        """Insert the rows, WRITE_BATCH at a time (bounded memory); returns how many."""
        names = list(columns)
        total = len(columns[names[0]]) if names else 0
        for first in range(0, total, WRITE_BATCH):
            part = {name: values[first : first + WRITE_BATCH] for name, values in columns.items()}
            self._write_batch(table, part)
        return total

    def _write_batch(self, table: Table, columns: dict[str, np.ndarray]) -> None:
        names = list(columns)
        prepared = [_python_column(table, name, columns[name]) for name in names]
        column_list = ", ".join(self.quote(name) for name in names)
        if self.postgres:
            frame = pd.DataFrame(dict(zip(names, prepared, strict=True)), copy=False)
            buffer = io.StringIO()
            frame.to_csv(buffer, header=False, index=False)
            raw = self.connection.connection.driver_connection
            sql = f"COPY {self.quote(table.name)} ({column_list}) FROM STDIN WITH (FORMAT csv)"
            with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
                copy.write(buffer.getvalue())
        else:
            rows = list(zip(*(col.tolist() for col in prepared), strict=True))
            marks = ", ".join("?" for _ in names)
            self.connection.exec_driver_sql(
                f"INSERT INTO {self.quote(table.name)} ({column_list}) VALUES ({marks})", rows
            )


def holds_foreign_data(connection: Connection) -> bool:
    """True when the database has rows the demo did not write (reps, deals, leads, activities)."""
    checks = [
        select(Rep.id).where(
            (Rep.slack_user_id.is_(None)) | (Rep.slack_user_id.not_like(f"{DEMO_SLACK_PREFIX}%"))
        ),
        *(
            select(model.id).where(model.external_id.not_like(f"{DEMO_PREFIX}%"))
            for model in (Deal, Lead, Activity)
        ),
    ]
    return any(connection.execute(check.limit(1)).first() is not None for check in checks)


def empty_tables(connection: Connection) -> None:
    """Delete every row of every application table (schema and migration state stay)."""
    existing = set(inspect(connection).get_table_names())
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name in existing]
    if connection.dialect.name == "postgresql":
        names = ", ".join(connection.dialect.identifier_preparer.quote(t.name) for t in tables)
        connection.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    else:
        for table in tables:
            connection.execute(table.delete())


@contextmanager
def indexes_dropped(connection: Connection, tables: list[Table]) -> Iterator[None]:
    """Drop the tables' secondary indexes for the load and build them again afterwards
    (one sorted build is much faster than millions of random B-tree inserts)."""
    inspector = inspect(connection)
    dropped: list[Index] = []
    for table in tables:
        present = {ix["name"] for ix in inspector.get_indexes(table.name)}
        for index in sorted(table.indexes, key=lambda ix: str(ix.name)):
            if index.name in present:
                index.drop(connection)
                dropped.append(index)
    yield
    for index in dropped:
        index.create(connection)


def reset_sequences(connection: Connection, tables: list[Table]) -> None:
    """PostgreSQL: move each id sequence past the explicit ids the load wrote."""
    if connection.dialect.name != "postgresql":
        return
    for table in tables:
        name = table.name
        connection.exec_driver_sql(
            f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
            f"COALESCE((SELECT MAX(id) FROM {connection.dialect.identifier_preparer.quote(name)}),"
            " 0) + 1, false)"
        )
