"""/kpi [period] [@rep | team]: the KPIs with the change vs the previous period, trend chart."""

from __future__ import annotations

from datetime import timedelta
from functools import partial
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from commands.kit import format as f
from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.common import footer, metric, title
from commands.kit.reply import Chart, CommandContext, Reply
from salesops_core import charts
from salesops_core.db.models import Deal, Outcome, Quota
from salesops_core.kpi.engine import compute_report
from salesops_core.kpi.queries import at_time
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period

TREND_PERIODS = 6
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


def recent_periods(period: Period, count: int = TREND_PERIODS) -> list[Period]:
    """`period` and the `count - 1` periods of the same kind before it, oldest first."""
    periods = [period]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods[::-1]


def _bucket(column: Any, periods: list[Period]) -> Any:
    return case(
        *(
            (and_(column >= at_time(p.start), column < at_time(p.end)), index)
            for index, p in enumerate(periods)
        ),
        else_=None,
    )


def won_and_quota_trend(
    session: Session, scope: Scope, periods: list[Period]
) -> tuple[list[float], list[float | None]]:
    """Won amount and attainment per period, in two grouped queries (same rules as the KPIs).

    Quota rows count for a period when they lie inside it (no pro-rating), as in the engine.
    """
    won_bucket = _bucket(Deal.closed_at, periods).label("bucket")
    won_rows = session.execute(
        select(won_bucket, func.coalesce(func.sum(Deal.amount), 0))
        .where(
            Deal.outcome == Outcome.WON,
            Deal.closed_at >= at_time(periods[0].start),
            Deal.closed_at < at_time(periods[-1].end),
            in_scope(Deal.owner_id, scope),
        )
        .group_by(won_bucket)
    ).all()
    quota_bucket = case(
        *(
            (
                and_(Quota.period_start >= at_time(p.start), Quota.period_end <= at_time(p.end)),
                index,
            )
            for index, p in enumerate(periods)
        ),
        else_=None,
    ).label("bucket")
    quota_rows = session.execute(
        select(quota_bucket, func.sum(Quota.amount))
        .where(
            Quota.period_start >= at_time(periods[0].start),
            Quota.period_end <= at_time(periods[-1].end),
            Quota.amount > 0,
            in_scope(Quota.rep_id, scope),
        )
        .group_by(quota_bucket)
    ).all()
    won = [0.0] * len(periods)
    for bucket, amount in won_rows:
        if bucket is not None:
            won[int(bucket)] = float(amount)
    quota: list[float | None] = [None] * len(periods)
    for bucket, amount in quota_rows:
        if bucket is not None and amount:
            quota[int(bucket)] = float(amount)
    attainment = [w / q if q else None for w, q in zip(won, quota, strict=True)]
    return won, attainment


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
        session, args.scope, args.period, ctx.org, ctx.sla, now=now, leaderboard=False
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
    periods = recent_periods(args.period)
    won: list[float] = []
    attainment: list[float | None] = []
    if ctx.charts:
        won, attainment = won_and_quota_trend(session, args.scope, periods)
    if ctx.charts and (any(won) or any(a is not None for a in attainment)):
        who = args.scope.name
        chart_title = f"{who}: won amount and quota attainment, last {len(periods)} periods"
        render = partial(
            charts.kpi_trend, [_short_label(p) for p in periods], won, attainment, title=chart_title
        )
        chart_list.append(Chart("kpi-trend.png", chart_title, render))
    return Reply(text_fallback, blocks, chart_list, in_channel=args.share)
