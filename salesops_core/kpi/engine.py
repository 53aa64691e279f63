"""The KPI engine: every number of DESIGN.md section 4 for a rep, team, region or the org.

Definition choices (also in README "Definitions" and `salesops explain`):
- won / lost in the period: close time in [start, end); a deal closing exactly at `end` belongs
  to the next period. Every closed deal counts in win_rate, whatever its amount (0 or none).
- won_amount sums the amounts of won deals (no amount = nothing added); avg_deal_size is the mean
  over won deals that HAVE an amount. Amounts are summed as stored: one org currency assumed.
- quota: quota rows whose [period_start, period_end) lies inside the report period are summed;
  rows reaching outside it are not pro-rated (a month report of quarterly quotas: null; /quota
  and /team show the wider quota and the month's share by days, kpi.quota_share).
  A quota of 0 means no quota. quota_attainment = scope won_amount / scope quota.
- open at T: created before T and not closed before T; T = period end, or now while current.
  Each deal counts as it was at T (kpi.asof, from the stage history): its stage, amount and
  probability then (the deal's own, else its stage's); a deal open today with no change since
  T is as it is today, so at T = now the numbers are today's. A deal whose stage at T is not
  recorded (no history before T, or a won/lost stage while it was still open, e.g. a CSV
  import of a closed deal) counts in open value, is never weighted, and is listed as "Stage not
  recorded". Expected close dates have no history: today's are used.
- pipeline_coverage, running period: open deals expected to close in it / (quota - won so
  far); null without quota or once won >= quota. Closed period: as of its start, the open
  deals (as of then) expected to close in it / quota; null without quota.
- stale: open at T and (no activity on the deal in the `stale_deal_days` before T - a deal with
  no activity at all is dated from its creation - or expected close before T).
- leads: created in the period. Median over answered leads; p90 counts unanswered leads at
  their wait so far (now). SLA share: answered by their deadline / leads decided (answered,
  or unanswered past the deadline); leads still inside their SLA are not yet counted.
- selling_time_share: minutes of call/email/meeting/demo over all logged minutes (activities
  without minutes add nothing), started in [start, T).
- meetings: meetings and demos with an external attendee, started in [start, T); reps = people
  in scope who are active or logged an activity in the period; weeks = elapsed days / 7; null
  when fewer than MIN_SPAN_DAYS (2) have elapsed (periods.Period.too_short).
- previous: while the period runs, the previous period up to the same point
  (Period.to_date_of_previous: day 61 against day 61; won, lost, leads, activities and open
  deals up to that point, quotas and forecasts of the whole previous period); once it has
  ended, the whole previous period.
- forecast_accuracy: per rep the last "commit" forecast submitted before the period started
  (or `[org] forecast_cutoff_days` into it),
  for forecast periods inside the report period; compared with the won amount of the reps that
  have such a forecast: 1 - |F - A| / A (null when A = 0; negative when F > 2A). Null until
  the period has ended: won so far is not what the forecast was for.
- pipeline_conversion: the amount open at the period start (as of then) split at T into won,
  lost, slipped (still open) and shrunk; null when nothing was open then (kpi.conversion).
- Team and region numbers use current team membership.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Role
from salesops_core.kpi import queries as q
from salesops_core.kpi.details import lead_response_minutes, pipeline_by_stage, stage_conversion
from salesops_core.kpi.format import too_short_note
from salesops_core.kpi.registry import KpiValues
from salesops_core.org.scopes import Scope, rep_scope, reps_in_scope, resolve_scope, team_scope
from salesops_core.periods import Period
from salesops_core.timeutil import utcnow

__all__ = [
    "KpiReport",
    "LeaderboardRow",
    "Scope",
    "compute_report",
    "lead_response_minutes",
    "pipeline_by_stage",
    "rep_scope",
    "resolve_scope",
    "stage_conversion",
    "team_scope",
]


# KPIs that are rates per elapsed week: null while the span is too short (Period.too_short).
PER_WEEK_RATES: tuple[str, ...] = ("meetings_per_rep_per_week",)
# KPIs that are null until the period has ended (what was forecast against what was won).
UNTIL_ENDED: tuple[str, ...] = ("forecast_accuracy",)


class LeaderboardRow(KpiValues):
    """One rep's KPIs on a leaderboard, with who the rep is."""

    rep_id: int
    rep: str
    email: str | None
    team: str | None
    active: bool  # False once the rep has left (listed as "Name (left)": org.views.rep_label)


@dataclass
class KpiReport:
    """Numbers for one scope and period, the previous period's, leaderboard and funnel."""

    scope: Scope
    period: Period
    kpis: KpiValues
    previous: KpiValues
    leaderboard: list[LeaderboardRow] = field(default_factory=list)
    stage_conversion: list[dict[str, Any]] = field(default_factory=list)
    now: datetime | None = None  # when computed; None: compared with the whole previous period

    @property
    def previous_until(self) -> datetime | None:
        """The same point of the previous period the numbers are compared up to, while the
        period runs; None when `previous` covers the whole previous period."""
        return self.period.to_date_of_previous(self.now) if self.now is not None else None

    @property
    def too_short(self) -> bool:
        """Too little of the period has elapsed for per-week rates and changes to mean much."""
        return self.now is not None and self.period.too_short(self.now)

    def why_undefined(self, key: str) -> str | None:
        """Why a KPI is null when that is the span, not the data: "too early in the week",
        "until the period ends"."""
        if self.kpis.get(key) is not None or self.now is None:
            return None
        if key in PER_WEEK_RATES and self.too_short:
            return too_short_note(self.period)
        if key in UNTIL_ENDED and self.now < self.period.end:
            return "until the period ends"
        return None

    def to_json(self) -> dict[str, Any]:
        """The `salesops kpi --format json` object (finite numbers or null only)."""
        return {
            "scope": self.scope.to_json(),
            "period": {
                "start": self.period.start.isoformat(),
                "end": self.period.end.isoformat(),
                "label": self.period.label,
            },
            "kpis": finite_values(self.kpis),
            "previous": finite_values(self.previous),
            "previous_period": self._previous_period_json(),
            "leaderboard": [finite_values(row) for row in self.leaderboard],
            "stage_conversion": [finite_values(row) for row in self.stage_conversion],
        }

    def _previous_period_json(self) -> dict[str, Any]:
        """What `previous` covers: the previous period, to the same point while this one runs."""
        before, until = self.period.previous(), self.previous_until
        return {
            "start": before.start.isoformat(),
            "end": (until or before.end).isoformat(),
            "label": before.label,
            "to_date": until is not None,
        }


def finite_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values with NaN and infinities as None (JSON numbers or null only)."""
    return {
        k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in values.items()
    }


@dataclass
class PeriodNumbers:
    """The per-rep partial sums of one scope and period, plus what is not additive."""

    partials: q.Partials
    percentiles: dict[str, float | None]
    owner_percentiles: q.Partials
    weeks: float | None  # elapsed weeks; None when too short for a per-week rate
    ended: bool = False  # the period had ended: coverage as of its start, forecast accuracy


def gather(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
    *,
    forecast_category: str = q.DEFAULT_FORECAST_CATEGORY,
    to_date: bool = False,
) -> PeriodNumbers:
    """Run the grouped queries for a scope and period (about eight queries in all).
    `to_date`: `now` is the same point of a previous period, so deals closed and leads created
    from then on are left out too (activities and open deals always stop at T)."""
    until = period.effective_end(now)
    so_far = replace(period, end=until) if to_date else period
    partials: q.Partials = {}
    q.closed_deals(session, scope, so_far, partials)
    q.open_pipeline(session, scope, period, until, org, partials)
    closed = now >= period.end and not to_date  # a to-date point, even its end, is running
    q.pipeline_conversion(session, scope, period, until, partials, due=closed)
    q.quotas(session, scope, period, partials)
    q.forecasts(session, scope, period, partials, forecast_category, org.forecast_cutoff(period))
    total, per_owner = q.lead_numbers(session, scope, so_far, now, partials)
    q.activities(session, scope, period, until, partials)
    weeks = None if period.too_short(now) else period.days(now) / 7.0
    return PeriodNumbers(partials, total, per_owner, weeks, ended=closed)


def _sum(rows: Sequence[dict[str, Any]], key: str) -> float:
    """An exactly rounded sum (fsum): the same whatever order the owners were gathered in, so
    a team combined from an org-wide gather equals the team gathered alone."""
    return math.fsum(row.get(key) or 0 for row in rows)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def combine(
    rows: Sequence[dict[str, Any]],
    *,
    rep_rows: Sequence[dict[str, Any]],
    rep_count: int,
    weeks: float | None,
    percentiles: dict[str, float | None],
    ended: bool = False,
) -> KpiValues:
    """KPIs from partial sums: `rows` every owner's (org: also unowned), `rep_rows` per rep;
    `ended`: the period is over, so coverage is its pipeline as of its start and forecast
    accuracy is defined (null while it runs: won so far is not what was forecast)."""
    won = _sum(rows, "won_count")
    lost = _sum(rows, "lost_count")
    won_amount = _sum(rows, "won_amount")
    with_quota = [r for r in rep_rows if (r.get("quota") or 0) > 0]
    quota = _sum(with_quota, "quota") if with_quota else None
    win_rate = _ratio(won, won + lost)
    avg_deal = _ratio(won_amount, _sum(rows, "won_with_amount"))
    cycle = _ratio(_sum(rows, "cycle_days_sum"), won)
    open_count = _sum(rows, "open_count")
    basis = forecast_basis(rep_rows)
    velocity = None
    if win_rate is not None and avg_deal is not None and cycle:
        velocity = open_count * win_rate * avg_deal / cycle
    coverage = None
    if quota is not None and ended:
        coverage = _sum(rows, "start_due_amount") / quota
    elif quota is not None and quota - won_amount > 0:
        coverage = _sum(rows, "due_amount") / (quota - won_amount)
    hit = sum(1 for r in with_quota if (r.get("won_amount") or 0) >= r["quota"])
    start = _sum(rows, "start_amount")
    return {
        "quota_attainment": won_amount / quota if quota else None,
        "quota_attainment_rate": _ratio(hit, len(with_quota)),
        "win_rate": win_rate,
        "avg_deal_size": avg_deal,
        "avg_sales_cycle_days": cycle,
        "won_amount": won_amount,
        "won_count": int(won),
        "lost_count": int(lost),
        "open_pipeline_value": _sum(rows, "open_amount"),
        "weighted_pipeline_value": _sum(rows, "weighted_amount"),
        "pipeline_coverage": coverage,
        "pipeline_velocity_per_day": velocity,
        "stale_deal_share": _ratio(_sum(rows, "stale_count"), open_count),
        "lead_response_minutes_median": percentiles.get("median"),
        "lead_response_minutes_p90": percentiles.get("p90"),
        "lead_sla_met_share": _ratio(_sum(rows, "sla_met"), _sum(rows, "sla_decided")),
        "leads_unanswered": int(_sum(rows, "leads_unanswered")),
        "selling_time_share": _ratio(_sum(rows, "selling_minutes"), _sum(rows, "logged_minutes")),
        "meetings_per_rep_per_week": (
            _sum(rows, "meetings") / rep_count / weeks if rep_count and weeks else None
        ),
        "forecast_accuracy": forecast_accuracy_of(basis.forecast, basis.won) if ended else None,
        "pipeline_conversion": _ratio(_sum(rows, "start_won"), start),
        "pipeline_conversion_lost": _ratio(_sum(rows, "start_lost"), start),
        "pipeline_conversion_slipped": _ratio(_sum(rows, "start_slipped"), start),
        "pipeline_conversion_shrunk": _ratio(_sum(rows, "start_shrunk"), start),
        "pipeline_conversion_base": start,
    }


def forecast_accuracy_of(forecast: float | None, won: float) -> float | None:
    """1 - |forecast - won| / won (DESIGN.md section 4); None without a forecast or when
    nothing was won."""
    return 1 - abs(forecast - won) / won if forecast is not None and won else None


@dataclass(frozen=True)
class ForecastBasis:
    """What forecast_accuracy compares: the reps' forecasts submitted before the period started
    and the amount those same reps won."""

    forecast: float | None  # summed over the reps with one; None when no rep has one
    won: float  # won by the reps with a forecast
    forecasters: int
    submitted_at: datetime | None  # the last of those submissions


def forecast_basis(rep_rows: Sequence[dict[str, Any]]) -> ForecastBasis:
    """The forecast and won amount behind forecast_accuracy, from per-rep partial rows."""
    forecasters = [r for r in rep_rows if r.get("forecast") is not None]
    submitted = [r["submitted_at"] for r in forecasters if r.get("submitted_at") is not None]
    return ForecastBasis(
        forecast=_sum(forecasters, "forecast") if forecasters else None,
        won=_sum(forecasters, "won_amount"),
        forecasters=len(forecasters),
        submitted_at=max(submitted) if submitted else None,
    )


def scope_rep_rows(
    scope: Scope, numbers: PeriodNumbers, reps: Sequence[Any] | None
) -> list[dict[str, Any]]:
    """The per-rep partial rows quotas and forecasts add up over: the rep's own for a rep
    scope, else those of `reps` (the scope's rep rows, `reps_in_scope`)."""
    if scope.kind == "rep":
        assert isinstance(scope.key, int)
        return [numbers.partials.get(scope.key, {})]
    return [numbers.partials.get(i, {}) for i in {r.id for r in reps or ()}]


def rate_reps(reps: Iterable[Any], partials: q.Partials) -> list[Any]:
    """The people of `reps` that per-rep rates (meetings per rep per week) divide by, whatever
    their role: active, or logged an activity in the period."""
    return [r for r in reps if r.active or (partials.get(r.id) or {}).get("activity_count", 0) > 0]


def rep_kpis(numbers: PeriodNumbers, rep_id: int) -> KpiValues:
    """One rep's KPIs from the numbers gathered over any scope holding them."""
    row = numbers.partials.get(rep_id, {})
    return combine(
        [row],
        rep_rows=[row],
        rep_count=1,
        weeks=numbers.weeks,
        percentiles=numbers.owner_percentiles.get(rep_id, {}),
        ended=numbers.ended,
    )


def scope_kpis(
    session: Session, scope: Scope, numbers: PeriodNumbers, reps: Sequence[Any] | None = None
) -> KpiValues:
    """The scope's KPIs from its gathered numbers; `reps`: the scope's rep rows
    (`reps_in_scope`), when the caller has read them already."""
    if scope.kind == "rep":
        assert isinstance(scope.key, int)
        return rep_kpis(numbers, scope.key)
    if reps is None:
        reps = session.execute(reps_in_scope(scope)).all()
    return combine(
        list(numbers.partials.values()),
        rep_rows=scope_rep_rows(scope, numbers, reps),
        rep_count=len(rate_reps(reps, numbers.partials)),
        weeks=numbers.weeks,
        percentiles=numbers.percentiles,
        ended=numbers.ended,
    )


def group_kpis(
    reps: Sequence[Any], numbers: PeriodNumbers, percentiles: dict[str, float | None]
) -> KpiValues:
    """The KPIs of a group of reps (a team) from numbers gathered over any scope holding them,
    with the group's own lead-response `percentiles` (not additive; see kpi.teams)."""
    partials = numbers.partials
    return combine(
        [partials[r.id] for r in reps if r.id in partials],
        rep_rows=[partials.get(r.id, {}) for r in reps],
        rep_count=len(rate_reps(reps, partials)),
        weeks=numbers.weeks,
        percentiles=percentiles,
        ended=numbers.ended,
    )


def _on_leaderboard(rep: Any, numbers: PeriodNumbers) -> bool:
    """Reps who are active or have numbers; managers and admins only when they carry a quota."""
    if rep.role != Role.REP:
        return bool(numbers.partials.get(rep.id, {}).get("quota"))
    return bool(rep.active) or rep.id in numbers.partials


def leaderboard_rows(reps: Iterable[Any], numbers: PeriodNumbers) -> list[LeaderboardRow]:
    """One row per rep on the leaderboard (see `_on_leaderboard`), best won amount first."""
    rows: list[LeaderboardRow] = [
        {
            "rep_id": r.id,
            "rep": r.name,
            "email": r.email,
            "team": r.team,
            "active": bool(r.active),
            **rep_kpis(numbers, r.id),
        }
        for r in reps
        if _on_leaderboard(r, numbers)
    ]
    rows.sort(key=lambda row: (-(row["won_amount"] or 0), row["rep"]))
    return rows


@dataclass(frozen=True)
class Comparison:
    """What a period's numbers are compared with at a moment (module docstring, "previous")."""

    period: Period  # the previous period
    at: datetime  # the moment its numbers are gathered at
    to_date: bool  # only up to `at`: the same point as now in the running period


def previous_comparison(period: Period, now: datetime) -> Comparison:
    """The previous period, up to the same point while `period` runs at `now`, else whole."""
    same_point = period.to_date_of_previous(now)
    return Comparison(period.previous(), same_point or now, same_point is not None)


def compute_report(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy] = (),
    *,
    now: datetime | None = None,
    leaderboard: bool = True,
    funnel: bool = True,
    forecast_category: str = q.DEFAULT_FORECAST_CATEGORY,
) -> KpiReport:
    """Every KPI for the scope and period, the previous period (to the same point while the
    period runs, see the module docstring), leaderboard and funnel.

    `funnel=False` skips stage_conversion, the one part that reads the stage history of every
    deal created in the period (the slowest query at scale; the digest may not need it).
    """
    now = now or utcnow()
    numbers = gather(session, scope, period, org, sla, now, forecast_category=forecast_category)
    before = previous_comparison(period, now)
    previous = gather(
        session,
        scope,
        before.period,
        org,
        sla,
        before.at,
        forecast_category=forecast_category,
        to_date=before.to_date,
    )
    reps = session.execute(reps_in_scope(scope)).all() if scope.kind != "rep" else None
    rows: list[LeaderboardRow] = []
    if leaderboard and reps is not None:
        rows = leaderboard_rows(reps, numbers)
    return KpiReport(
        scope=scope,
        period=period,
        kpis=scope_kpis(session, scope, numbers, reps),
        previous=scope_kpis(session, scope, previous, reps),
        leaderboard=rows,
        stage_conversion=stage_conversion(session, scope, period) if funnel else [],
        now=now,
    )
