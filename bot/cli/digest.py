"""CLI: `salesops digest` - a team's digest as JSON, as Slack would get it, or sent now."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli.options import NowOption, parse_now
from salesops_core.errors import SalesopsError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.deps import Deps
    from bot.jobs.digest import SendResult
    from salesops_core.db.models import Team
    from salesops_core.digest.facts import TeamDigest
    from salesops_core.periods import Period

console = Console(stderr=True)

PREVIEW_FILE = "digest.json"


def register(app: typer.Typer) -> None:
    """Add `digest` to the CLI."""
    app.command("digest")(digest_command)


def digest_command(
    team: str | None = typer.Option(None, "--team", help="A team name."),
    all_teams: bool = typer.Option(False, "--all", help="Every team."),
    region: str | None = typer.Option(
        None, "--region", help="A region: its digest, a line per team (for its head or admins)."
    ),
    org: bool = typer.Option(False, "--org", help="The whole org, a line per team (for admins)."),
    period: str | None = typer.Option(
        None,
        "--period",
        help="What the digest covers; default: period in salesops.toml's digest section "
        "(last-week).",
    ),
    now: str | None = NowOption,
    output_format: str | None = typer.Option(None, "--format", help="json: the digest's numbers."),
    preview: Path | None = typer.Option(
        None,
        "--preview",
        help="Write DIR/digest.json (the chat.postMessage payloads) and the chart PNGs; "
        "send nothing.",
        file_okay=False,
    ),
    send_now: bool = typer.Option(
        False, "--send-now", help="Deliver through the outbox (once per team, recipient, period)."
    ),
) -> None:
    """A team's (or a region's, or the org's) digest for a period, always with quarter to
    date: the numbers (--format json), the Slack messages and chart as files (--preview DIR),
    or delivered (--send-now)."""
    if sum([bool(team), all_teams, bool(region), org]) != 1:
        raise SalesopsError("give --team T or --all (or --region G, or --org)")
    if output_format not in (None, "json"):
        raise SalesopsError(f"unknown format {output_format!r}; use json")
    from bot.deps import build_ready_deps
    from salesops_core.db.engine import transaction

    moment = parse_now(now)
    deps = build_ready_deps()
    with transaction(deps.sessions) as session:
        span = _period(deps, period, moment)
        teams = None if region or org else _teams(session, team)  # unknown names fail first
        if sum([output_format is not None, preview is not None, send_now]) != 1:
            raise SalesopsError("give one of --format json, --preview DIR or --send-now")
        if region or org:
            _scope_digest(session, deps, region, span, moment, preview=preview, send=send_now)
            return
        if send_now:
            _send_now(session, deps, teams, span, moment, progress=all_teams)
            return
        digests = _build(session, deps, teams, span, moment, progress=all_teams)
        if preview is not None:
            _write_preview(session, deps, digests, preview, one_team=not all_teams)
            return
    _print_json(digests, as_list=all_teams)


def _scope_digest(
    session: Session,
    deps: Deps,
    region: str | None,
    period: Period,
    now: Any,
    *,
    preview: Path | None,
    send: bool,
) -> None:
    """The region's (or, without one, the org's) digest: as JSON, previewed for each of its
    recipients, or enqueued for them (`bot.jobs.digest.scope_recipients`)."""
    from dataclasses import replace

    from bot.jobs.digest import scope_recipients, send_scope_now
    from salesops_core.digest.content import recipient_of
    from salesops_core.digest.regions import build_scope_digest
    from salesops_core.org.lookup import find_region
    from salesops_core.org.scopes import ORG_SCOPE, region_scope

    settings = deps.settings
    scope = region_scope(find_region(session, region)) if region else ORG_SCOPE
    digest = build_scope_digest(session, scope, period, settings.org, settings.sla, now)
    if preview is None and not send:
        _print_json([digest], as_list=False)
        return
    recipients = scope_recipients(session, settings, scope)
    if not recipients:
        raise SalesopsError(
            f"{scope.name}: no admin (an active rep with role admin) and no [digest] "
            "region_recipients entry, so the digest has nobody to go to"
        )
    if send:
        failures = deps.metrics.digest_chart_failures
        for result in send_scope_now(session, settings, digest, recipients, now, failures=failures):
            console.print(escape(_outcome(result, period)), highlight=False, soft_wrap=True)
        return
    assert preview is not None
    mine = [replace(digest, recipient=recipient_of(rep, settings.org)) for rep in recipients]
    _write_preview(session, deps, mine, preview, one_team=True)


def _teams(session: Session, name: str | None) -> list[Team] | None:
    """The named team (the team finder's error when there is none), or None for every team."""
    from salesops_core.org.lookup import find_team

    return [find_team(session, name)] if name else None


def _period(deps: Deps, text: str | None, now: Any) -> Period:
    from salesops_core.periods import parse_period

    org = deps.settings.org
    return parse_period(
        text or deps.settings.digest.period,
        tz=org.tz,
        fiscal_year_start_month=org.fiscal_year_start_month,
        now=now,
    )


def _build(
    session: Session,
    deps: Deps,
    teams: list[Team] | None,
    period: Period,
    now: Any,
    *,
    progress: bool,
) -> list[TeamDigest]:
    from salesops_core.digest.content import build_digests

    settings = deps.settings
    nudges = settings.nudges  # the manager's own nudges held back by the budget
    status = f"Computing every team's digest for {period.label} ..."
    with console.status(status) if progress else nullcontext():
        return build_digests(session, period, settings.org, settings.sla, now, teams, nudges)


def _print_json(digests: list[TeamDigest], *, as_list: bool) -> None:
    from salesops_core.digest.export import digest_json

    values = [digest_json(digest) for digest in digests]
    body = values if as_list else values[0]
    sys.stdout.write(json.dumps(body, allow_nan=False, indent=2) + "\n")


def _write_preview(
    session: Session, deps: Deps, digests: list[TeamDigest], folder: Path, *, one_team: bool
) -> None:
    """DIR/digest.json: every chat.postMessage payload (manager DMs, team channels); and each
    digest's chart PNG, named as it is uploaded. A chart that cannot be drawn is noted in
    its message, as when sent."""
    from bot.jobs.digest import (
        channel_target,
        chart_notice,
        draw_chart,
        for_target,
        manager_target,
        team_channels,
    )
    from commands.digest import digest_message
    from salesops_core.db.models import Rep, Team

    teams = [session.get_one(Team, d.team_id) for d in digests if d.team_id is not None]
    channels = team_channels(deps.settings, teams)
    payloads: list[dict[str, Any]] = []
    charts: dict[str, bytes] = {}
    for digest in digests:
        targets = []
        if digest.recipient is not None:
            targets.append(manager_target(session.get_one(Rep, digest.recipient.rep_id)))
        if digest.team_id in channels:
            targets.append(channel_target(channels[digest.team_id]))
        if not targets:
            if one_team:
                raise SalesopsError(_no_manager(digest.team))
            console.print(escape(_no_manager(digest.team)), soft_wrap=True)
            continue
        chart = draw_chart(digest, deps.metrics.digest_chart_failures)
        for target in targets:  # each as it is sent: a channel never sees held nudges
            message = digest_message(for_target(digest, target), chart_note=chart.note)
            payloads.append(
                {"channel": target.address, "text": message.text, "blocks": message.blocks}
            )
        if chart.png is not None:
            notice = chart_notice(digest, chart.png)
            charts[notice.filename] = chart.png
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / PREVIEW_FILE).write_text(json.dumps(payloads, allow_nan=False, indent=2) + "\n")
        for filename, png in charts.items():
            (folder / filename).write_bytes(png)
    except OSError as exc:
        raise SalesopsError(
            f"cannot write the preview to {folder}: {exc.strerror or exc}; give a folder you "
            "can write to"
        ) from None
    files = ", ".join([PREVIEW_FILE, *charts])
    console.print(
        f"{len(payloads)} message(s) written to {escape(str(folder))}: {escape(files)}",
        soft_wrap=True,
    )


def _no_manager(team: str) -> str:
    return (
        f"{team}: no manager (an active rep with role manager on the team) and no "
        "[digest] channel, so the digest has nobody to go to"
    )


def _send_now(
    session: Session, deps: Deps, teams: list[Team] | None, period: Period, now: Any, *,
    progress: bool,
) -> None:  # fmt: skip
    """Enqueue the digests in the outbox and say, per recipient, what was enqueued and what
    had been sent before (the dispatcher delivers them)."""
    from sqlalchemy import select

    from bot.jobs.digest import send_now
    from salesops_core.db.models import Team

    every = teams if teams is not None else list(session.scalars(select(Team).order_by(Team.name)))
    failures = deps.metrics.digest_chart_failures
    if progress:
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task(f"{len(every)} team digests for {period.label}", total=None)
            results = send_now(session, deps.settings, every, period, now, failures=failures)
            bar.update(task, total=len(every), completed=len(every))
    else:
        results = send_now(session, deps.settings, every, period, now, failures=failures)
    if teams is not None and all(result.recipient is None for result in results):
        raise SalesopsError(_no_manager(teams[0].name))
    for result in results:
        console.print(escape(_outcome(result, period)), highlight=False, soft_wrap=True)


def _outcome(result: SendResult, period: Period) -> str:
    """ "NA East: enqueued for Freya Moreau for last-week (2026-W47)", or already sent."""
    if result.recipient is None:
        return _no_manager(result.team)
    verb = "enqueued for" if result.enqueued else "already sent to"
    return f"{result.team}: {verb} {result.recipient} for {period.label}"
