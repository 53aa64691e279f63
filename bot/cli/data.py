"""CLI commands for the database itself: migrate, doctor.

The CLI modules import what a command needs inside the command, so `salesops --help` starts
without loading the database layer, pandas or matplotlib.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.markup import escape

if TYPE_CHECKING:
    from bot.deps import Deps
    from bot.settings import Settings

console = Console()


def register(app: typer.Typer) -> None:
    """Add the data commands to the CLI."""
    app.command("migrate")(migrate_command)
    app.command("doctor")(doctor_command)


def migrate_command() -> None:
    """Create or upgrade the database schema (DATABASE_URL, default ./salesops.db)."""
    from bot.deps import build_deps
    from salesops_core.db.engine import migrate, new_sqlite_file, schema_status, shown_url

    deps = build_deps()
    created = new_sqlite_file(deps.engine)
    migrate(deps.engine)
    current, _ = schema_status(deps.engine)
    url = shown_url(deps.engine.url)
    say_created(created)
    console.print(f"Database {url} is at revision {current}.")


def say_created(path: Path | None) -> None:
    """ "Created salesops.db in /home/ann/sales." after a command made a new SQLite file."""
    if path is not None:
        console.print(f"Created {path.name} in {path.parent}.", highlight=False, soft_wrap=True)


def doctor_command() -> None:
    """Check the configuration, the database, migrations and (when set) the Slack token and
    the CRM credentials; show the nudge settings in force."""
    from bot.deps import build_deps
    from bot.settings import load_settings
    from salesops_core.db.engine import open_existing, schema_status, shown_url
    from salesops_core.errors import ConfigError, DatabaseNotReady, DatabaseUnavailable

    problems = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        mark = "[green]ok[/]  " if ok else "[red]FAIL[/]"
        console.print(f"{mark} {what}: {escape(detail)}", highlight=False, soft_wrap=True)

    try:
        settings = load_settings()
    except ConfigError as exc:  # e.g. an unknown rule name in `[nudges] rules`
        report(False, "config", str(exc))
        raise typer.Exit(1) from None
    source = settings.config_file or "defaults (no salesops.toml)"
    report(True, "config", f"{source}; org time zone {settings.org.timezone}")
    report(True, "nudges", nudge_settings(settings))
    try:
        deps = build_deps(settings)
        open_existing(deps.engine)
    except (DatabaseUnavailable, DatabaseNotReady) as exc:
        report(False, "database", str(exc))
        _check_slack(settings, report)
        _check_crm(settings, report)
        raise typer.Exit(1) from None
    url = shown_url(deps.engine.url)
    try:
        report(True, "database", url)
        current, head = schema_status(deps.engine)
        report(
            current == head,
            "migrations",
            f"at {current}, code needs {head}"
            + ("" if current == head else " (run `salesops migrate`)"),
        )
        if current == head and deps.settings.digest.channels:
            _check_digest_channels(deps)
        if current == head:
            _check_sla_sources(deps)
    except Exception as exc:
        report(False, "database", f"{url}: {exc.__class__.__name__}: {exc}".splitlines()[0])
    _check_slack(settings, report)
    _check_crm(settings, report)
    if problems:
        raise typer.Exit(1)


def _check_crm(settings: Settings, report: Callable[[bool, str, str], None]) -> None:
    """Connect to each CRM the environment names: credentials, org, API version."""
    from bot.crm import build_source, configured_sources
    from salesops_core.errors import ConfigError
    from salesops_core.sync.source import SyncError

    found = configured_sources(settings)
    if not found:
        console.print("skip crm: no SALESFORCE_INSTANCE_URL or HUBSPOT_ACCESS_TOKEN set")
    for name in found:
        try:
            report(True, name, build_source(settings, name).check())
        except (ConfigError, SyncError) as exc:
            report(False, name, str(exc))


def _check_slack(settings: Settings, report: Callable[[bool, str, str], None]) -> None:
    """auth.test with SLACK_BOT_TOKEN, when it is set."""
    token = settings.slack_bot_token
    if not token:
        console.print("skip slack: SLACK_BOT_TOKEN not set")
        return
    from slack_sdk import WebClient
    from slack_sdk.errors import SlackApiError

    client = WebClient(token=token, base_url=settings.slack_api_url)
    try:
        auth = client.auth_test()
        report(True, "slack", f"token valid for team {auth['team']} as {auth['user']}")
    except SlackApiError as exc:
        report(False, "slack", f"auth.test said {exc.response['error']}")
    except OSError as exc:
        report(False, "slack", f"cannot reach {settings.slack_api_url}: {exc}")


def _check_digest_channels(deps: Deps) -> None:
    """Warn about `[digest] channels` entries that name no team (their digest never goes)."""
    from bot.jobs.digest import unknown_channel_teams

    with deps.sessions() as session:
        unknown = unknown_channel_teams(session, deps.settings)
    for name in unknown:
        console.print(
            f"[yellow]warn[/] digest channels: no team named {name!r}; "
            f"its channel {deps.settings.digest.channels[name]} gets no digest",
            highlight=False,
        )
    if not unknown:
        count = len(deps.settings.digest.channels)
        console.print(f"[green]ok[/]   digest channels: {count} team(s) found", highlight=False)


def _check_sla_sources(deps: Deps) -> None:
    """Warn about `[[sla]]` policies whose source matches no lead (they never apply)."""
    from bot.checks import sla_source_warnings

    warnings = sla_source_warnings(deps)
    for message in warnings:
        console.print(f"[yellow]warn[/] sla: {escape(message)}", highlight=False)
    if not warnings:
        console.print(
            f"[green]ok[/]   sla: every {escape('[[sla]]')} source matches leads in the database",
            highlight=False,
        )


def nudge_settings(settings: Settings) -> str:
    """The `[nudges]` settings in force, in one line."""
    from salesops_core.kpi import format as f

    nudges = settings.nudges
    rules = ", ".join(rule.value for rule in nudges.rules) or "none"
    return (
        f"rules {rules}; quiet hours {nudges.quiet_hours} and days off in each person's zone; "
        f"at most {f.count(nudges.daily_budget)} a day each; the same nudge at most every "
        f"{f.days(nudges.cooldown_days)}; stale after {f.days(nudges.stale_days(settings.org))}; "
        f"{f.number(nudges.meetings_per_week_target)} meetings a week; "
        f"selling time {f.pct(nudges.selling_time_target)}"
    )
