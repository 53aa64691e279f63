"""/kpi [period] [@rep | team]: the KPIs with the change vs the previous period, trend chart."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.common import footer, metric, title
from commands.kit.reply import Chart, CommandContext, Reply
from salesops_core import charts
from salesops_core.kpi import format as f
from salesops_core.kpi.engine import compute_report
from salesops_core.kpi.views import won_and_attainment_trend
from salesops_core.org.access import Viewer
from salesops_core.periods import Period

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Results",
        ("quota_attainment", "won_amount", "win_rate", "avg_deal_size", "avg_sales_cycle_days"),
    ),
    (
        "Pipeline",
        ("open_pipeline_value", "pipeline_coverage", "pipeline_velocity_per_day"),
    ),
    (
        "Activity",
        (
            "lead_response_minutes_median",
            "lead_sla_met_share",
            "selling_time_share",
            "meetings_per_rep_per_week",
        ),
    ),
)


def _short_label(period: Period) -> str:
    """ "2026-Q3" for "last-quarter (2026-Q3)"; a date range on two lines (first and last day)."""
    if period.kind == "range":
        last = period.end.date() - timedelta(days=1)
        return f"{period.start.date()}\nto {last}"
    label = period.label
    return label.split("(")[-1].rstrip(")") if "(" in label else label


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /kpi."""
    args = parse_and_check(session, viewer, "/kpi", text, ctx)
    now = ctx.current_time()
    report = compute_report(
        session, args.scope, args.period, ctx.org, ctx.sla, now=now, leaderboard=False, funnel=False
    )
    label = f.vs_label(args.period)
    blocks: list[Any] = [header(title("KPIs", args, viewer.rep_id))]
    for name, keys in GROUPS:
        blocks.append(section(f"*{name}*"))
        blocks += field_sections([metric(k, report.kpis, report.previous, label) for k in keys])
    k = report.kpis
    blocks.append(
        footer(
            args.period,
            now,
            f"{f.count(k['won_count'])} won · {f.count(k['lost_count'])} lost · "
            f"weighted pipeline {f.money(k['weighted_pipeline_value'])} · "
            f"{f.plural(k['leads_unanswered'], 'lead')} unanswered",
        )
    )
    text_fallback = (
        f"{title('KPIs', args, viewer.rep_id)}: attainment {f.pct(k['quota_attainment'])}, "
        f"won {f.money(k['won_amount'])}, win rate {f.pct(k['win_rate'])}, "
        f"pipeline {f.money(k['open_pipeline_value'])}"
    )
    chart_list = []
    trend = won_and_attainment_trend(session, args.scope, args.period) if ctx.charts else None
    if trend and (any(trend.won) or any(a is not None for a in trend.attainment)):
        who = args.scope.name
        chart_title = f"{who}: won amount and quota attainment, last {len(trend.periods)} periods"
        render = partial(
            charts.kpi_trend,
            [_short_label(p) for p in trend.periods],
            trend.won,
            trend.attainment,
            title=chart_title,
        )
        chart_list.append(Chart("kpi-trend.png", chart_title, render))
    return Reply(text_fallback, blocks, chart_list, in_channel=args.share)
