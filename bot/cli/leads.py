"""CLI for speed-to-lead: `salesops leads`, `salesops outbox`, `salesops scheduler`."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta

import typer
from rich.console import Console
from rich.table import Table

from bot.cli.options import NowOption, parse_now
from salesops_core.errors import ConfigError

console = Console()


def register(app: typer.Typer) -> None:
    """Add the lead commands to the CLI."""
    app.command("leads")(leads_command)
    app.command("outbox")(outbox_command)
    app.command("scheduler")(scheduler_command)


def _short(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}"


def leads_command(
    limit: int = typer.Option(50, "--limit", help="Show at most this many open leads."),
    now: str | None = NowOption,
) -> None:
    """Open leads with their response clock and ladder step, then today's SLA breaches (UTC)."""
    from bot.deps import build_ready_deps
    from salesops_core.leads.business_hours import business_minutes_between, calendar_for
    from salesops_core.leads.engine import ladder
    from salesops_core.leads.views import breaches_between, open_leads

    at = parse_now(now)
    deps = build_ready_deps()
    rules = deps.lead_rules()
    with deps.sessions() as session:
        table = Table(title=f"Open leads ({at:%Y-%m-%d %H:%M} UTC)")
        for column in ("lead", "company", "owner", "source", "created", "clock min", "due", "step"):
            table.add_column(column)
        for lead in open_leads(session, limit=limit):
            policy = rules.policy(lead.source)
            clock = business_minutes_between(
                lead.created_at, at, calendar_for(lead.owner, rules.org, policy)
            )
            steps = ladder(policy)
            step = f"{lead.ladder_step}/{len(steps)}"
            if lead.snoozed_until and lead.snoozed_until > at:
                step += f" snoozed to {lead.snoozed_until:%H:%M}"
            late = lead.sla_due_at is not None and lead.sla_due_at <= at
            table.add_row(
                lead.external_id,
                lead.company or "",
                lead.owner.name if lead.owner else "(unassigned)",
                lead.source or "",
                _short(lead.created_at),
                f"{clock:.1f}",
                ("[red]" if late else "") + _short(lead.sla_due_at),
                step,
            )
        console.print(table)
        start = at.replace(hour=0, minute=0, second=0, microsecond=0)
        breaches = breaches_between(session, start, start + timedelta(days=1), now=at)
        console.print(f"SLA breaches today: {len(breaches)}")
        for lead in breaches:
            answered = _short(lead.first_response_at) if lead.first_response_at else "unanswered"
            owner = lead.owner.name if lead.owner else "(unassigned)"
            console.print(
                f"  {lead.external_id}  {owner}  due {_short(lead.sla_due_at)}  {answered}",
                highlight=False,
            )


def outbox_command(
    status: str | None = typer.Option(
        None, "--status", help="Only rows with this status: pending, sending, sent or dead."
    ),
    limit: int = typer.Option(30, "--limit", help="Show at most this many rows."),
    retry: int | None = typer.Option(
        None, "--retry", help="Send this dead-lettered row again (after fixing the cause)."
    ),
) -> None:
    """Outbox counts and the newest rows (pending, sent and dead with the reason)."""
    from bot.deps import build_ready_deps
    from salesops_core import outbox
    from salesops_core.db.engine import transaction
    from salesops_core.db.models import OutboxStatus

    deps = build_ready_deps()
    wanted = None
    if status:
        try:
            wanted = OutboxStatus(status.lower())
        except ValueError:
            raise ConfigError(
                f"unknown status {status!r}; use pending, sending, sent or dead"
            ) from None
    if retry is not None:
        with transaction(deps.sessions) as session:
            if not outbox.requeue(session, retry):
                raise ConfigError(f"outbox row {retry} is not dead-lettered (or does not exist)")
        console.print(f"Row {retry} is pending again.")
    with deps.sessions() as session:
        counts = outbox.outbox_counts(session)
        console.print("  ".join(f"{name}: {count}" for name, count in counts.items()))
        table = Table()
        for column in ("id", "status", "kind", "to", "tries", "created", "sent / next", "note"):
            table.add_column(column)
        for row in outbox.list_messages(session, status=wanted, limit=limit):
            when = row.sent_at if row.status == OutboxStatus.SENT else row.next_attempt_at
            note = row.last_error or (f"ts {row.slack_ts}" if row.slack_ts else "")
            table.add_row(
                str(row.id),
                row.status.value,
                row.kind,
                row.channel or "-",
                str(row.attempts),
                _short(row.created_at),
                _short(when),
                note,
            )
        console.print(table)


def scheduler_command(
    sweep_seconds: float = typer.Option(1.0, "--sweep-seconds", help="Lead sweep interval."),
    dispatchers: int = typer.Option(1, "--dispatchers", help="Outbox dispatcher threads."),
) -> None:
    """Run the lead sweep, the weekly digests, the nudges and the outbox dispatchers until
    interrupted (one per deployment)."""
    from bot.deps import build_ready_deps
    from bot.jobs.scheduler import DEFAULT_DIGEST_SECONDS, DEFAULT_NUDGE_SECONDS, start_background

    deps = build_ready_deps()
    background = start_background(deps, sweep_seconds=sweep_seconds, dispatchers=dispatchers)
    done = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    console.print(
        f"scheduler running: lead sweep every {sweep_seconds:g}s, digests checked every "
        f"{DEFAULT_DIGEST_SECONDS:g}s, nudges every {DEFAULT_NUDGE_SECONDS / 60:g} min, "
        f"{dispatchers} dispatcher(s). Ctrl-C to stop."
    )
    done.wait()
    background.stop()
    deps.engine.dispose()
