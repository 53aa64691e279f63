"""Bulk upsert with SQLAlchemy Core: existing rows are loaded in chunks (one query per chunk),
then new rows are inserted and changed rows updated with executemany."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, String, Table, any_, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

CHUNK = 5000
BATCH = 5000

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


def _one_of(session: Session, column: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN (...)`; on Postgres `column = ANY(:array)` (one parameter, much faster)."""
    if session.get_bind().dialect.name == "postgresql" and isinstance(column.type, String):
        return column == any_(bindparam("values_", list(values), type_=ARRAY(column.type)))
    return column.in_(values)


def lookup_ids(session: Session, table: Table, column: str, keys: Iterable[str]) -> dict[str, int]:
    """{key: id} for the rows whose `column` is one of `keys` (one query per chunk)."""
    wanted = sorted(set(keys))
    found: dict[str, int] = {}
    col = table.c[column]
    for part in chunks(wanted):
        rows = session.execute(select(table.c.id, col).where(_one_of(session, col, part)))
        found.update({k: i for i, k in rows})
    return found


@dataclass
class UpsertPlan:
    """What an upsert will do: rows to insert, (id, row, old values) to update, unchanged."""

    new: list[dict[str, Any]] = field(default_factory=list)
    changed: list[tuple[int, dict[str, Any], dict[str, Any]]] = field(default_factory=list)

    def updates(self) -> list[list[tuple[int, dict[str, Any]]]]:
        """Changed rows as (id, changed columns only), grouped by the set of columns."""
        groups: dict[tuple[str, ...], list[tuple[int, dict[str, Any]]]] = {}
        for pk, row, old in self.changed:
            delta = {c: v for c, v in row.items() if not same(old[c], v)}
            groups.setdefault(tuple(delta), []).append((pk, delta))
        return list(groups.values())

    unchanged: int = 0


def plan_upsert(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    key: Sequence[str],
    lookup_column: str,
) -> UpsertPlan:
    """Compare rows with what is stored, matching on the `key` columns.

    Existing rows are fetched with `lookup_column IN (...)` per chunk of distinct values.
    """
    columns = list(rows[0]) if rows else []
    selected = [table.c[c] for c in columns]
    lookup = table.c[lookup_column]
    key_at = [columns.index(k) for k in key]
    existing: dict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = {}
    values = sorted({row[lookup_column] for row in rows})
    for part in chunks(values):
        stmt = select(table.c.id, *selected).where(_one_of(session, lookup, part))
        for pk, *found in session.execute(stmt).all():
            existing[tuple(found[i] for i in key_at)] = (pk, tuple(found))
    plan = UpsertPlan()
    for row in rows:
        new = tuple(row.values())
        match = existing.get(tuple(new[i] for i in key_at))
        if match is None:
            plan.new.append(row)
            continue
        pk, old = match
        if old == new or all(same(a, b) for a, b in zip(old, new, strict=True)):
            plan.unchanged += 1
        else:
            plan.changed.append((pk, row, dict(zip(columns, old, strict=True))))
    return plan


def insert_rows(
    session: Session,
    table: Table,
    rows: list[dict[str, Any]],
    *,
    returning: bool = False,
    progress: Progress | None = None,
) -> list[int]:
    """Insert rows in batches (executemany); their new ids in order when `returning`."""
    ids: list[int] = []
    done = 0
    for part in chunks(rows, BATCH):
        if returning:
            stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
            ids.extend(session.execute(stmt, list(part)).scalars().all())
        else:
            session.execute(insert(table), list(part))
        done += len(part)
        if progress:
            progress("writing", done, len(rows))
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
