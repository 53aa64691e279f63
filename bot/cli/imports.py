"""`salesops import`: load a CSV (native, Salesforce or HubSpot) into the database."""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from bot.deps import build_ready_deps
from salesops_core.importers import (
    FORMATS,
    KINDS,
    ImportFailed,
    ImportOptions,
    ImportResult,
    import_file,
    rejected_path,
    write_rejected,
)
from salesops_core.leads.deadlines import fill_sla_deadlines

console = Console()
err_console = Console(stderr=True)
PROGRESS_MIN_BYTES = 2_000_000  # show a progress bar for files above ~2 MB on a terminal


def register(app: typer.Typer) -> None:
    """Add `salesops import` to the CLI."""
    app.command("import")(import_command)


def _parse_maps(maps: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for item in maps:
        field, sep, column = item.partition("=")
        if not sep or not field.strip() or not column.strip():
            raise typer.BadParameter(f"{item!r}: use --map field=column", param_hint="--map")
        parsed[field.strip()] = column.strip()
    return parsed


def import_command(
    file: Path = typer.Argument(..., help="The CSV file (UTF-8, with a header row).", exists=True,
                                dir_okay=False, readable=True),
    kind: str = typer.Option(..., "--kind", help=f"What the file holds: {'|'.join(KINDS)}."),
    fmt: str = typer.Option("native", "--format", help=f"Column layout: {'|'.join(FORMATS)}."),
    maps: list[str] = typer.Option(
        [], "--map", help="field=column: read a native field from another column (repeatable)."
    ),
    stage_map: Path | None = typer.Option(None, "--stage-map", exists=True, dir_okay=False,
                                          help="CSV stage,order,probability,outcome; saved."),
    owners: Path | None = typer.Option(None, "--owners", exists=True, dir_okay=False,
                                       help="CSV crm_user_id,email (or crm_user_id,name)."),
    create_missing: bool = typer.Option(False, "--create-missing",
                                        help="Create reps for unknown owners."),
    skip_invalid: bool = typer.Option(False, "--skip-invalid",
                                      help="Import good rows; write bad ones to *.rejected.csv."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count, write nothing."),
) -> None:  # fmt: skip
    """Import reps, deals, leads, activities, quotas or forecasts from a CSV file.

    Upserts on external id, so importing the same file again changes nothing. By default
    nothing is written when any row is bad; every error names the line and column.
    """
    if kind not in KINDS:
        raise typer.BadParameter(f"use one of {', '.join(KINDS)}", param_hint="--kind")
    if fmt not in FORMATS:
        raise typer.BadParameter(f"use one of {', '.join(FORMATS)}", param_hint="--format")
    deps = build_ready_deps()
    options = ImportOptions(
        kind=kind,
        format=fmt,
        column_map=_parse_maps(maps),
        stage_map_file=stage_map,
        owners_file=owners,
        create_missing=create_missing,
        skip_invalid=skip_invalid,
        tz=deps.settings.org.tz,
    )
    show_bar = console.is_terminal and file.stat().st_size >= PROGRESS_MIN_BYTES
    try:
        with _progress(show_bar) as report, deps.sessions() as session:
            result = import_file(session, file, options, progress=report)
            if kind == "leads":
                fill_sla_deadlines(session, deps.settings.org, deps.settings.sla)
            if dry_run:
                session.rollback()
            else:
                session.commit()
    except ImportFailed as exc:
        err_console.print(
            f"[bold red]error:[/] {escape(exc.describe())}", highlight=False, soft_wrap=True
        )
        raise typer.Exit(1) from None
    _print_result(result, file, dry_run)


class _progress:
    """A rich progress bar (or nothing) fed by the importer's (phase, done, total) calls."""

    def __init__(self, enabled: bool) -> None:
        self.bar = (
            Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                     TimeElapsedColumn(), console=console, transient=True)
            if enabled
            else None
        )  # fmt: skip
        self.tasks: dict[str, int] = {}

    def __enter__(self):  # type: ignore[no-untyped-def]
        if self.bar is None:
            return None
        self.bar.__enter__()
        return self.update

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.__exit__(*exc)

    def update(self, phase: str, done: int, total: int) -> None:
        assert self.bar is not None
        if phase not in self.tasks:
            self.tasks[phase] = self.bar.add_task(phase, total=total)
        self.bar.update(self.tasks[phase], completed=done, total=total)


def _print_result(result: ImportResult, file: Path, dry_run: bool) -> None:
    prefix = "dry run, nothing written: " if dry_run else ""
    console.print(escape(prefix + result.summary()), highlight=False, soft_wrap=True)
    for warning in result.warnings:
        console.print(f"[yellow]note:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if result.rejected:
        writable = os.access(file.resolve().parent, os.W_OK)
        path = write_rejected(result, rejected_path(file, writable_dir=writable))
        console.print(
            f"[yellow]{len(result.rejected)} row(s) rejected[/], written with their reasons "
            f"to {escape(str(path))}",
            highlight=False,
            soft_wrap=True,
        )
