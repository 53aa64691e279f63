"""/kpi [period] [@rep | team]: the KPIs with the change vs the previous period, trend chart."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import parse_and_check
from commands.kit.blocks import context, field_sections, header, section
from commands.kit.chase import chase_text
from commands.kit.common import default_scope_note, footer, metric, title
from commands.kit.quota import wider_quota_text
from commands.kit.reply import Chart, CommandContext, Reply
from salesops_core import charts
from salesops_core.kpi import format as f
from salesops_core.kpi.engine import KpiReport, compute_report
from salesops_core.kpi.quota_share import wider_quotas
from salesops_core.kpi.registry import KPI_BY_KEY, KpiValues
from salesops_core.kpi.views import Trend, won_and_attainment_trend
from salesops_core.leads.views import overdue_by_owner
from salesops_core.org.access import Viewer
from salesops_core.periods import Period

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "Results",
        ("quota_attainment", "won_amount", "win_rate", "avg_deal_size", "avg_sales_cycle_days"),
    ),
    (
        "Pipeline",
        (
            "open_pipeline_value",
            "pipeline_coverage",
            "pipeline_velocity_per_day",
            "forecast_accuracy",
        ),
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


def _field(key: str, report: KpiReport, previous: KpiValues | None, label: str) -> str:
    """A KPI field; a rate the span is too short for says so instead of a bare "—"."""
    reason = report.why_undefined(key)
    if reason is None:
        return metric(key, report.kpis, previous, label)
    return f"*{KPI_BY_KEY[key].label}*\n{f.format_kpi(key, None)} ({reason})"


def _first_with_data(trend: Trend) -> int | None:
    """The first period of the trend with a won deal or a quota (the chart starts there)."""
    pairs = enumerate(zip(trend.won, trend.quota, strict=True))
    return next((i for i, (won, quota) in pairs if won or quota), None)


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /kpi."""
    args = parse_and_check(session, viewer, "/kpi", text, ctx)
    now = ctx.current_time()
    group = args.scope.kind != "rep"  # a team, region or the org: who needs chasing
    report = compute_report(
        session, args.scope, args.period, ctx.org, ctx.sla, now=now, leaderboard=group, funnel=False
    )
    label = f.vs_label(args.period, now)
    previous = None if report.too_short else report.previous
    wider = None  # a month of quarterly quotas: the quarter's quota and the month's share
    if report.kpis["quota_attainment"] is None:
        wider = wider_quota_text(wider_quotas(session, args.scope, args.period), args.period)
    blocks: list[Any] = [header(title("KPIs", args, viewer.rep_id))]
    for name, keys in GROUPS:
        blocks.append(section(f"*{name}*"))
        blocks += field_sections([_field(k, report, previous, label) for k in keys])
        if wider and "quota_attainment" in keys:
            blocks.append(context(wider))
    if report.too_short:
        blocks.append(context(f"No changes shown: {f.too_short_note(args.period)} to compare."))
    if group:
        overdue = overdue_by_owner(session, args.scope, now)
        blocks.append(section(chase_text(report.leaderboard, overdue, args.period, now)))
    if note := default_scope_note(args, "/kpi"):
        blocks.append(note)
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
    first = _first_with_data(trend) if trend else None
    if trend and first is not None:
        periods = trend.periods[first:]
        chart_title = f"{args.scope.name}: won vs quota, last {f.plural(len(periods), 'period')}"
        render = partial(
            charts.kpi_trend,
            [_short_label(p) for p in periods],
            trend.won[first:],
            trend.attainment[first:],
            quota=trend.quota[first:],
            running=periods[-1].is_current(now),
            title=chart_title,
        )
        chart_list.append(Chart("kpi-trend.png", chart_title, render))
    return Reply(text_fallback, blocks, chart_list, in_channel=args.share)
