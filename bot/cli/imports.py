"""`salesops import`: load a CSV (native, Salesforce or HubSpot) into the database."""

from __future__ import annotations

import gc
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

from salesops_core.importers.fields import FORMATS, KINDS

if TYPE_CHECKING:
    from salesops_core.importers.options import Progress
    from salesops_core.importers.report import ImportResult

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
    """Import reps, deals, leads, activities, quotas, forecasts or stage changes from a CSV.

    Upserts on external id, so importing the same file again changes nothing. By default
    nothing is written when any row is bad; every error names the line and column.
    """
    from bot.deps import build_ready_deps
    from salesops_core.importers.loader import import_file
    from salesops_core.importers.options import ImportOptions
    from salesops_core.importers.report import ImportFailed
    from salesops_core.leads.deadlines import fill_sla_deadlines

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
        with _progress(show_bar) as report, deps.sessions() as session, _gc_paused():
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


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for one import (this process's policy, not the
    importer's): the hundreds of thousands of cells, row dicts and tuples an import holds are
    acyclic, and collecting them repeatedly took about a third of the CPU time of a 100k-row
    import."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


@contextmanager
def _progress(enabled: bool) -> Iterator[Progress | None]:
    """A rich progress bar fed by the importer's (phase, done, total) calls, or nothing."""
    if not enabled:
        yield None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
    from rich.progress import Progress as Bar

    tasks: dict[str, TaskID] = {}
    with Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
             TimeElapsedColumn(), console=console, transient=True) as bar:  # fmt: skip

        def update(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(phase, total=total)
            bar.update(tasks[phase], completed=done, total=total)

        yield update


def _print_result(result: ImportResult, file: Path, dry_run: bool) -> None:
    from salesops_core.importers.report import rejected_path, write_rejected

    prefix = "dry run, nothing written: " if dry_run else ""
    console.print(escape(prefix + result.summary()), highlight=False, soft_wrap=True)
    for note in result.notes():
        console.print(f"[yellow]note:[/] {escape(note)}", highlight=False, soft_wrap=True)
    if result.rejected:
        writable = os.access(file.resolve().parent, os.W_OK)
        path = write_rejected(result, rejected_path(file, writable_dir=writable))
        console.print(
            f"[yellow]{len(result.rejected)} row(s) rejected[/], written with their reasons "
            f"to {escape(str(path))}",
            highlight=False,
            soft_wrap=True,
        )
