"""One sync run: pull each object's changes from a CRM source and write them through the
importers, batch by batch.

Each batch is one transaction: its rows are validated and upserted exactly as `salesops
import` would write the same export, and the object's cursor moves to the batch's position in
the same commit. So a run killed between two batches resumes after the last one written, and a
batch written twice changes nothing (upsert on external id). A bad record is reported (object,
id, field, reason) and skipped, the rest of its batch written; since the cursor moves past it,
it is held (`sync_pending`) and fetched again by id at the start of every run until it is
written or gone. Records the CRM removed are deleted here after the object's changes. A dry
run does all of it in one transaction and rolls it back.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.engine import held_job_lock
from salesops_core.db.models import SyncRun
from salesops_core.errors import BadArguments
from salesops_core.importers.csvfile import CsvTable
from salesops_core.importers.loader import import_table
from salesops_core.importers.options import ImportOptions
from salesops_core.importers.removal import remove_records
from salesops_core.importers.report import ImportFailed, ImportResult, RowError
from salesops_core.importers.stagemap import build_stage_map, save_stages
from salesops_core.leads.deadlines import fill_sla_deadlines
from salesops_core.sync import log as sync_log
from salesops_core.sync.source import Batch, Removed, Source, SyncError
from salesops_core.timeutil import utcnow

logger = logging.getLogger("salesops.sync")


@dataclass(frozen=True)
class Skipped:
    """A record the sync could not write, and why."""

    object: str
    id: str
    field: str | None
    reason: str


@dataclass
class ObjectCounts:
    """What a run did with one object's records."""

    fetched: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: int = 0

    def add(self, result: ImportResult) -> None:
        self.created += result.created
        self.updated += result.updated
        self.unchanged += result.unchanged


@dataclass
class SyncReport:
    """A finished run: `status` is ok, partial (records skipped), failed or locked."""

    source: str
    full: bool
    dry_run: bool
    started_at: datetime
    status: str = "running"
    counts: dict[str, ObjectCounts] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    requests: int = 0
    message: str | None = None
    run_id: int | None = None
    finished_at: datetime | None = None


def run_sync(
    sessions: sessionmaker[Session],
    source: Source,
    *,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    objects: Sequence[str] | None = None,
    full: bool = False,
    dry_run: bool = False,
    clock: Callable[[], datetime] = utcnow,
) -> SyncReport:
    """Sync `objects` (default: all the source has, in its order) and log the run; never
    raises for a CRM or record problem: the report says what happened. New leads get their
    SLA deadline from `sla`, as an import gives them."""
    wanted = _check_objects(source, objects)
    context = _Context(org, list(sla), clock)
    report = SyncReport(source.name, full, dry_run, started_at=clock())
    engine = sessions.kw["bind"]
    with held_job_lock(engine, f"sync:{source.name}") as locked:
        if not locked:
            report.status = "locked"
            report.message = f"another {source.name} sync is running; this one did nothing"
            return report
        if dry_run:
            session = sessions()
            try:
                _run(session, source, wanted, report, context, commit=False)
            finally:
                session.rollback()
                session.close()
        else:
            with sessions.begin() as session:
                sync_log.close_interrupted(session, source.name, report.started_at)
                run = SyncRun(
                    source=source.name,
                    started_at=report.started_at,
                    status="running",
                    full=full,
                    requests=0,
                    counts={},
                    errors=[],
                )
                session.add(run)
                session.flush()
                report.run_id = run.id
            with sessions() as session:
                try:
                    _run(session, source, wanted, report, context, commit=True)
                finally:
                    session.rollback()  # a batch that failed half-way writes nothing
                    _finish(session, report, clock())
                    session.commit()
    return report


@dataclass(frozen=True)
class _Context:
    org: OrgConfig
    sla: list[SlaPolicy]
    clock: Callable[[], datetime]


def _check_objects(source: Source, objects: Sequence[str] | None) -> list[str]:
    if not objects:
        return list(source.objects)
    known = {o.lower(): o for o in source.objects}
    unknown = [o for o in objects if o.lower() not in known]
    if unknown:
        raise BadArguments(
            f"{source.name} has no object {', '.join(map(repr, unknown))}; "
            f"use one of {', '.join(source.objects)}"
        )
    chosen = {known[o.lower()] for o in objects}
    return [o for o in source.objects if o in chosen]  # always in the source's write order


def _run(
    session: Session,
    source: Source,
    objects: list[str],
    report: SyncReport,
    context: _Context,
    *,
    commit: bool,
) -> None:
    stored = {} if report.full else sync_log.cursors(session, source.name)
    try:
        for obj in objects:
            counts = report.counts.setdefault(obj, ObjectCounts())
            cursor = stored.get(obj)
            waiting = set(sync_log.pending(session, source.name, obj))
            if waiting:  # skipped before, behind the cursor now: fetched again by id
                seen: set[str] = set()
                for batch in source.refetch(obj, sorted(waiting)):
                    seen |= {record_id for record_id, _ in batch.rows}
                    _write_batch(session, source.name, batch, report, context, waiting)
                    _done(session, report, source, commit)
                sync_log.release(session, source.name, obj, waiting - seen)  # gone from the CRM
                _done(session, report, source, commit)
                waiting &= seen
            for batch in source.pull(obj, cursor.position if cursor else None):
                _write_batch(session, source.name, batch, report, context, waiting)
                _done(session, report, source, commit)
            for removed in source.removed(obj, cursor.deleted_position if cursor else None):
                _remove(session, source.name, removed, counts, context.clock())
                _done(session, report, source, commit)
    except SyncError as exc:
        report.status = "failed"
        report.message = str(exc)
        logger.warning("%s sync stopped: %s", source.name, exc)
    else:
        report.status = "partial" if report.skipped else "ok"
    report.requests = source.requests
    report.finished_at = context.clock()


def _done(session: Session, report: SyncReport, source: Source, commit: bool) -> None:
    """End a batch's transaction (a dry run keeps everything in one, rolled back at the end)."""
    report.requests = source.requests
    if commit:
        session.commit()
    else:
        session.flush()


def _write_batch(
    session: Session,
    source_name: str,
    batch: Batch,
    report: SyncReport,
    context: _Context,
    waiting: set[str],
) -> None:
    """Write one batch; its bad records are reported and held to be fetched again, and
    held records it wrote are released (`waiting`: the object's held ids, kept current)."""
    now = context.clock()
    counts = report.counts.setdefault(batch.object, ObjectCounts())
    counts.fetched += len(batch.rows)
    if batch.stages:
        save_stages(session, build_stage_map(session, (), batch.stages), ())
    options = ImportOptions(
        kind=batch.kind,
        format=batch.format,
        column_map=batch.column_map,
        tz=context.org.tz,
        now=now,
        history_from_source=True,
    )
    ids = {line: record_id for line, (record_id, _) in enumerate(batch.rows, start=2)}
    records = [(line, cells) for line, (_, cells) in enumerate(batch.rows, start=2)]
    skipped: dict[str, str] = {}
    while records:  # each pass drops the records the last one flagged
        table = CsvTable(f"{source_name} {batch.object}", batch.header, records, had_bom=False)
        try:
            counts.add(import_table(session, table, options))
            break
        except ImportFailed as failed:
            bad = _skip(batch.object, failed.errors, ids, counts, report, skipped)
            if not bad:  # a problem with the batch itself, not a record: stop the run
                raise SyncError(f"{batch.object}: {failed.describe(5)}") from None
            records = [r for r in records if r[0] not in bad]
    if batch.kind == "leads":
        fill_sla_deadlines(session, context.org, context.sla)
    sync_log.hold(session, source_name, batch.object, skipped, now)
    written = {record_id for record_id, _ in batch.rows} - set(skipped)
    if waiting & written:
        sync_log.release(session, source_name, batch.object, waiting & written)
        waiting -= written
    waiting |= set(skipped)
    if batch.position is not None:
        sync_log.save_cursor(session, source_name, batch.object, now, position=batch.position)


def _skip(
    obj: str,
    errors: list[RowError],
    ids: dict[int, str],
    counts: ObjectCounts,
    report: SyncReport,
    skipped: dict[str, str],
) -> set[int]:
    """Report the records an import pass flagged (and note them in `skipped`); returns
    their lines."""
    bad: set[int] = set()
    for error in errors:
        if error.line in ids:
            record_id = ids[error.line]
            report.skipped.append(Skipped(obj, record_id, error.column, error.reason))
            where = f"{error.column}: " if error.column else ""
            skipped[record_id] = f"{where}{error.reason}"
            bad.add(error.line)
    counts.skipped += len(bad)
    return bad


def _remove(
    session: Session, source_name: str, removed: Removed, counts: ObjectCounts, now: datetime
) -> None:
    counts.removed += remove_records(session, removed.kind, removed.ids)
    if removed.position is not None:
        sync_log.save_cursor(
            session, source_name, removed.object, now, deleted_position=removed.position
        )


def _finish(session: Session, report: SyncReport, now: datetime) -> None:
    """Write the run's outcome into its log row."""
    if report.run_id is None:
        return
    run = session.get(SyncRun, report.run_id)
    if run is None:
        return
    if report.status == "running":  # stopped by something other than the CRM
        report.status = "failed"
        report.message = report.message or "stopped by an unexpected error (see the log)"
    run.status = report.status
    run.finished_at = report.finished_at or now
    run.requests = report.requests
    run.message = report.message
    run.counts = {obj: vars(c).copy() for obj, c in report.counts.items()}
    run.errors = [vars(s).copy() for s in report.skipped[: sync_log.MAX_LOGGED_ERRORS]]
