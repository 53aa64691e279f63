"""CLI for speed-to-lead: `salesops leads`, `salesops outbox`, `salesops scheduler`."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timedelta

import typer
from rich.console import Console
from rich.markup import escape

from bot.cli.options import NowOption, parse_now
from bot.cli.tables import Column, fitted_table
from salesops_core.errors import ConfigError
from salesops_core.kpi import format as f

console = Console()


def register(app: typer.Typer) -> None:
    """Add the lead commands to the CLI."""
    app.command("leads")(leads_command)
    app.command("outbox")(outbox_command)
    app.command("scheduler")(scheduler_command)


def _short(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%Y-%m-%d %H:%M}"


LEAD_COLUMNS = [
    Column("lead"),
    Column("company", drop=2),
    Column("owner"),
    Column("source", drop=0),
    Column("created", drop=1),
    Column("SLA clock", number=True),
    Column("due"),
    Column("step"),
]
OUTBOX_COLUMNS = [
    Column("id", number=True),
    Column("status"),
    Column("kind", drop=2),
    Column("to", drop=3),
    Column("tries", number=True, drop=0),
    Column("created", drop=1),
    Column("sent / next"),
    Column("note"),
]


def leads_command(
    limit: int = typer.Option(50, "--limit", help="Show at most this many open leads."),
    period: str = typer.Option(
        "this-quarter", "--period", help="Count the unanswered leads created in this period."
    ),
    now: str | None = NowOption,
) -> None:
    """Unanswered leads of the period, open leads with their response clock and ladder step,
    then today's SLA breaches (UTC)."""
    from bot.deps import build_ready_deps
    from commands.leads import unanswered_text
    from salesops_core.kpi.details import unanswered_leads
    from salesops_core.leads.business_hours import business_minutes_between, calendar_for
    from salesops_core.leads.engine import ladder
    from salesops_core.leads.views import breaches_between, open_leads
    from salesops_core.org.scopes import ORG_SCOPE
    from salesops_core.periods import parse_period

    at = parse_now(now)
    deps = build_ready_deps()
    rules = deps.lead_rules()
    org = deps.settings.org
    span = parse_period(
        period, tz=org.tz, fiscal_year_start_month=org.fiscal_year_start_month, now=at
    )
    with deps.sessions() as session:
        unanswered = unanswered_leads(session, ORG_SCOPE, span, at)
        console.print(
            f"Leads created {span.label}: {unanswered_text(unanswered, 'unanswered')}",
            highlight=False,
        )
        rows = []
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
            rows.append(
                [
                    escape(lead.external_id),
                    escape(lead.company or ""),
                    escape(lead.owner.name if lead.owner else "(unassigned)"),
                    escape(lead.source or ""),
                    _short(lead.created_at),
                    f.minutes(clock),
                    ("[red]" if late else "") + _short(lead.sla_due_at),
                    step,
                ]
            )
        title = f"Open leads ({at:%Y-%m-%d %H:%M} UTC); SLA clock: working time since created"
        console.print(fitted_table(console, LEAD_COLUMNS, rows, title=title))
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
        if not any(counts.values()):
            console.print("The outbox is empty: nothing queued, sent or failed.")
            return
        console.print("  ".join(f"{name}: {count}" for name, count in counts.items()))
        rows = []
        for row in outbox.list_messages(session, status=wanted, limit=limit):
            when = row.sent_at if row.status == OutboxStatus.SENT else row.next_attempt_at
            note = row.last_error or (f"ts {row.slack_ts}" if row.slack_ts else "")
            rows.append(
                [
                    str(row.id),
                    row.status.value,
                    row.kind,
                    escape(row.channel or "-"),
                    str(row.attempts),
                    _short(row.created_at),
                    _short(when),
                    escape(note),
                ]
            )
        console.print(fitted_table(console, OUTBOX_COLUMNS, rows))


def scheduler_command(
    sweep_seconds: float = typer.Option(1.0, "--sweep-seconds", help="Lead sweep interval."),
    dispatchers: int = typer.Option(1, "--dispatchers", help="Outbox dispatcher threads."),
) -> None:
    """Run the lead sweep, the weekly digests, the nudges and the outbox dispatchers until
    interrupted (one per deployment)."""
    from bot.checks import log_sla_source_warnings
    from bot.deps import build_ready_deps
    from bot.jobs.scheduler import DEFAULT_DIGEST_SECONDS, DEFAULT_NUDGE_SECONDS, start_background

    deps = build_ready_deps()
    log_sla_source_warnings(deps)
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
