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
from bot.cli import imports as cli_import
from bot.cli import kpi as cli_kpi
from bot.cli import leads as cli_leads
from bot.cli import nudges as cli_nudges
from bot.cli import slack as cli_slack
from salesops_core.errors import SalesopsError

app = typer.Typer(
    name="salesops",
    help="Sales KPIs, lead-response SLAs and nudges in Slack, on your own database.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks and debug logs."),
) -> None:
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


for module in (
    cli_data,
    cli_demo,
    cli_import,
    cli_kpi,
    cli_digest,
    cli_nudges,
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
        Console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False)
        sys.exit(1)
