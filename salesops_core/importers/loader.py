"""The import pipeline: read, convert and validate every row, resolve owners and links in
bulk, then (only if nothing is wrong, or with skip_invalid) write everything in one go.

The caller owns the transaction: nothing here commits.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import (
    Activity,
    Deal,
    DealStageChange,
    Forecast,
    Lead,
    LeadStatus,
    Quota,
)
from salesops_core.importers import bulk, columns, records
from salesops_core.importers.csvfile import ColumnPlan, CsvTable, plan_columns, read_csv
from salesops_core.importers.fields import FIELDS, FORMATS, KINDS, REQUIRED
from salesops_core.importers.formats import FormatSpec, format_spec
from salesops_core.importers.options import ImportOptions, Progress
from salesops_core.importers.owners import OwnerResolver, PendingRep
from salesops_core.importers.report import ImportFailed, ImportResult, RowError
from salesops_core.importers.reps import import_reps
from salesops_core.importers.stagemap import (
    StageMap,
    build_stage_map,
    read_stage_map_file,
    save_stages,
)
from salesops_core.timeutil import utcnow

# Per kind: the fields holding owners (rep ids once resolved) and the table.
_OWNER_FIELDS = {
    "deals": ("owner_id",),
    "leads": ("owner_id", "responded_by_id"),
    "activities": ("rep_id",),
    "quotas": ("rep_id",),
    "forecasts": ("rep_id",),
    "stage_changes": (),
}
# Per kind: the time stamp fields read a column at a time (period_end has its own rules).
_TIMESTAMP_FIELDS = {
    "leads": ("created_at", "first_response_at"),
    "activities": ("started_at",),
    "quotas": ("period_start",),
    "forecasts": ("period_start", "submitted_at"),
    "stage_changes": ("entered_at",),
}
_TABLES = {
    "deals": Deal.__table__,
    "leads": Lead.__table__,
    "activities": Activity.__table__,
    "quotas": Quota.__table__,
    "forecasts": Forecast.__table__,
    "stage_changes": DealStageChange.__table__,
}
# Per kind with a composite key: the key's columns, what they name and the column to blame.
_COMPOSITE_KEYS = {
    "quotas": (("rep_id", "period_start", "period_end"), "owner and period", "owner"),
    "forecasts": (
        ("rep_id", "period_start", "period_end", "category", "submitted_at"),
        "owner and period",
        "owner",
    ),
    # a deal is in one stage at a time: a change at a recorded moment replaces its stage
    "stage_changes": (("deal_id", "entered_at"), "deal and entered_at", "deal_external_id"),
}


def import_file(
    session: Session, path: Path, options: ImportOptions, progress: Progress | None = None
) -> ImportResult:
    """Import one CSV file into the session (not committed). Raises ImportFailed when the
    file is unusable, or when any row is bad and `skip_invalid` is off."""
    for what, value, choices in (
        ("kind", options.kind, KINDS),
        ("format", options.format, FORMATS),
    ):
        if value not in choices:
            reason = f"unknown {what} {value!r}; use one of {', '.join(choices)}"
            raise ImportFailed([RowError(path.name, None, None, reason)])
    return import_table(session, read_csv(path), options, progress)


def import_table(
    session: Session, table: CsvTable, options: ImportOptions, progress: Progress | None = None
) -> ImportResult:
    """Import records already read into a table (a CSV file's, or a CRM sync batch shaped
    like that CRM's export); raises ImportFailed as `import_file` does."""
    if options.kind == "reps":
        return import_reps(session, table, options, format_spec(options.format, "reps"))
    spec = format_spec(options.format, options.kind)
    plan = plan_columns(
        table,
        kind=options.kind,
        fields=FIELDS[options.kind],
        required=REQUIRED[options.kind],
        candidates=spec.columns,
        overrides=options.column_map,
    )
    stage_file = read_stage_map_file(options.stage_map_file) if options.stage_map_file else []
    stages = build_stage_map(session, spec.stages, stage_file)
    owners = OwnerResolver(session, create_missing=options.create_missing, hint=spec.owner_hint)
    if options.owners_file:
        owners.load_owners_file(options.owners_file)
    rows = _convert_all(table, plan, spec, stages, options, progress)
    for row in rows:
        _resolve_owners(row, owners, options.kind, plan.label.get("owner", "owner"))
    if options.kind == "activities":
        _resolve_links(session, rows, plan.label)
    if options.kind == "stage_changes":
        _resolve_links(session, rows, plan.label, links=("deal",))
        _check_change_stages(session, rows, stages, plan.label.get("stage", "stage"))
    _flag_duplicates(rows, options.kind, plan.label)

    result = ImportResult(kind=options.kind, file=table.file, header=table.header)
    result.ignored_columns = list(plan.ignored)
    good = [row for row in rows if not row.errors]
    bad = [row for row in rows if row.errors]
    if bad:
        errors = [
            RowError(table.file, row.line, col, why) for row in bad for col, why in row.errors
        ]
        if not options.skip_invalid or not good:
            raise ImportFailed(errors, rows_total=len(rows))
        cells_by_line = dict(table.records)
        for row in bad:
            raw = dict(zip(table.header, cells_by_line[row.line], strict=False))
            reason = "; ".join(f"{col}: {why}" for col, why in row.errors)
            result.rejected.append((row.line, raw, reason))

    result.reps_created = owners.write(session)
    for row in good:
        for name in _OWNER_FIELDS[options.kind]:
            target = row.values.get(name)
            if isinstance(target, PendingRep):
                row.values[name] = OwnerResolver.rep_id(target)
    if options.kind in ("deals", "stage_changes"):
        result.stages_saved = save_stages(session, stages, {r.values["stage"] for r in good})
        unknown = sorted({r.values["stage"] for r in good if stages.get(r.values["stage"]) is None})
        if unknown:
            result.warnings.append(
                f"stages not in the stage map (no order or default probability): "
                f"{', '.join(unknown)}; add them with --stage-map"
            )
    elif stage_file:
        result.stages_saved = save_stages(session, stages, ())
    _write(session, options, good, result, progress)
    return result


def _convert_all(
    table: CsvTable,
    plan: ColumnPlan,
    spec: FormatSpec,
    stages: StageMap,
    options: ImportOptions,
    progress: Progress | None,
) -> list[records.Converted]:
    total = len(table.records)
    if options.kind == "deals":
        converted = columns.convert_deals(table, plan, spec, stages, options.tz)
        if progress:
            progress("checking", total, total)
        return converted
    stamps = {
        name: columns.parse_timestamps(_column_texts(table, plan.index[name]), options.tz)[0]
        for name in _TIMESTAMP_FIELDS[options.kind]
        if plan.has(name)
    }
    out: list[records.Converted] = []
    for n, (line, raw) in enumerate(plan.rows(table), start=1):
        if spec.transform:
            spec.transform(raw)
        read = {name: values[n - 1] for name, values in stamps.items()}
        cells = _ReadCells(line, raw, plan, options.tz, read)
        if options.kind == "leads":
            out.append(records.convert_lead(cells))
        elif options.kind == "stage_changes":
            out.append(records.convert_stage_change(cells, spec, stages))
        elif options.kind == "activities":
            out.append(records.convert_activity(cells))
        else:
            out.append(records.convert_quota(cells, forecast=options.kind == "forecasts"))
        if progress and (n % 5000 == 0 or n == total):
            progress("checking", n, total)
    return out


def _column_texts(table: CsvTable, index: int) -> list[str]:
    """One column's stripped cells, in file order ("" past the end of a short row)."""
    return [cells[index].strip() if index < len(cells) else "" for _, cells in table.records]


class _ReadCells(records.Cells):
    """A row's cells with its time stamps already read a column at a time (vectorised, by
    `columns.parse_timestamps`); a cell that path did not read is parsed as usual."""

    def __init__(
        self, line: int, raw: dict[str, str], plan: ColumnPlan, tz: ZoneInfo, read: dict
    ) -> None:
        super().__init__(line, raw, plan, tz)
        self.read = read

    def timestamp(self, name: str, *, required: bool = False) -> datetime | None:
        """The time stamp read for the column, else as `records.Cells.timestamp` reads it."""
        value = self.read.get(name)
        return value if value is not None else super().timestamp(name, required=required)


def _resolve_owners(row: records.Converted, owners: OwnerResolver, kind: str, label: str) -> None:
    for name in _OWNER_FIELDS[kind]:
        value = row.values.get(name)
        if isinstance(value, str):
            target = owners.resolve(value)
            if isinstance(target, str):
                if name != "responded_by_id" or not any(e[1] == target for e in row.errors):
                    row.errors.append((label, target))
            else:
                row.values[name] = target
    if kind in ("quotas", "forecasts") and row.key is not None:
        owner = row.values["rep_id"]
        row.key = (id(owner) if isinstance(owner, PendingRep) else owner, *row.key[1:])


_LINKS = {"deal": ("deal_id", Deal.__table__), "lead": ("lead_id", Lead.__table__)}


def _resolve_links(
    session: Session,
    rows: list[records.Converted],
    label: dict[str, str],
    links: tuple[str, ...] = ("deal", "lead"),
) -> None:
    """Turn the deal/lead external ids rows point at into ids (one IN query per chunk)."""
    for what in links:
        name, table = _LINKS[what]
        wanted = {r.values[name] for r in rows if r.values.get(name)}
        if not wanted:
            continue
        ids = bulk.lookup_ids(session, table, "external_id", wanted)
        column = label.get(f"{what}_external_id", f"{what}_external_id")
        for row in rows:
            ext = row.values.get(name)
            if ext:
                if ext in ids:
                    row.values[name] = ids[ext]
                else:
                    row.errors.append(
                        (column, f"no {what} with external_id {ext!r}; import {what}s first")
                    )


def _check_change_stages(
    session: Session, rows: list[records.Converted], stages: StageMap, column: str
) -> None:
    """Flag stage changes naming a stage neither the stage map nor any deal knows; a stage
    only deals know is spelled as they spell it."""
    deal_stages = {s.lower(): s for s in session.scalars(select(Deal.stage).distinct())}
    for row in rows:
        stage = row.values.get("stage")
        if not stage or stages.get(stage) is not None:
            continue
        problem = records.change_stage_problem(stages, stage, deal_stages)
        if problem is not None:
            row.errors.append((column, problem))
        else:
            row.values["stage"] = deal_stages[stage.lower()]


def _flag_duplicates(rows: list[records.Converted], kind: str, label: dict[str, str]) -> None:
    first: dict[Any, int] = {}
    for row in rows:
        if row.key is None or (isinstance(row.key, tuple) and None in row.key):
            continue
        if row.key in first:
            if kind in _COMPOSITE_KEYS:
                _, what, field = _COMPOSITE_KEYS[kind]
                column = label.get(field, field)
            else:
                what, column = f"external_id {row.key!r}", label.get("external_id", "external_id")
            row.errors.append((column, f"duplicate {what}, also on line {first[row.key]}"))
        else:
            first[row.key] = row.line


def _just_closed(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """The deal closed with this change: its closing stage is recorded at its close, as an
    import of the closed deal records it, even when the source sends its own history."""
    closed_at = new.get("closed_at")
    return closed_at is not None and not bulk.same(old.get("closed_at"), closed_at)


def _write(
    session: Session,
    options: ImportOptions,
    rows: list[records.Converted],
    result: ImportResult,
    progress: Progress | None,
) -> None:
    table = _TABLES[options.kind]
    key: tuple[str, ...] = ("external_id",)
    if options.kind in _COMPOSITE_KEYS:
        key = _COMPOSITE_KEYS[options.kind][0]
    lookup = key[0]
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for row in rows:
        values = row.values
        if options.kind == "leads" and "first_response_at" in values:
            values["status"] = LeadStatus.RESPONDED
        groups.setdefault(tuple(values), []).append(values)
    now = options.now or utcnow()
    stage_changes: list[dict[str, Any]] = []
    for group in groups.values():
        plan = bulk.plan_upsert(session, table, group, key=key, lookup_column=lookup)
        new = plan.new
        if options.kind == "leads":
            new = [
                {
                    "owner_id": None,
                    "first_response_at": None,
                    "responded_by_id": None,
                    "status": LeadStatus.OPEN,
                    **v,
                }
                for v in new
            ]
        bulk.copy_rows(session, table, new, progress=progress)
        for changes in plan.updates():
            bulk.update_rows(session, table, changes, progress=progress)
        if options.kind == "deals":
            ids = bulk.lookup_ids(session, table, "external_id", (v["external_id"] for v in new))
            stage_changes += [
                records.stage_change(ids[v["external_id"]], v, v["created_at"]) for v in new
            ]
            stage_changes += [
                records.stage_change(pk, v, now)
                for pk, v, old in plan.changed
                if any(old.get(name) != v.get(name) for name in records.HISTORY_FIELDS)
                and (not options.history_from_source or _just_closed(old, v))
            ]
        result.created += len(plan.new)
        result.updated += len(plan.changed)
        result.unchanged += plan.unchanged
    bulk.copy_rows(session, DealStageChange.__table__, stage_changes)
    result.stage_changes = len(stage_changes)
