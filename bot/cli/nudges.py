"""CLI: `salesops nudges` - the nudges due at a moment (--dry-run), sent (--send-now), or how
each rule's nudges fared (--stats)."""

from __future__ import annotations

import json
import sys
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli.options import NowOption, parse_now
from bot.cli.tables import Column, fitted_table
from salesops_core.errors import SalesopsError

if TYPE_CHECKING:
    from salesops_core.nudges.log import RuleStats
    from salesops_core.nudges.rollup import DueRollup, RollupCounts
    from salesops_core.nudges.service import Evaluation, SendCounts

console = Console()


def register(app: typer.Typer) -> None:
    """Add `nudges` to the CLI."""
    app.command("nudges")(nudges_command)


def nudges_command(
    rep: str | None = typer.Option(None, "--rep", help="Only this person (email, name, Slack id)."),
    now: str | None = NowOption,
    dry_run: bool = typer.Option(
        False,
        "--dry-run",
        help="List the nudges due at --now and those held, with why, and the managers' "
        "roll-ups due then; send nothing.",
    ),
    send_now: bool = typer.Option(
        False,
        "--send-now",
        help="Put the due nudges in the outbox (once per rule, subject, person and local day), "
        "and, without --rep, the managers' roll-ups due then (once per manager and local day).",
    ),
    stats: bool = typer.Option(
        False,
        "--stats",
        help="Per rule: sent, pending (less than 24 h old), acted on within 24 h and the "
        "acted-on rate (of the nudges at least a day old), snoozed, muted.",
    ),
    days: int = typer.Option(
        30, "--days", min=1, help="--stats: the nudges sent in the last N days."
    ),
    output_format: str = typer.Option("table", "--format", help="table or json."),
) -> None:
    """Accountability nudges: what would go out now and what is held (--dry-run), deliver them
    (--send-now), or see which rules people act on (--stats)."""
    from bot.deps import build_ready_deps
    from salesops_core.db.engine import transaction
    from salesops_core.org.lookup import find_rep

    if sum((dry_run, send_now, stats)) != 1:
        raise SalesopsError("give one of --dry-run, --send-now or --stats")
    if output_format not in ("table", "json"):
        raise SalesopsError(f"unknown format {output_format!r}; use table or json")
    moment = parse_now(now)
    deps = build_ready_deps(charts=False)
    settings = deps.settings
    if stats:
        from salesops_core.nudges.log import rule_stats

        with deps.sessions() as session:
            rows = rule_stats(session, moment - timedelta(days=days), moment)
        _print_stats(rows, days, output_format)
        return
    if dry_run:
        from salesops_core.nudges.rollup import already_enqueued, due_rollups
        from salesops_core.nudges.service import evaluate

        with deps.sessions() as session:
            rep_id = find_rep(session, rep).id if rep else None
            evaluation = evaluate(session, settings.nudges, settings.org, moment, rep_id=rep_id)
            rollups = due_rollups(evaluation, moment)
            sent = already_enqueued(session, rollups)
        _print_dry_run(evaluation, rollups, sent, output_format)
        return
    from bot.jobs.nudges import enqueue_nudges

    with transaction(deps.sessions) as session:  # what the nudge job runs, at --now
        rep_id = find_rep(session, rep).id if rep else None
        run = enqueue_nudges(deps, session, moment, rep_id)
    _print_sent(run.nudges, run.rollups, output_format)


def rollup_counts_text(rollup: DueRollup) -> str:
    """A roll-up's counts per rule: "stale_deal 4, past_close 2"."""
    return ", ".join(f"{line.rule.value} {line.count}" for line in rollup.lines)


def dry_run_json(
    evaluation: Evaluation, rollups: list[DueRollup], sent: set[str]
) -> dict[str, Any]:
    """The `--dry-run --format json` object: every nudge found at --now, per person in rank
    order, with `held` (the reason, or null when it goes now) and `until` (when it may go); and
    the managers' roll-ups due at --now, with their counts per rule."""
    return {
        "now": evaluation.at.isoformat(),
        "nudges": [
            {
                "rep": d.nudge.rep,
                "rep_id": d.nudge.rep_id,
                "rule": d.nudge.rule.value,
                "subject": d.nudge.subject,
                "text": d.nudge.fact,
                "why": d.nudge.why,
                "held": d.held.value if d.held else None,
                "until": d.until.isoformat() if d.until else None,
            }
            for d in evaluation.decisions
        ],
        "rollups": [
            {
                "rep": r.manager.name,
                "rep_id": r.manager.rep_id,
                "counts": {line.rule.value: line.count for line in r.lines},
                "held": "already sent" if r.dedupe_key in sent else None,
            }
            for r in rollups
        ],
    }


def _local(moment: datetime | None, evaluation: Evaluation, rep_id: int) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(evaluation.people[rep_id].tz)
    return f"{local:%a %b} {local.day} {local:%H:%M} {local.tzname()}"


def _print_dry_run(
    evaluation: Evaluation, rollups: list[DueRollup], sent: set[str], output_format: str
) -> None:
    if output_format == "json":
        sys.stdout.write(json.dumps(dry_run_json(evaluation, rollups, sent), indent=2) + "\n")
        return
    due = sum(1 for d in evaluation.decisions if d.held is None)
    title = (
        f"Nudges at {evaluation.at:%Y-%m-%d %H:%M} UTC: {due} due now, "
        f"{len(evaluation.decisions) - due} held"
    )
    rows: list[list[str]] = []
    sections: set[int] = set()
    shown: int | None = None
    for decision in evaluation.decisions:
        rep_id = decision.nudge.rep_id
        if shown is not None and rep_id != shown:
            sections.add(len(rows))
        rows.append(
            [
                escape(decision.nudge.rep) if rep_id != shown else "",
                decision.nudge.rule.value,
                escape(decision.nudge.fact),
                decision.held.value if decision.held else "[green]due now[/]",
                _local(decision.until, evaluation, rep_id),
            ]
        )
        shown = rep_id
    if rollups and rows:
        sections.add(len(rows))
    for rollup in rollups:
        rows.append(
            [
                escape(rollup.manager.name),
                "rollup",
                rollup_counts_text(rollup),
                "already sent" if rollup.dedupe_key in sent else "[green]due now[/]",
                "",
            ]
        )
    columns = [Column(name) for name in ("person", "rule", "nudge", "held", "may go")]
    console.print(fitted_table(console, columns, rows, title=title, sections=sections))


def _print_sent(counts: SendCounts, rollups: RollupCounts, output_format: str) -> None:
    if output_format == "json":
        sys.stdout.write(json.dumps({**vars(counts), "rollups": vars(rollups)}, indent=2) + "\n")
        return
    held = ", ".join(f"{reason} {n}" for reason, n in sorted(counts.held.items())) or "none"
    if counts.sent:
        console.print(f"{counts.sent} nudges put in the outbox; held: {held}.")
        if counts.already_sent:
            console.print(f"{counts.already_sent} more had been sent already today.")
    elif counts.already_sent:
        console.print(f"Nothing to send: {counts.already_sent} already sent today; held: {held}.")
    else:
        console.print(f"Nothing to send: no nudge is due; held: {held}.")
    if rollups.sent or rollups.already_sent:
        console.print(
            f"Manager roll-ups: {rollups.sent} put in the outbox, "
            f"{rollups.already_sent} already sent today."
        )
    if rollups.no_slack_user:
        console.print(f"{rollups.no_slack_user} roll-ups skipped: the manager has no Slack user.")
    if counts.no_slack_user:
        console.print(f"{counts.no_slack_user} due nudges skipped: the person has no Slack user.")
    if counts.fact_changed:
        console.print(f"{counts.fact_changed} earlier nudges recorded as acted on (fact changed).")


def _print_stats(rows: list[RuleStats], days: int, output_format: str) -> None:
    from salesops_core.kpi.format import count, pct

    if output_format == "json":
        payload = {
            "days": days,
            "rules": [
                {
                    "rule": r.rule,
                    "sent": r.sent,
                    "pending": r.pending,
                    "acted_on": r.acted_on,
                    "acted_on_rate": r.acted_on_rate,
                    "snoozed": r.snoozed,
                    "muted": r.muted,
                }
                for r in rows
            ],
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    title = (
        f"Nudges sent in the last {days} days (pending: less than 24 h old; "
        "acted-on rate over nudges at least a day old)"
    )
    cells = [
        [
            r.rule,
            count(r.sent),
            count(r.pending),
            count(r.acted_on),
            pct(r.acted_on_rate),
            count(r.snoozed),
            count(r.muted),
        ]
        for r in rows
    ]
    columns = [Column("rule")] + [
        Column(name, number=True)
        for name in ("sent", "pending", "acted on", "acted-on rate", "snoozed", "muted")
    ]
    console.print(fitted_table(console, columns, cells, title=title))
