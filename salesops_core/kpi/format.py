"""Human labels, units and formatting of KPI values (shared by the CLI and Slack replies)."""

from __future__ import annotations

from typing import Literal

Unit = Literal["money", "share", "count", "days", "minutes", "ratio", "per_day", "number"]

KPI_LABELS: dict[str, str] = {
    "quota_attainment": "Quota attainment",
    "quota_attainment_rate": "Reps at quota",
    "win_rate": "Win rate",
    "avg_deal_size": "Avg deal size",
    "avg_sales_cycle_days": "Avg sales cycle",
    "won_amount": "Won amount",
    "won_count": "Deals won",
    "lost_count": "Deals lost",
    "open_pipeline_value": "Open pipeline",
    "weighted_pipeline_value": "Weighted pipeline",
    "pipeline_coverage": "Pipeline coverage",
    "pipeline_velocity_per_day": "Pipeline velocity",
    "stale_deal_share": "Stale deals",
    "lead_response_minutes_median": "Lead response (median)",
    "lead_response_minutes_p90": "Lead response (p90)",
    "lead_sla_met_share": "Leads within SLA",
    "leads_unanswered": "Leads unanswered",
    "selling_time_share": "Selling time",
    "meetings_per_rep_per_week": "Meetings / rep / week",
    "forecast_accuracy": "Forecast accuracy",
}

KPI_UNITS: dict[str, Unit] = {
    "quota_attainment": "share",
    "quota_attainment_rate": "share",
    "win_rate": "share",
    "avg_deal_size": "money",
    "avg_sales_cycle_days": "days",
    "won_amount": "money",
    "won_count": "count",
    "lost_count": "count",
    "open_pipeline_value": "money",
    "weighted_pipeline_value": "money",
    "pipeline_coverage": "ratio",
    "pipeline_velocity_per_day": "per_day",
    "stale_deal_share": "share",
    "lead_response_minutes_median": "minutes",
    "lead_response_minutes_p90": "minutes",
    "lead_sla_met_share": "share",
    "leads_unanswered": "count",
    "selling_time_share": "share",
    "meetings_per_rep_per_week": "number",
    "forecast_accuracy": "share",
}

# For these a fall is good news (arrows are coloured the other way round).
LOWER_IS_BETTER = frozenset(
    {
        "avg_sales_cycle_days",
        "lost_count",
        "stale_deal_share",
        "lead_response_minutes_median",
        "lead_response_minutes_p90",
        "leads_unanswered",
    }
)


def _money(value: float) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    if value >= 1_000_000:
        return f"{sign}${value / 1_000_000:,.2f}M"
    if value >= 10_000:
        return f"{sign}${value / 1_000:,.1f}k"
    return f"{sign}${value:,.0f}"


def _minutes(value: float) -> str:
    if value >= 60 * 48:
        return f"{value / 1440:,.1f} d"
    if value >= 120:
        return f"{value / 60:,.1f} h"
    return f"{value:,.1f} min"


def format_value(key: str, value: float | int | None) -> str:
    """A KPI value with its unit: $1.2M, 43%, 12.5 days, 7.0 min; an em dash when undefined."""
    if value is None:
        return "—"
    unit = KPI_UNITS.get(key, "number")
    if unit == "money":
        return _money(float(value))
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "count":
        return f"{int(value):,}"
    if unit == "days":
        return f"{value:,.1f} days"
    if unit == "minutes":
        return _minutes(float(value))
    if unit == "ratio":
        return f"{value:,.2f}x"
    if unit == "per_day":
        return f"{_money(float(value))}/day"
    return f"{value:,.2f}"


def delta(key: str, current: float | int | None, previous: float | int | None) -> str:
    """Change vs the previous period with an arrow: ▲ 4.0 pts, ▼ $12.0k; empty if undefined."""
    if current is None or previous is None:
        return ""
    change = float(current) - float(previous)
    if abs(change) < 1e-9:
        return "="
    arrow = "▲" if change > 0 else "▼"
    unit = KPI_UNITS.get(key, "number")
    if unit == "share":
        return f"{arrow} {abs(change) * 100:.1f} pts"
    return f"{arrow} {format_value(key, abs(change))}"


def is_improvement(key: str, current: float | int | None, previous: float | int | None) -> bool:
    """True when the change is good news for this KPI."""
    if current is None or previous is None:
        return False
    change = float(current) - float(previous)
    return change < 0 if key in LOWER_IS_BETTER else change > 0
