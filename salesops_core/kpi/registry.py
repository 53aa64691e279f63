"""The KPI registry: each number of DESIGN.md section 4 defined once.

A KPI's key, label, unit, direction, family (which records `explain` lists) and formula live
here; the engine, `salesops kpi`, the Slack commands, charts and `explain` all read them.
`KPIS` is in report order, which is also the key order of `salesops kpi --format json`.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict


class Unit(StrEnum):
    """How a value reads (salesops_core.kpi.format has one formatter per unit)."""

    MONEY = "money"  # $45,300
    PERCENT = "percent"  # a fraction shown as 87%
    COUNT = "count"  # 1,204
    DAYS = "days"  # 4.5 days
    MINUTES = "minutes"  # a duration in minutes: 7 min, 1.7 h, 3 days
    RATIO = "ratio"  # 2.3x
    MONEY_PER_DAY = "money_per_day"  # $1,234 / day
    NUMBER = "number"  # 2.5


class Direction(StrEnum):
    """Whether a rise is good news (the CLI colours changes by it)."""

    HIGHER_IS_BETTER = "higher"
    LOWER_IS_BETTER = "lower"


class Family(StrEnum):
    """The records behind a number, and the definition choices `explain` states for them."""

    DEALS = "deals"
    QUOTA = "quota"
    OPEN = "open"
    LEADS = "leads"
    ACTIVITIES = "activities"
    FORECAST = "forecast"
    FUNNEL = "funnel"
    CONVERSION = "conversion"


@dataclass(frozen=True)
class Kpi:
    """One number: what it is called, how it reads and how it is computed."""

    key: str
    label: str
    unit: Unit
    direction: Direction
    family: Family
    formula: str


HIGHER = Direction.HIGHER_IS_BETTER
LOWER = Direction.LOWER_IS_BETTER

KPIS: tuple[Kpi, ...] = (
    Kpi(
        "quota_attainment", "Quota attainment", Unit.PERCENT, HIGHER, Family.QUOTA,
        "won amount in period / sum of quota rows inside the period",
    ),
    Kpi(
        "quota_attainment_rate", "Reps at quota", Unit.PERCENT, HIGHER, Family.QUOTA,
        "reps with won amount >= quota / reps with a quota (> 0)",
    ),
    Kpi(
        "win_rate", "Win rate", Unit.PERCENT, HIGHER, Family.DEALS,
        "won / (won + lost), deals whose close time is in [start, end)",
    ),
    Kpi(
        "avg_deal_size", "Avg deal size", Unit.MONEY, HIGHER, Family.DEALS,
        "sum of amounts of won deals / won deals that have an amount",
    ),
    Kpi(
        "avg_sales_cycle_days", "Avg sales cycle", Unit.DAYS, LOWER, Family.DEALS,
        "mean of (closed_at - created_at) in days over won deals",
    ),
    Kpi(
        "won_amount", "Won", Unit.MONEY, HIGHER, Family.DEALS,
        "sum of amounts of deals won in the period",
    ),
    Kpi(
        "won_count", "Deals won", Unit.COUNT, HIGHER, Family.DEALS,
        "number of deals won in the period",
    ),
    Kpi(
        "lost_count", "Deals lost", Unit.COUNT, LOWER, Family.DEALS,
        "number of deals lost in the period",
    ),
    Kpi(
        "open_pipeline_value", "Open pipeline", Unit.MONEY, HIGHER, Family.OPEN,
        "sum of amounts of deals open at T (period end, or now)",
    ),
    Kpi(
        "weighted_pipeline_value", "Weighted pipeline", Unit.MONEY, HIGHER, Family.OPEN,
        "sum of amount x probability (deal's, else stage's) of open deals",
    ),
    Kpi(
        "pipeline_coverage", "Pipeline coverage", Unit.RATIO, HIGHER, Family.OPEN,
        "open deals expected to close in the period / (quota - won amount); closed period: "
        "as of its start / quota",
    ),
    Kpi(
        "pipeline_velocity_per_day", "Pipeline velocity", Unit.MONEY_PER_DAY, HIGHER, Family.OPEN,
        "open deals x win rate x avg deal size / avg sales cycle days",
    ),
    Kpi(
        "stale_deal_share", "Stale deals", Unit.PERCENT, LOWER, Family.OPEN,
        "open deals without activity for N days or past expected close / open",
    ),
    Kpi(
        "lead_response_minutes_median", "Lead response (median)", Unit.MINUTES, LOWER,
        Family.LEADS, "median minutes to first response, answered leads",
    ),
    Kpi(
        "lead_response_minutes_p90", "Lead response (p90)", Unit.MINUTES, LOWER, Family.LEADS,
        "90th percentile minutes to first response; unanswered at now",
    ),
    Kpi(
        "lead_sla_met_share", "Lead SLA met", Unit.PERCENT, HIGHER, Family.LEADS,
        "leads answered by their SLA deadline / leads answered or overdue",
    ),
    Kpi(
        "leads_unanswered", "Leads unanswered", Unit.COUNT, LOWER, Family.LEADS,
        "leads created in the period without a first response",
    ),
    Kpi(
        "selling_time_share", "Selling time", Unit.PERCENT, HIGHER, Family.ACTIVITIES,
        "call+email+meeting+demo minutes / all logged activity minutes",
    ),
    Kpi(
        "meetings_per_rep_per_week", "Meetings / rep / week", Unit.NUMBER, HIGHER,
        Family.ACTIVITIES, "external meetings and demos / reps / (elapsed days / 7)",
    ),
    Kpi(
        "forecast_accuracy", "Forecast accuracy", Unit.PERCENT, HIGHER, Family.FORECAST,
        "1 - |forecast - actual| / actual, latest commit before period start; once it ended",
    ),
    Kpi(
        "pipeline_conversion", "Pipeline efficiency", Unit.PERCENT, HIGHER, Family.CONVERSION,
        "won by period end or now (at most each deal's start amount) / amount open at start",
    ),
    Kpi(
        "pipeline_conversion_lost", "Pipeline lost", Unit.PERCENT, LOWER,
        Family.CONVERSION, "start amount of deals lost by period end / amount open at start",
    ),
    Kpi(
        "pipeline_conversion_slipped", "Pipeline slipped", Unit.PERCENT, LOWER,
        Family.CONVERSION, "amount still open at period end (or now) / amount open at start",
    ),
    Kpi(
        "pipeline_conversion_shrunk", "Pipeline shrunk", Unit.PERCENT, LOWER,
        Family.CONVERSION,
        "amount cut from deals won for less or still open / amount open at start",
    ),
    Kpi(
        "pipeline_conversion_base", "Open at period start", Unit.MONEY, HIGHER, Family.CONVERSION,
        "sum of amounts, as of period start, of deals open at period start",
    ),
)  # fmt: skip

KPI_KEYS: tuple[str, ...] = tuple(k.key for k in KPIS)
KPI_BY_KEY: dict[str, Kpi] = {k.key: k for k in KPIS}


class KpiValues(TypedDict):
    """One scope's numbers for one period, keyed and ordered as `KPIS`; None = undefined."""

    quota_attainment: float | None
    quota_attainment_rate: float | None
    win_rate: float | None
    avg_deal_size: float | None
    avg_sales_cycle_days: float | None
    won_amount: float
    won_count: int
    lost_count: int
    open_pipeline_value: float
    weighted_pipeline_value: float
    pipeline_coverage: float | None
    pipeline_velocity_per_day: float | None
    stale_deal_share: float | None
    lead_response_minutes_median: float | None
    lead_response_minutes_p90: float | None
    lead_sla_met_share: float | None
    leads_unanswered: int
    selling_time_share: float | None
    meetings_per_rep_per_week: float | None
    forecast_accuracy: float | None
    pipeline_conversion: float | None
    pipeline_conversion_lost: float | None
    pipeline_conversion_slipped: float | None
    pipeline_conversion_shrunk: float | None
    pipeline_conversion_base: float


# pipeline_conversion's complement: with it, the shares of the amount open at period start.
CONVERSION_PARTS = (
    "pipeline_conversion_lost",
    "pipeline_conversion_slipped",
    "pipeline_conversion_shrunk",
)

# stage_conversion is a list (one rate per stage), not a number, so it is not a KPI of the
# report's `kpis`; it is explained like one, and each rate reads as Unit.PERCENT.
STAGE_CONVERSION = Kpi(
    "stage_conversion", "Stage conversion", Unit.PERCENT, HIGHER, Family.FUNNEL,
    "per stage: deals that reached the next stage / deals that reached it",
)  # fmt: skip

EXPLAINABLE: dict[str, Kpi] = {**KPI_BY_KEY, STAGE_CONVERSION.key: STAGE_CONVERSION}

COMMON_CHOICES: tuple[str, ...] = (
    "Period is half-open [start, end) in the org time zone; a close exactly at end belongs "
    "to the next period.",
    "Team and region numbers use current team membership.",
)

CHOICES: dict[Family, tuple[str, ...]] = {
    Family.DEALS: (
        "Every closed deal counts in win rate, whatever its amount (0 or none).",
        "Deals without an amount add nothing to sums and are left out of the average size.",
        "Amounts are summed as stored (one org currency, no conversion).",
    ),
    Family.QUOTA: (
        "Quota rows lying inside the period are summed; wider rows are not pro-rated.",
        "A quota of 0 counts as no quota; without quota attainment and coverage are null.",
    ),
    Family.OPEN: (
        "Open at T: created before T, not closed before T; T = period end or now if current.",
        "Each deal as of T (stage history): its stage, amount and probability then (the "
        "deal's own, else its stage's). Open today with no change since T: as it is today.",
        "Stage not recorded: open at T but its stage then is unknown (no history before T, or a "
        "won/lost stage while still open): counted in open value, never weighted.",
        "Coverage of a closed period: as of its start (open then, expected to close in the "
        "period) / quota; of a running one: open now, expected to close in it / quota left.",
        "Stale: no activity on the deal in the configured days before T (no activity at all: "
        "dated from creation) or expected close before T.",
    ),
    Family.LEADS: (
        "Leads created in the period. Median: answered leads only. p90: unanswered leads "
        "count with their wait so far.",
        "SLA deadline: the lead's sla_due_at (business hours). Leads still inside their SLA, "
        "or not yet given a deadline, are not counted yet.",
    ),
    Family.ACTIVITIES: (
        "Activities started in [start, T). Activities without minutes add no minutes.",
        "Meetings: types meeting and demo with an external attendee. Reps: people in scope "
        "who are active or logged activity in the period. Weeks: elapsed days / 7; no rate "
        "from under 2 elapsed days.",
    ),
    Family.FORECAST: (
        "Per rep and forecast period inside the report period, the last 'commit' forecast "
        "submitted before the period started; actual = won amount of the reps with one.",
        "Null until the period ends (won so far is not what was forecast) and when actual is "
        "0; can be negative when the forecast is over twice the actual.",
    ),
    Family.FUNNEL: (
        "Deals created in the period; a deal reached stage k when its history or current "
        "stage is k or later in stage-map order. Lost stages and unmapped stages are ignored.",
    ),
    Family.CONVERSION: (
        "Deals open at period start (created before it, not closed before it), each at its "
        "amount as of then (stage history, else its current amount); deals created during the "
        "period are not in it, nor deals without an amount.",
        "Followed to period end, or to now while the period runs (won so far; slipped = still "
        "open now). Won: the won amount, at most the start amount (a deal won for more counts "
        "its start amount). Lost: the whole start amount. Slipped: still open, at its amount "
        "then, at most the start amount. Shrunk: what won or open deals lost in amount. The "
        "four add up to the amount open at start; null when nothing was open then.",
    ),
}
