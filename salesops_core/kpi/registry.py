"""What `salesops explain` says about each KPI: its formula and its definition choices."""

from __future__ import annotations

from salesops_core.kpi.engine import KPI_KEYS

EXPLAINABLE: tuple[str, ...] = (*KPI_KEYS, "stage_conversion")

FORMULAS: dict[str, str] = {
    "quota_attainment": "won amount in period / sum of quota rows inside the period",
    "quota_attainment_rate": "reps with won amount >= quota / reps with a quota (> 0)",
    "win_rate": "won / (won + lost), deals whose close time is in [start, end)",
    "avg_deal_size": "sum of amounts of won deals / won deals that have an amount",
    "avg_sales_cycle_days": "mean of (closed_at - created_at) in days over won deals",
    "won_amount": "sum of amounts of deals won in the period",
    "won_count": "number of deals won in the period",
    "lost_count": "number of deals lost in the period",
    "open_pipeline_value": "sum of amounts of deals open at T (period end, or now)",
    "weighted_pipeline_value": "sum of amount x probability (deal's, else stage's) of open deals",
    "pipeline_coverage": "open deals expected to close in the period / (quota - won amount)",
    "pipeline_velocity_per_day": "open deals x win rate x avg deal size / avg sales cycle days",
    "stale_deal_share": "open deals without activity for N days or past expected close / open",
    "lead_response_minutes_median": "median minutes to first response, answered leads",
    "lead_response_minutes_p90": "90th percentile minutes to first response; unanswered at now",
    "lead_sla_met_share": "leads answered by their SLA deadline / leads answered or overdue",
    "leads_unanswered": "leads created in the period without a first response",
    "selling_time_share": "call+email+meeting+demo minutes / all logged activity minutes",
    "meetings_per_rep_per_week": "external meetings and demos / reps / (elapsed days / 7)",
    "forecast_accuracy": "1 - |forecast - actual| / actual, latest commit before period start",
    "stage_conversion": "per stage: deals that reached the next stage / deals that reached it",
}

COMMON_CHOICES = [
    "Period is half-open [start, end) in the org time zone; a close exactly at end belongs "
    "to the next period.",
    "Team and region numbers use current team membership.",
]

CHOICES: dict[str, list[str]] = {
    "deals": [
        "Every closed deal counts in win rate, whatever its amount (0 or none).",
        "Deals without an amount add nothing to sums and are left out of the average size.",
        "Amounts are summed as stored (one org currency, no conversion).",
    ],
    "quota": [
        "Quota rows lying inside the period are summed; wider rows are not pro-rated.",
        "A quota of 0 counts as no quota; without quota attainment and coverage are null.",
    ],
    "open": [
        "Open at T: created before T, not closed before T; T = period end or now if current.",
        "Probability: the deal's own, else its stage's; current values even for a past T.",
        "Stale: no activity on the deal in the configured days before T (no activity at all: "
        "dated from creation) or expected close before T.",
    ],
    "leads": [
        "Leads created in the period. Median: answered leads only. p90: unanswered leads "
        "count with their wait so far.",
        "SLA deadline: the lead's sla_due_at (business hours), else created_at + the source "
        "policy's minutes (wall clock). Leads still inside their SLA are not counted yet.",
    ],
    "activities": [
        "Activities started in [start, T). Activities without minutes add no minutes.",
        "Meetings: types meeting and demo with an external attendee. Reps: people in scope "
        "who are active or logged activity in the period. Weeks: elapsed days / 7.",
    ],
    "forecast": [
        "Per rep and forecast period inside the report period, the last 'commit' forecast "
        "submitted before the period started; actual = won amount of the reps with one.",
        "Null when actual is 0; can be negative when the forecast is over twice the actual.",
    ],
    "funnel": [
        "Deals created in the period; a deal reached stage k when its history or current "
        "stage is k or later in stage-map order. Lost stages and unmapped stages are ignored.",
    ],
}

FAMILY: dict[str, str] = {
    **dict.fromkeys(
        ("win_rate", "avg_deal_size", "avg_sales_cycle_days", "won_amount", "won_count"),
        "deals",
    ),
    "lost_count": "deals",
    **dict.fromkeys(("quota_attainment", "quota_attainment_rate"), "quota"),
    **dict.fromkeys(
        (
            "open_pipeline_value",
            "weighted_pipeline_value",
            "pipeline_coverage",
            "pipeline_velocity_per_day",
            "stale_deal_share",
        ),
        "open",
    ),
    **dict.fromkeys(
        (
            "lead_response_minutes_median",
            "lead_response_minutes_p90",
            "lead_sla_met_share",
            "leads_unanswered",
        ),
        "leads",
    ),
    **dict.fromkeys(("selling_time_share", "meetings_per_rep_per_week"), "activities"),
    "forecast_accuracy": "forecast",
    "stage_conversion": "funnel",
}
