"""/leads [period] [@rep | team]: response times, SLA met, unanswered leads, distribution chart."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.common import default_scope_note, footer, metric, title
from commands.kit.reply import Chart, CommandContext, Reply
from salesops_core import charts
from salesops_core.config import SlaPolicy, policy_for
from salesops_core.digest.content import response_bins
from salesops_core.kpi import format as f
from salesops_core.kpi.details import Unanswered, unanswered_leads
from salesops_core.kpi.views import response_counts_by_bin, scope_numbers
from salesops_core.leads.views import WaitingLead, waiting_leads
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period
from salesops_core.timeutil import as_utc

OPEN_LEADS_SHOWN = 5
HISTOGRAM_LOW, HISTOGRAM_HIGH, HISTOGRAM_BINS = 0.25, 30 * 1440.0, 30  # minutes


def response_histogram_counts(
    session: Session, scope: Scope, period: Period, ctx: CommandContext
) -> tuple[list[float], list[int], list[int]]:
    """Answered leads of the period binned by minutes to first response (log bins from 15 s to
    30 days, the SLA target an edge), split by whether each met its own SLA."""
    target = policy_for(list(ctx.sla), None).first_response_minutes
    edges = charts.log_edges(HISTOGRAM_LOW, HISTOGRAM_HIGH, target, steps=HISTOGRAM_BINS)
    inside, late = response_counts_by_bin(session, scope, period, ctx.current_time(), edges)
    return edges, inside, late


def unanswered_text(unanswered: Unanswered, noun: str = "") -> str:
    """ "25 (8 still waiting, 17 closed without a response)", the noun after the number; the
    same words in /leads and `salesops leads`."""
    head = f"{f.count(unanswered.total)} {noun}".rstrip()
    if unanswered.waiting and unanswered.closed:
        detail = (
            f"{f.count(unanswered.waiting)} still waiting, "
            f"{f.count(unanswered.closed)} closed without a response"
        )
    elif unanswered.waiting:
        detail = "all still waiting"
    elif unanswered.closed:
        detail = "all closed without a response"
    else:
        return head
    return f"{head} ({detail})"


def lead_line(lead: WaitingLead, now: datetime, show_owner: bool) -> str:
    """ "• *Acme* (web) waiting 3 h · Jane Doe": a lead waiting for its first response (the
    owner for a team's or the org's list), in /leads and App Home."""
    waiting = (now - as_utc(lead.created_at)).total_seconds() / 60
    name = lead.company or lead.external_id
    source = f" ({lead.source})" if lead.source else ""
    owner = f" · {lead.owner or 'unassigned'}" if show_owner else ""
    return f"• *{name}*{source} waiting {f.minutes(waiting)}{owner}"


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /leads."""
    args = parse_and_check(session, viewer, "/leads", text, ctx)
    now = ctx.current_time()
    numbers = scope_numbers(session, args.scope, args.period, ctx.org, ctx.sla, now)
    kpis = numbers.kpis
    total = numbers.total("leads")
    unanswered = unanswered_leads(session, args.scope, args.period, now)
    heading = title("lead response", args, viewer.rep_id)
    blocks: list[Any] = [header(heading)]
    fields = [
        f"*Leads*\n{f.count(total)}",
        metric("lead_response_minutes_median", kpis, None, ""),
        metric("lead_response_minutes_p90", kpis, None, ""),
        metric("lead_sla_met_share", kpis, None, ""),
        f"*Leads unanswered*\n{unanswered_text(unanswered)}",
    ]
    blocks += field_sections(fields)
    waiting = waiting_leads(session, args.scope, limit=OPEN_LEADS_SHOWN, created_in=args.period)
    if waiting.oldest:
        more = waiting.total - len(waiting.oldest)
        lines = [lead_line(lead, now, args.scope.kind != "rep") for lead in waiting.oldest]
        if more > 0:
            lines.append(f"_…and {more} more_")
        blocks.append(section("*Waiting for a first response*\n" + "\n".join(lines)))
    if note := default_scope_note(args, "/leads"):
        blocks.append(note)
    blocks.append(
        footer(
            args.period,
            now,
            "Median over answered leads; p90 counts unanswered leads at their wait so far. "
            "SLA met: answered within the lead's SLA, of leads answered or already overdue.",
        )
    )
    fallback = (
        f"{heading}: median {f.minutes(kpis['lead_response_minutes_median'])}, "
        f"p90 {f.minutes(kpis['lead_response_minutes_p90'])}, "
        f"SLA met {f.pct(kpis['lead_sla_met_share'])}, "
        f"{unanswered_text(unanswered, 'unanswered')}"
    )
    chart_list = []
    if ctx.charts:
        # The SLA the chart is read against: one target and clock, or none when they differ.
        sla = response_bins(list(ctx.sla) or [SlaPolicy()])
        edges, inside, late = response_histogram_counts(session, args.scope, args.period, ctx)
        if any(inside) or any(late):
            chart_title = f"{args.scope.name}: time to first response, {args.period.label}"
            render = partial(
                charts.response_histogram,
                edges,
                inside,
                late,
                sla_minutes=sla.sla_minutes,
                business_hours=sla.business_hours,
                unanswered=int(kpis["leads_unanswered"] or 0),
                title=chart_title,
            )
            chart_list.append(Chart("lead-response.png", chart_title, render))
    return Reply(fallback, blocks, chart_list, in_channel=args.share)
