"""/leads [period] [@rep | team]: response times, SLA met, unanswered leads, distribution chart."""

from __future__ import annotations

from datetime import datetime
from functools import partial
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from commands.kit import format as f
from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.common import footer, metric, partial_sum, scope_numbers, title
from commands.kit.reply import Chart, CommandContext, Reply
from salesops_core import charts
from salesops_core.config import policy_for
from salesops_core.db.models import Lead, LeadStatus, Rep
from salesops_core.kpi.queries import (
    at_time,
    response_minutes_expr,
    seconds_between,
    sla_deadline_seconds,
)
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period
from salesops_core.timeutil import as_utc

OPEN_LEADS_SHOWN = 5
HISTOGRAM_LOW, HISTOGRAM_HIGH, HISTOGRAM_BINS = 0.25, 30 * 1440.0, 30  # minutes


def open_unanswered(
    session: Session, scope: Scope, period: Period, limit: int = OPEN_LEADS_SHOWN
) -> list[Any]:
    """The oldest open leads created in the period with no response yet, each row carrying
    `waiting_total` (how many there are in all): one query."""
    return list(
        session.execute(
            select(
                Lead.external_id,
                Lead.company,
                Lead.source,
                Lead.created_at,
                Rep.name,
                func.count().over().label("waiting_total"),
            )
            .outerjoin(Rep, Rep.id == Lead.owner_id)
            .where(
                Lead.first_response_at.is_(None),
                Lead.status != LeadStatus.CLOSED,
                Lead.created_at >= at_time(period.start),
                Lead.created_at < at_time(period.end),
                in_scope(Lead.owner_id, scope),
            )
            .order_by(Lead.created_at, Lead.id)
            .limit(limit)
        ).all()
    )


def response_histogram_counts(
    session: Session, scope: Scope, period: Period, ctx: CommandContext
) -> tuple[list[float], list[int], list[int]]:
    """Answered leads of the period binned by minutes to first response (log bins from 15 s to
    30 days, the SLA target an edge), split by whether each met its own SLA: one grouped query.
    """
    target = policy_for(list(ctx.sla), None).first_response_minutes
    edges = charts.log_edges(HISTOGRAM_LOW, HISTOGRAM_HIGH, target, steps=HISTOGRAM_BINS)
    minutes = response_minutes_expr(session, ctx.current_time())
    waited = seconds_between(session, Lead.first_response_at, Lead.created_at)
    met = waited <= sla_deadline_seconds(session, ctx.sla)
    bucket = case(
        *((minutes < edge, index) for index, edge in enumerate(edges[1:-1])),
        else_=len(edges) - 2,
    ).label("bucket")
    rows = session.execute(
        select(bucket, met.label("met"), func.count())
        .where(
            Lead.first_response_at.is_not(None),
            Lead.created_at >= at_time(period.start),
            Lead.created_at < at_time(period.end),
            in_scope(Lead.owner_id, scope),
        )
        .group_by(bucket, met)
    ).all()
    inside = [0] * (len(edges) - 1)
    late = [0] * (len(edges) - 1)
    for index, was_met, count in rows:
        (inside if was_met else late)[int(index)] += int(count)
    return edges, inside, late


def _lead_line(row: Any, now: datetime, show_owner: bool) -> str:
    waiting = (now - as_utc(row.created_at)).total_seconds() / 60
    name = row.company or row.external_id
    source = f" ({row.source})" if row.source else ""
    owner = f" · {row.name or 'unassigned'}" if show_owner else ""
    return f"• *{name}*{source} waiting {f.minutes(waiting)}{owner}"


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /leads."""
    args = parse_and_check(session, viewer, "/leads", text, ctx)
    now = ctx.current_time()
    kpis, numbers = scope_numbers(session, args.scope, args.period, ctx)
    total = partial_sum(numbers, "leads")
    heading = title("lead response", args, viewer.rep_id)
    blocks: list[Any] = [header(heading)]
    fields = [
        f"*Leads*\n{f.count(total)}",
        metric("lead_response_minutes_median", kpis, None, ""),
        metric("lead_response_minutes_p90", kpis, None, ""),
        metric("lead_sla_met_share", kpis, None, ""),
        metric("leads_unanswered", kpis, None, ""),
    ]
    blocks += field_sections(fields)
    waiting = open_unanswered(session, args.scope, args.period)
    if waiting:
        more = int(waiting[0].waiting_total) - len(waiting)
        lines = [_lead_line(r, now, args.scope.kind != "rep") for r in waiting]
        if more > 0:
            lines.append(f"_…and {more} more_")
        blocks.append(section("*Waiting for a first response*\n" + "\n".join(lines)))
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
        f"{f.count(kpis['leads_unanswered'])} unanswered"
    )
    chart_list = []
    if ctx.charts:
        sla = policy_for(list(ctx.sla), None).first_response_minutes
        edges, inside, late = response_histogram_counts(session, args.scope, args.period, ctx)
        if any(inside) or any(late):
            chart_title = f"{args.scope.name}: time to first response, {args.period.label}"
            render = partial(
                charts.response_histogram,
                edges,
                inside,
                late,
                sla_minutes=sla,
                unanswered=int(kpis["leads_unanswered"] or 0),
                title=chart_title,
            )
            chart_list.append(Chart("lead-response.png", chart_title, render))
    return Reply(fallback, blocks, chart_list, in_channel=args.share)
