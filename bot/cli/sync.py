"""`salesops sync salesforce|hubspot`: pull what changed in the CRM; `--status` shows the log."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli.options import NowOption, parse_now
from bot.cli.tables import Column, fitted_table
from salesops_core.errors import BadArguments

if TYPE_CHECKING:
    from salesops_core.db.models import SyncRun
    from salesops_core.sync.log import Cursor
    from salesops_core.sync.runner import SyncReport

console = Console()

MAX_SHOWN_SKIPPED = 20
FORMATS = ("text", "json")
COUNT_NAMES = ("fetched", "created", "updated", "unchanged", "removed", "skipped")
RUN_COLUMNS = [
    Column("started"),
    Column("source"),
    Column("status"),
    Column("kind", drop=1),
    Column("requests", number=True, drop=0),
    Column("written", number=True),
    Column("removed", number=True, drop=2),
    Column("skipped", number=True),
    Column("note", drop=3),
]
CURSOR_COLUMNS = [
    Column("source"),
    Column("object"),
    Column("changes up to"),
    Column("deletions up to", drop=0),
    Column("synced at"),
]


def register(app: typer.Typer) -> None:
    """Add the sync command to the CLI."""
    app.command("sync")(sync_command)


def sync_command(
    source: str | None = typer.Argument(None, help="The CRM: salesforce or hubspot."),
    full: bool = typer.Option(False, "--full", help="Pull everything, not only what changed."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Fetch and check everything; write nothing, move no cursor."
    ),
    objects: list[str] = typer.Option(
        [], "--objects", help="Only these CRM objects (repeat, or comma-separated)."
    ),
    status: bool = typer.Option(
        False, "--status", help="Show the last runs, their counts and errors, and the cursors."
    ),
    output: str = typer.Option("text", "--format", help="text or json."),
    now: str | None = NowOption,
) -> None:
    """Pull people, deals with their stage history, leads and activities that changed in
    Salesforce or HubSpot since the last sync, through the same checks as `salesops import`."""
    from bot.crm import SOURCES, build_source, configured_sources
    from bot.deps import build_ready_deps
    from salesops_core.sync.runner import run_sync
    from salesops_core.timeutil import utcnow

    if output not in FORMATS:
        raise BadArguments(f"--format: unknown format {output!r}; use text or json")
    if source is not None and source not in SOURCES:
        raise BadArguments(f"unknown CRM {source!r}; use salesforce or hubspot")
    deps = build_ready_deps()
    if status:
        _show_status(deps.sessions, source, output)
        return
    if source is None:
        found = configured_sources(deps.settings)
        hint = f" (connected here: {', '.join(found)})" if found else ""
        raise BadArguments(f"name the CRM to sync: salesops sync salesforce|hubspot{hint}")
    at = parse_now(now)
    crm = build_source(deps.settings, source)
    wanted = [name.strip() for value in objects for name in value.split(",") if name.strip()]
    report = run_sync(
        deps.sessions,
        crm,
        org=deps.settings.org,
        sla=deps.settings.sla,
        objects=wanted,
        full=full,
        dry_run=dry_run,
        clock=(lambda: at) if now else utcnow,  # the clock stamps each batch as written
    )
    if output == "json":
        typer.echo(json.dumps(report_json(report), indent=2))
    else:
        _print_report(report)
    if report.status in ("failed", "locked"):
        raise typer.Exit(1)


def report_json(report: SyncReport) -> dict[str, Any]:
    """The run as JSON: source, status, full, dry_run, requests, objects (counts), skipped
    (object, id, field, reason), message."""
    return {
        "source": report.source,
        "status": report.status,
        "full": report.full,
        "dry_run": report.dry_run,
        "requests": report.requests,
        "objects": {obj: vars(c) for obj, c in report.counts.items()},
        "skipped": [vars(s) for s in report.skipped],
        "message": report.message,
    }


def _print_report(report: SyncReport) -> None:
    kind = "full" if report.full else "changes since the last run"
    dry = ", dry run" if report.dry_run else ""
    console.print(f"{report.source.capitalize()} sync ({kind}{dry}):", highlight=False)
    for obj, counts in report.counts.items():
        parts = [f"{getattr(counts, name)} {name}" for name in COUNT_NAMES if getattr(counts, name)]
        if parts or report.status != "failed":  # a failed run names only what it got to
            console.print(f"  {obj}: {', '.join(parts) or 'nothing changed'}", highlight=False)
    for skipped in report.skipped[:MAX_SHOWN_SKIPPED]:
        where = f"{skipped.object} {skipped.id}" + (f", {skipped.field}" if skipped.field else "")
        console.print(
            f"  skipped {escape(where)}: {escape(skipped.reason)}", highlight=False, soft_wrap=True
        )
    if len(report.skipped) > MAX_SHOWN_SKIPPED:
        more = len(report.skipped) - MAX_SHOWN_SKIPPED
        console.print(f"  ... {more} more (salesops sync --status --format json)")
    end = {
        "ok": "done",
        "partial": f"done; {len(report.skipped)} record(s) skipped",
        "failed": "stopped: " + (report.message or ""),
        "locked": report.message or "",
    }[report.status]
    if report.dry_run and report.status in ("ok", "partial"):
        end += "; nothing was written"
    console.print(
        f"{escape(end)} ({report.requests} API request(s))", highlight=False, soft_wrap=True
    )


def _show_status(sessions: Any, source: str | None, output: str) -> None:
    from salesops_core.sync import log as sync_log

    with sessions() as session:
        runs = sync_log.recent_runs(session, source)
        names = [source] if source else ["salesforce", "hubspot"]
        cursors = [(n, c) for n in names for c in sync_log.cursors(session, n).values()]
        if output == "json":
            data = {
                "runs": [_run_json(run) for run in runs],
                "cursors": [_cursor_json(name, cursor) for name, cursor in cursors],
            }
            typer.echo(json.dumps(data, indent=2))
            return
        if not runs:
            console.print("No sync has run yet: salesops sync salesforce|hubspot")
            return
        rows = [_run_row(run) for run in runs]
        console.print(fitted_table(console, RUN_COLUMNS, rows, title="Last sync runs"))
        latest = runs[0]
        for error in latest.errors[:MAX_SHOWN_SKIPPED]:
            where = f"{error['object']} {error['id']}"
            if error.get("field"):
                where += f", {error['field']}"
            console.print(
                f"  skipped {escape(where)}: {escape(error['reason'])}",
                highlight=False,
                soft_wrap=True,
            )
        cursor_rows = [
            [n, escape(c.object), c.position or "-", c.deleted_position or "-", _when(c.updated_at)]
            for n, c in cursors
        ]
        if cursor_rows:
            console.print(fitted_table(console, CURSOR_COLUMNS, cursor_rows, title="Cursors"))


def _when(moment: Any) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


def _run_row(run: SyncRun) -> list[str]:
    counts = run.counts.values()
    written = sum(c.get("created", 0) + c.get("updated", 0) for c in counts)
    return [
        _when(run.started_at),
        run.source,
        run.status,
        "full" if run.full else "incremental",
        str(run.requests),
        str(written),
        str(sum(c.get("removed", 0) for c in counts)),
        str(sum(c.get("skipped", 0) for c in counts)),
        escape(run.message or ""),
    ]


def _run_json(run: SyncRun) -> dict[str, Any]:
    return {
        "source": run.source,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "status": run.status,
        "full": run.full,
        "requests": run.requests,
        "objects": run.counts,
        "skipped": run.errors,
        "message": run.message,
    }


def _cursor_json(source: str, cursor: Cursor) -> dict[str, Any]:
    return {
        "source": source,
        "object": cursor.object,
        "position": cursor.position,
        "deleted_position": cursor.deleted_position,
        "updated_at": cursor.updated_at.isoformat() if cursor.updated_at else None,
    }
