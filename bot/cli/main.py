"""The `salesops` command line: one typer app; each area registers its own commands."""

from __future__ import annotations

import logging
import sys

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli import data as cli_data
from bot.cli import demo as cli_demo
from bot.cli import digest as cli_digest
from bot.cli import forecast as cli_forecast
from bot.cli import imports as cli_import
from bot.cli import kpi as cli_kpi
from bot.cli import leads as cli_leads
from bot.cli import nudges as cli_nudges
from bot.cli import slack as cli_slack
from bot.cli import sync as cli_sync
from salesops_core.errors import SalesopsError

# rich_markup_mode=None: click's plain help and errors. Typer's rich panels print every
# option's type, a flag's too (`--dry-run <bool>`, as if it took a value), and box a one-line
# usage error in a frame.
app = typer.Typer(
    name="salesops",
    help="Sales KPIs, lead-response SLAs and nudges in Slack, on your own database.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    rich_markup_mode=None,
)


# Commands that run until stopped: their log on stderr (warnings and up) is how an operator
# follows them. A one-shot command says what went wrong in its own output, so its log shows
# only with -v or --debug.
SERVICES = frozenset({"serve", "socket", "scheduler"})


def log_level(command: str | None, *, verbose: bool, debug: bool) -> int:
    """The level of the log a command writes to stderr."""
    if debug:
        return logging.DEBUG
    if verbose:
        return logging.INFO
    return logging.WARNING if command in SERVICES else logging.CRITICAL


@app.callback()
def _root(
    ctx: typer.Context,
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks and debug logs."),
    verbose: bool = typer.Option(False, "-v", "--verbose", help="Show the log (info and up)."),
) -> None:
    logging.basicConfig(
        level=log_level(ctx.invoked_subcommand, verbose=verbose, debug=debug),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


for module in (
    cli_data,
    cli_demo,
    cli_import,
    cli_kpi,
    cli_digest,
    cli_nudges,
    cli_forecast,
    cli_sync,
    cli_slack,
    cli_leads,
):
    module.register(app)


def main() -> None:
    """Console-script entry point: domain errors become one clear line and exit code 1."""
    debug = "--debug" in sys.argv
    try:
        app()
    except SalesopsError as exc:
        if debug:
            raise
        Console(stderr=True).print(
            f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True
        )
        sys.exit(1)
