"""CLI commands for the database itself: migrate, doctor.

The CLI modules import what a command needs inside the command, so `salesops --help` starts
without loading the database layer, pandas or matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer
from rich.console import Console

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
    from salesops_core.db.engine import migrate, schema_status

    deps = build_deps()
    migrate(deps.engine)
    current, _ = schema_status(deps.engine)
    url = deps.engine.url.render_as_string(hide_password=True)
    console.print(f"Database {url} is at revision {current}.")


def doctor_command() -> None:
    """Check the configuration, the database, migrations and (when set) the Slack token;
    show the nudge settings in force."""
    from sqlalchemy import text

    from bot.deps import build_deps
    from salesops_core.db.engine import schema_status
    from salesops_core.errors import ConfigError

    problems = 0

    def report(ok: bool, what: str, detail: str) -> None:
        nonlocal problems
        problems += 0 if ok else 1
        mark = "[green]ok[/]  " if ok else "[red]FAIL[/]"
        console.print(f"{mark} {what}: {detail}", highlight=False)

    try:
        deps = build_deps()
    except ConfigError as exc:  # e.g. an unknown rule name in `[nudges] rules`
        report(False, "config", str(exc))
        raise typer.Exit(1) from None
    source = deps.settings.config_file or "defaults (no salesops.toml)"
    report(True, "config", f"{source}; org time zone {deps.settings.org.timezone}")
    report(True, "nudges", nudge_settings(deps.settings))
    url = deps.engine.url.render_as_string(hide_password=True)
    try:
        with deps.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
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
    except Exception as exc:
        report(False, "database", f"{url}: {exc.__class__.__name__}: {exc}".splitlines()[0])
    token = deps.settings.slack_bot_token
    if token:
        from slack_sdk import WebClient
        from slack_sdk.errors import SlackApiError

        client = WebClient(token=token, base_url=deps.settings.slack_api_url)
        try:
            auth = client.auth_test()
            report(True, "slack", f"token valid for team {auth['team']} as {auth['user']}")
        except SlackApiError as exc:
            report(False, "slack", f"auth.test said {exc.response['error']}")
        except OSError as exc:
            report(False, "slack", f"cannot reach {deps.settings.slack_api_url}: {exc}")
    else:
        console.print("skip slack: SLACK_BOT_TOKEN not set")
    if problems:
        raise typer.Exit(1)


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
