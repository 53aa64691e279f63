"""Bulk upsert below the ORM: existing rows are loaded in chunks with plain driver queries and
compared with the new ones column by column in pandas; new rows go in as plain tuples
(executemany on SQLite, COPY on Postgres); changed rows are updated with executemany."""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnDefault, Float, Numeric, Table, bindparam, insert, select, update
from sqlalchemy.orm import Session

from salesops_core.timeutil import UtcDateTime

CHUNK = 5000
BATCH = 5000
SQLITE_CACHE = -65536  # KiB (64 MB) while bulk inserting

Progress = Callable[[str, int, int], None]


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    """Consecutive slices of at most `size` items."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def same(old: Any, new: Any) -> bool:
    """Equal as stored: floats within rounding, everything else exactly."""
    if isinstance(old, float) or isinstance(new, float):
        if old is None or new is None:
            return old is new
        return abs(float(old) - float(new)) <= 1e-9 * max(1.0, abs(old), abs(new)) + 1e-6
    return bool(old == new)


def _rows_where_in(
    session: Session, table: Table, columns: Sequence[str], column: str, values: Iterable[Any]
) -> list[tuple[Any, ...]]:
    """Raw driver rows of `columns` whose `column` is one of `values` (one query per chunk;
    `= ANY(array)` on Postgres). Values come back as the driver gives them."""
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    head = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table.name)} "
    head += f"WHERE {quote(column)} "
    postgres = connection.dialect.name == "postgresql"
    found: list[tuple[Any, ...]] = []
    for part in chunks(sorted(set(values))):
        if postgres:
            result = connection.exec_driver_sql(head + "= ANY(%(values)s)", {"values": list(part)})
        else:
            result = connection.exec_driver_sql(
                head + f"IN ({', '.join('?' * len(part))})", tuple(part)
            )
        found.extend(map(tuple, result.fetchall()))
    return found


def lookup_ids(session: Session, table: Table, column: str, keys: Iterable[str]) -> dict[str, int]:
    """{key: id} for the rows whose `column` is one of `keys` (one query per chunk)."""
    return {key: pk for pk, key in _rows_where_in(session, table, ("id", column), column, keys)}


@dataclass
class UpsertPlan:
    """What an upsert will do: rows to insert, (id, row, old values) to update, unchanged."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    unchanged: int = 0

    def updates(self) -> list[list[tuple[int, dict[str, Any]]]]:
        """Changed rows as (id, changed columns only), grouped by the set of columns."""
        groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
        for pk, row, old in self.changed:
            delta = {c: v for c, v in row.items() if not same(old[c], v)}
            groups.setdefault(tuple(delta), []).append((pk, delta))
        return list(groups.values())


def _normalised(table: Table, frame: pd.DataFrame) -> pd.DataFrame:
    """Comparable columns: time stamps as naive UTC datetime64, numbers as float (NaN for
    NULL), everything else as Python objects (enums compare equal to their values)."""
    out = {}
    for name in frame.columns:
        column_type = table.c[name].type if name in table.c else None
        values = frame[name]
        if isinstance(column_type, UtcDateTime):
            values = pd.to_datetime(values, utc=True, format="ISO8601").dt.tz_localize(None)
        elif isinstance(column_type, Numeric | Float):
            values = pd.to_numeric(values.where(values.notna(), np.nan)).astype(float)
        out[name] = values if values.dtype.kind in "fM" else values.astype(object)
    return pd.DataFrame(out, index=frame.index)


def _same_column(new: pd.Series, old: pd.Series) -> np.ndarray:
    """Row by row: equal as stored (floats within rounding, NULL equals NULL)."""
    if new.dtype.kind == "f":  # the stored side may be all NULL (object dtype): as floats
        a = new.to_numpy(dtype=float)
        b = pd.to_numeric(old, errors="coerce").to_numpy(dtype=float)
        close = np.abs(a - b) <= 1e-9 * np.maximum(1.0, np.maximum(np.abs(a), np.abs(b))) + 1e-6
        return (np.isnan(a) & np.isnan(b)) | close
    if new.dtype.kind == "M":
        return ((new == old) | (new.isna() & old.isna())).to_numpy()
    both_null = (new.isna() & old.isna()).to_numpy()
    equal = [x == y for x, y in zip(new.to_numpy(), old.to_numpy(), strict=True)]
    return both_null | np.array(equal, dtype=bool)


def plan_upsert(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    key: Sequence[str],
    lookup_column: str,
) -> UpsertPlan:
    """Compare rows with what is stored, matching on the `key` columns.

    Existing rows are fetched with `lookup_column IN (...)` per chunk of distinct values and
    compared in pandas; only changed rows are read again with their typed values.
    """
    plan = UpsertPlan()
    if not rows:
        return plan
    columns = list(rows[0])
    stored = _rows_where_in(
        session, table, ("id", *columns), lookup_column, (r[lookup_column] for r in rows)
    )
    if not stored:
        plan.new = rows
        return plan
    new = _normalised(table, pd.DataFrame.from_records(rows, columns=columns))
    old = pd.DataFrame.from_records(stored, columns=["id", *columns])
    del stored  # the frame holds it now
    old = _normalised(table, old).drop_duplicates(list(key), keep="last")
    merged = new.reset_index(names="row_").merge(
        old, on=list(key), how="left", suffixes=("", "_old"), sort=False
    )
    matched = merged["id"].notna().to_numpy()
    unchanged = matched.copy()
    for name in columns:
        if name not in key:
            unchanged &= _same_column(merged[name], merged[f"{name}_old"])
    plan.new = [rows[i] for i in merged["row_"][~matched]]
    plan.unchanged = int(unchanged.sum())
    changed = merged[matched & ~unchanged]
    if len(changed):
        ids = [int(pk) for pk in changed["id"]]
        typed = {
            pk: dict(zip(columns, values, strict=True))
            for part in chunks(ids)
            for pk, *values in session.execute(
                select(table.c.id, *(table.c[c] for c in columns)).where(table.c.id.in_(part))
            )
        }
        for pk, i in zip(ids, changed["row_"], strict=True):
            if all(same(typed[pk][c], v) for c, v in rows[i].items()):
                plan.unchanged += 1  # equal once typed (the frames compare raw values)
            else:
                plan.changed.append((pk, rows[i], typed[pk]))
    return plan


def _time_text(stamps: pd.Series) -> list[str | None]:
    """Naive-UTC datetime64 -> 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's SQLite format)."""
    missing = stamps.isna().to_numpy()
    values = stamps.to_numpy(dtype="datetime64[us]").copy()
    values[missing] = np.datetime64(0, "us")
    text = np.char.replace(np.datetime_as_string(values, unit="us"), "T", " ").astype(object)
    text[missing] = None
    return text.tolist()


def _plain_column(table: Table, name: str, values: list[Any]) -> list[Any]:
    """A column as the driver takes it: naive-UTC time stamps as text, enums as values."""
    if isinstance(table.c[name].type, UtcDateTime):
        series = pd.Series(values, dtype=object)
        return _time_text(pd.to_datetime(series, utc=True).dt.tz_localize(None))
    first = next((v for v in values if v is not None), None)
    if isinstance(first, enum.Enum):
        return [v.value if isinstance(v, enum.Enum) else v for v in values]
    return values


def copy_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], *, progress: Progress | None = None
) -> None:
    """Insert rows (all with the same columns) as plain tuples: executemany on SQLite, COPY on
    Postgres. Columns the rows lack get their scalar ORM defaults."""
    if not rows:
        return
    names = list(rows[0])
    defaults = {
        c.name: c.default.arg.value if isinstance(c.default.arg, enum.Enum) else c.default.arg
        for c in table.columns
        if c.name not in names and isinstance(c.default, ColumnDefault) and c.default.is_scalar
    }
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    column_list = ", ".join(quote(n) for n in [*names, *defaults])
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:  # a bigger page cache while updating the indexes, restored afterwards
        cache = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
        connection.exec_driver_sql(f"PRAGMA cache_size = {SQLITE_CACHE}")
    try:
        done = 0
        for part in chunks(rows, BATCH * 4):
            columns = [_plain_column(table, n, [row[n] for row in part]) for n in names]
            columns += [[value] * len(part) for value in defaults.values()]
            tuples = list(zip(*columns, strict=True))
            if sqlite:
                marks = ", ".join("?" * len(columns))
                sql = f"INSERT INTO {quote(table.name)} ({column_list}) VALUES ({marks})"
                connection.exec_driver_sql(sql, tuples)
            else:
                raw = connection.connection.driver_connection
                sql = f"COPY {quote(table.name)} ({column_list}) FROM STDIN"
                with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
                    for values in tuples:
                        copy.write_row(values)
            done += len(part)
            if progress:
                progress("writing", done, len(rows))
    finally:
        if sqlite:
            connection.exec_driver_sql(f"PRAGMA cache_size = {int(cache)}")


def insert_rows(
    session: Session, table: Table, rows: list[dict[str, Any]], *, returning: bool = False
) -> list[int]:
    """Insert rows with the ORM types and defaults (executemany); their new ids in order when
    `returning`. For the few rows of reps and teams; `copy_rows` is for volume."""
    ids: list[int] = []
    for part in chunks(rows, BATCH):
        if returning:
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids.extend(session.execute(stmt, list(part)).scalars().all())
        else:
            session.execute(insert(table), list(part))
    return ids


def update_rows(
    session: Session,
    table: Table,
    changes: list[tuple[int, dict[str, Any]]],
    *,
    progress: Progress | None = None,
) -> None:
    """Update rows by id with executemany (every row sets the same columns)."""
    if not changes:
        return
    stmt = update(table).where(table.c.id == bindparam("pk_"))
    done = 0
    for part in chunks(changes, BATCH):
        session.execute(stmt, [{"pk_": pk, **values} for pk, values in part])
        done += len(part)
        if progress:
            progress("updating", done, len(changes))
