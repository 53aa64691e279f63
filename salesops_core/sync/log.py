"""The sync's memory: each object's cursor, the skipped records to fetch again, and the log
of runs (`salesops sync --status`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from salesops_core.db.engine import upsert_insert
from salesops_core.db.models import SyncCursor, SyncPending, SyncRun

MAX_LOGGED_ERRORS = 500  # skipped records kept per run; the count is always whole


@dataclass(frozen=True)
class Cursor:
    """Where an object's last sync stopped (None: never synced)."""

    object: str
    position: str | None
    deleted_position: str | None
    updated_at: datetime | None


def cursors(session: Session, source: str) -> dict[str, Cursor]:
    """Every stored cursor of a source, by object."""
    rows = session.scalars(select(SyncCursor).where(SyncCursor.source == source))
    return {r.object: Cursor(r.object, r.position, r.deleted_position, r.updated_at) for r in rows}


def save_cursor(
    session: Session,
    source: str,
    obj: str,
    now: datetime,
    *,
    position: str | None = None,
    deleted_position: str | None = None,
) -> None:
    """Move an object's cursor (only the positions given); creates it on first use."""
    values = {"position": position, "deleted_position": deleted_position}
    changed = {k: v for k, v in values.items() if v is not None}
    if not changed:
        return
    insert = upsert_insert(session, SyncCursor.__table__).values(
        source=source, object=obj, updated_at=now, **values
    )
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["source", "object"], set_={**changed, "updated_at": now}
        )
    )


def pending(session: Session, source: str, obj: str) -> list[str]:
    """The ids of the object's records skipped by earlier runs, still to be written."""
    query = select(SyncPending.record_id).where(
        SyncPending.source == source, SyncPending.object == obj
    )
    return sorted(session.scalars(query))


def hold(session: Session, source: str, obj: str, skipped: dict[str, str], now: datetime) -> None:
    """Remember skipped records ({id: reason}) to fetch again; a known one keeps its date."""
    if not skipped:
        return
    insert = upsert_insert(session, SyncPending.__table__)
    rows = [
        {"source": source, "object": obj, "record_id": record_id, "reason": reason, "since": now}
        for record_id, reason in skipped.items()
    ]
    session.execute(
        insert.on_conflict_do_update(
            index_elements=["source", "object", "record_id"],
            set_={"reason": insert.excluded.reason},
        ),
        rows,
    )


def release(session: Session, source: str, obj: str, ids: Iterable[str]) -> None:
    """Forget records that were written (or that the CRM no longer has)."""
    wanted = list(ids)
    for start in range(0, len(wanted), 500):
        session.execute(
            delete(SyncPending).where(
                SyncPending.source == source,
                SyncPending.object == obj,
                SyncPending.record_id.in_(wanted[start : start + 500]),
            )
        )


def close_interrupted(session: Session, source: str, now: datetime) -> int:
    """Mark runs left `running` by a process that died as interrupted; returns how many."""
    result = session.execute(
        update(SyncRun)
        .where(SyncRun.source == source, SyncRun.status == "running")
        .values(status="interrupted", finished_at=now, message="the process stopped mid-run")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def recent_runs(session: Session, source: str | None = None, limit: int = 10) -> list[SyncRun]:
    """The last runs, newest first (of one source, or all)."""
    query = select(SyncRun).order_by(SyncRun.started_at.desc(), SyncRun.id.desc()).limit(limit)
    if source is not None:
        query = query.where(SyncRun.source == source)
    return list(session.scalars(query))
