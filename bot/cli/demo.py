"""`salesops demo`: fill the database with a realistic synthetic sales org and describe it."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli.options import parse_now

if TYPE_CHECKING:
    from salesops_core.demo import DemoSummary

console = Console()


def register(app: typer.Typer) -> None:
    """Add `demo` to the CLI."""
    app.command("demo")(demo_command)


def demo_command(
    scale: float = typer.Option(
        1.0, "--scale", help="1 = 3 teams, 24 reps, ~10k deals; 100 = ~1M deals, 5M activities."
    ),
    seed: int = typer.Option(42, "--seed", help="Same seed and time give the same data."),
    fresh: bool = typer.Option(
        False, "--fresh", help="Delete everything first, even data that is not from the demo."
    ),
    now: str | None = typer.Option(
        None, "--now", help="Pretend it is this ISO time (the history ends here). Default: now."
    ),
) -> None:
    """Fill DATABASE_URL (default ./salesops.db) with a demo sales org: two years to now."""
    from bot.checks import sla_source_warnings
    from bot.cli.data import say_created
    from bot.deps import build_deps
    from bot.showcase import showcase
    from salesops_core.db.engine import check_connection, new_sqlite_file, shown_url, transaction
    from salesops_core.demo import demo_summary, load_demo
    from salesops_core.demo.snapshots import demo_snapshots
    from salesops_core.leads.deadlines import fill_sla_deadlines

    moment = parse_now(now)
    deps = build_deps()
    created = new_sqlite_file(deps.engine)
    check_connection(deps.engine)  # a bad DATABASE_URL stops here, before salesops.toml exists
    wrote_config = write_demo_config()
    if wrote_config:  # open again with the config just written: its time zone and SLA tiers
        deps.engine.dispose()
        deps = build_deps()
    started = time.monotonic()
    url = shown_url(deps.engine.url)
    with console.status(f"Building the demo org (scale {scale:g}) in {url} ..."):
        load_demo(
            deps.engine,
            now=moment,
            scale=scale,
            seed=seed,
            timezone=deps.settings.org.timezone,
            fiscal_year_start_month=deps.settings.org.fiscal_year_start_month,
            fresh=fresh,
        )
    with transaction(deps.sessions) as session:
        fill_sla_deadlines(session, deps.settings.org, deps.settings.sla)
        demo_snapshots(session, deps.settings.org, moment)
    say_created(created)
    with deps.sessions() as session:
        summary = demo_summary(session, url)
    print_summary(summary, time.monotonic() - started)
    if wrote_config:
        console.print(
            f"Wrote {wrote_config}: the demo's org time zone "
            f"({deps.settings.org.timezone}) and SLA tiers (demo-request 5 min, other sources "
            "60 min). Edit it for your org.",
            highlight=False,
        )
    else:
        console.print(f"Config: {deps.settings.config_file or 'defaults'} (kept as it is)")
    for message in sla_source_warnings(deps):
        console.print(f"[yellow]warn[/] sla: {escape(message)}", highlight=False)
    console.rule("What the bot answers in Slack")
    pinned = moment if now is not None else None  # the answers at the demo's own "now"
    answers = showcase(deps, pinned)
    if not answers:
        console.print("No rep with a manager in this database: nothing to show.")
    for n, (command, answer) in enumerate(answers):
        # never wrapped, so the command can be copied whole
        console.print(("\n" if n else "") + command, soft_wrap=True, highlight=False, markup=False)
        console.print(answer, highlight=False, markup=False)


def write_demo_config() -> Path | None:
    """Write the demo's `salesops.toml` when no config file is in use; the path written."""
    from bot.settings import DEFAULT_CONFIG_FILE, load_settings
    from salesops_core.demo.config import example_config

    path = Path(DEFAULT_CONFIG_FILE)
    if os.environ.get("SALESOPS_CONFIG") or path.exists():
        return None
    org = load_settings().org
    path.write_text(example_config(org.timezone, org.fiscal_year_start_month))
    return path


def print_summary(summary: DemoSummary, seconds: float) -> None:
    """Print the summary: counts, time span, teams, people to try, where the data is."""
    counts = Table(title="Demo org", show_header=True, header_style="bold")
    counts.add_column("table")
    counts.add_column("rows", justify="right")
    for name, count in summary.counts.items():
        counts.add_row(name, f"{count:,}")
    console.print(counts)
    if summary.first and summary.last:
        console.print(
            f"History: {summary.first:%Y-%m-%d} .. {summary.last:%Y-%m-%d %H:%M} UTC; "
            f"{summary.team_total} teams in {len(summary.regions)} regions "
            f"({', '.join(summary.regions)})"
        )
    for team in summary.teams:
        left = f" (and {', '.join(team.left)}, who left)" if team.left else ""
        console.print(
            f"  {team.name} ({team.region}): manager {team.manager}, {team.reps} reps{left}",
            highlight=False,
        )
    if summary.team_total > len(summary.teams):
        console.print(f"  ... and {summary.team_total - len(summary.teams)} more teams")
    console.print("Try it as:")
    for person in summary.people:
        where = f", {person.team}" if person.team else ""
        console.print(
            f"  {person.role:<8}{person.name} <{person.email}> slack {person.slack_user_id}{where}",
            highlight=False,
        )
    console.print(f"Database: {summary.database}  ({seconds:.1f} s)", highlight=False)
