"""Pieces every command reply shares: titles, metric fields, pace, period notes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from commands.kit import format as f
from commands.kit.args import Args
from commands.kit.blocks import context
from commands.kit.reply import CommandContext
from salesops_core.kpi.engine import KPI_KEYS, scope_kpis
from salesops_core.kpi.engine import gather as gather_numbers
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period

# How each KPI is shown: label and unit.
KPI_DISPLAY: dict[str, tuple[str, f.Unit]] = {
    "quota_attainment": ("Quota attainment", "pct"),
    "quota_attainment_rate": ("Reps at quota", "pct"),
    "won_amount": ("Won", "money"),
    "won_count": ("Deals won", "count"),
    "lost_count": ("Deals lost", "count"),
    "win_rate": ("Win rate", "pct"),
    "avg_deal_size": ("Avg deal size", "money"),
    "avg_sales_cycle_days": ("Avg sales cycle", "days"),
    "open_pipeline_value": ("Open pipeline", "money"),
    "weighted_pipeline_value": ("Weighted pipeline", "money"),
    "pipeline_coverage": ("Pipeline coverage", "ratio"),
    "pipeline_velocity_per_day": ("Pipeline velocity", "money"),
    "stale_deal_share": ("Stale deals", "pct"),
    "lead_response_minutes_median": ("Lead response (median)", "minutes"),
    "lead_response_minutes_p90": ("Lead response (p90)", "minutes"),
    "lead_sla_met_share": ("Lead SLA met", "pct"),
    "leads_unanswered": ("Leads unanswered", "count"),
    "selling_time_share": ("Selling time", "pct"),
    "meetings_per_rep_per_week": ("Meetings / rep / week", "number"),
    "forecast_accuracy": ("Forecast accuracy", "pct"),
}
assert set(KPI_DISPLAY) == set(KPI_KEYS), "every KPI needs a label and unit"


def whose(scope: Scope, viewer_rep_id: int) -> str:
    """ "Your" for the viewer's own numbers, else the scope's name."""
    if scope.kind == "rep" and scope.key == viewer_rep_id:
        return "Your"
    return f"{scope.name}:"


def title(what: str, args: Args, viewer_rep_id: int) -> str:
    """A header such as "Your KPIs · this-quarter (2026-Q4)"."""
    owner = whose(args.scope, viewer_rep_id)
    return f"{owner} {what} · {args.period.label}"


def metric(key: str, kpis: dict[str, Any], previous: dict[str, Any] | None, label: str) -> str:
    """A field: bold label, formatted value and (when given) the change vs the previous period."""
    name, unit = KPI_DISPLAY[key]
    value = f.fmt(kpis.get(key), unit)
    if key == "pipeline_velocity_per_day" and value != f.NA:
        value += " / day"
    text = f"*{name}*\n{value}"
    if previous is not None:
        text += f"\n_{f.delta(kpis.get(key), previous.get(key), unit, label)}_"
    return text


def elapsed_share(period: Period, now: datetime) -> float:
    """The share of the period that has passed at `now` (0..1)."""
    total = period.days()
    return min(1.0, max(0.0, period.days(now) / total)) if total > 0 else 1.0


def period_note(period: Period, now: datetime) -> str:
    """ "2026-10-01 to 2026-12-31 · 58% of the period elapsed" (or "closed")."""
    last = period.end.date().fromordinal(period.end.date().toordinal() - 1)
    span = f"{period.start.date()} to {last}"
    if period.is_current(now):
        return f"{span} · {f.pct(elapsed_share(period, now))} of the period elapsed"
    if now < period.start:
        return f"{span} · not started yet"
    return f"{span} · closed period"


def footer(period: Period, now: datetime, *extra: str) -> Any:
    """The grey context line under a reply."""
    return context(period_note(period, now), *extra)


def scope_numbers(
    session: Session, scope: Scope, period: Period, ctx: CommandContext
) -> tuple[dict[str, Any], Any]:
    """One period's KPIs for a scope without the previous period (about eight queries)."""
    numbers = gather_numbers(session, scope, period, ctx.org, ctx.sla, ctx.current_time())
    return scope_kpis(session, scope, numbers), numbers


def partial_sum(numbers: Any, key: str, rep_ids: set[int] | None = None) -> float:
    """Sum one partial (e.g. "stale_count") over the gathered owners (or only `rep_ids`)."""
    return float(
        sum(
            (row.get(key) or 0)
            for owner, row in numbers.partials.items()
            if rep_ids is None or owner in rep_ids
        )
    )


def quota_total(numbers: Any) -> float | None:
    """The scope's quota: the sum over reps with a quota in the period; None when none has."""
    quotas = [row["quota"] for row in numbers.partials.values() if (row.get("quota") or 0) > 0]
    return float(sum(quotas)) if quotas else None
