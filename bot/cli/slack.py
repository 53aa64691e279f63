"""CLI: `salesops serve` (HTTP), `salesops socket` (Socket Mode) and `salesops ask` (no Slack)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from bot.cli.options import NowOption
from salesops_core.errors import ConfigError

if TYPE_CHECKING:
    from bot.deps import Deps

console = Console()
err_console = Console(stderr=True)


def register(app: typer.Typer) -> None:
    """Add `serve`, `socket` and `ask` to the CLI."""
    app.command("serve")(serve_command)
    app.command("socket")(socket_command)
    app.command("ask")(ask_command)


def _require(value: str | None, variable: str, what: str) -> None:
    if not value:
        raise ConfigError(f"{variable} is not set ({what}).")


def serve_command(
    host: str = typer.Option("0.0.0.0", "--host", help="Interface to listen on."),
    port: int = typer.Option(3000, "--port", help="TCP port."),
    with_scheduler: bool = typer.Option(
        False, "--with-scheduler", help="Also run the scheduler in this process (single node)."
    ),
    no_charts: bool = typer.Option(
        False, "--no-charts", help="Answer slash commands without charts (no file uploads)."
    ),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn log level."),
) -> None:
    """Serve Slack (POST /slack/events), the ingest API, /healthz and /metrics over HTTP."""
    import uvicorn

    from bot.checks import log_sla_source_warnings
    from bot.deps import build_ready_deps
    from bot.server import create_app

    deps = build_ready_deps(charts=not no_charts)
    _require(deps.settings.slack_bot_token, "SLACK_BOT_TOKEN", "the bot token, xoxb-...")
    _require(
        deps.settings.slack_signing_secret,
        "SLACK_SIGNING_SECRET",
        "Basic Information > App Credentials > Signing Secret; needed to verify Slack requests",
    )
    log_sla_source_warnings(deps)
    app = create_app(deps)
    scheduler = _start_scheduler(deps) if with_scheduler else None
    try:
        uvicorn.run(app, host=host, port=port, log_level=log_level, proxy_headers=True)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
        deps.engine.dispose()


def _start_scheduler(deps: Deps):  # type: ignore[no-untyped-def]
    from bot.jobs.scheduler import start_background_scheduler

    return start_background_scheduler(deps)


def socket_command() -> None:
    """Connect to Slack over Socket Mode (no public URL needed; needs SLACK_APP_TOKEN)."""
    from bot.checks import log_sla_source_warnings
    from bot.deps import build_ready_deps

    deps = build_ready_deps()
    _require(deps.settings.slack_bot_token, "SLACK_BOT_TOKEN", "the bot token, xoxb-...")
    _require(
        deps.settings.slack_app_token,
        "SLACK_APP_TOKEN",
        "an app-level token xapp-... with connections:write, from Basic Information > "
        "App-Level Tokens; and enable Socket Mode in the app settings",
    )
    log_sla_source_warnings(deps)
    console.print("Connecting to Slack over Socket Mode (Ctrl-C to stop)...")
    try:
        asyncio.run(_run_socket_mode(deps))
    except KeyboardInterrupt:
        pass
    finally:
        if deps.chart_pool is not None:
            deps.chart_pool.close()
        deps.engine.dispose()


async def _run_socket_mode(deps: Deps) -> None:
    from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

    from bot.app import build_app

    handler = AsyncSocketModeHandler(build_app(deps), deps.settings.slack_app_token)
    await handler.start_async()


def ask_command(
    command_line: str = typer.Argument(
        ..., help='A slash command as typed, e.g. "/kpi last-quarter".'
    ),
    as_rep: str = typer.Option(..., "--as", help="Ask as this rep (email, name or Slack id)."),
    charts_dir: Path = typer.Option(
        Path("salesops-charts"), "--charts-dir", help="Where chart PNGs are written."
    ),
    no_charts: bool = typer.Option(False, "--no-charts", help="Do not render charts."),
    now: str | None = NowOption,
) -> None:
    """Answer a slash command locally, as text, through the same code the Slack bot runs."""
    from bot.cli.options import parse_now
    from bot.deps import build_ready_deps
    from commands.base import run_command
    from commands.kit.text import reply_as_text
    from salesops_core.db.engine import transaction
    from salesops_core.org.access import viewer_for_rep
    from salesops_core.org.lookup import find_rep

    name, _, text = command_line.strip().partition(" ")
    name = name if name.startswith("/") else f"/{name}"
    deps = build_ready_deps(charts=not no_charts)
    context = deps.command_context(now=parse_now(now) if now else None)
    with transaction(deps.sessions) as session:
        viewer = viewer_for_rep(find_rep(session, as_rep))
        reply = run_command(session, viewer, name, text.strip(), context)
    typer.echo(reply_as_text(reply))
    if reply.charts:
        charts_dir.mkdir(parents=True, exist_ok=True)
        for chart in reply.charts:
            path = charts_dir / chart.filename
            path.write_bytes(chart.png)
            typer.echo(f"chart: {path} ({chart.title})")
