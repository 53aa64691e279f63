"""Read views the slash commands and App Home ask: a scope's numbers, shaped for showing.

Each function takes a session and returns plain values (the commands build Block Kit from
them and run no SQL of their own). The numbers come from the engine's grouped queries, so a
view shows exactly what `salesops kpi` reports.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Deal, Lead, Outcome, Quota, Rep, Role, Team
from salesops_core.kpi.engine import (
    ForecastBasis,
    LeaderboardRow,
    PeriodNumbers,
    forecast_basis,
    gather,
    leaderboard_rows,
    rate_reps,
    rep_kpis,
    scope_kpis,
    scope_rep_rows,
)
from salesops_core.kpi.queries import DEFAULT_FORECAST_CATEGORY, latest_forecasts
from salesops_core.kpi.registry import KpiValues
from salesops_core.kpi.rules import (
    at_time,
    closed_in,
    quota_inside,
    responded_by,
    response_minutes_expr,
    sla_met,
)
from salesops_core.org.scopes import Scope, in_scope, reps_in_scope, team_scope
from salesops_core.org.views import rep_label
from salesops_core.periods import Period
from salesops_core.timeutil import as_utc

TREND_PERIODS = 6


@dataclass(frozen=True)
class ScopeNumbers:
    """One period's KPIs for a scope, with the per-owner partial sums they were combined from."""

    scope: Scope
    kpis: KpiValues
    gathered: PeriodNumbers
    reps: Sequence[Any] | None = None  # the scope's rep rows (`reps_in_scope`); None: unread

    def total(self, partial: str, rep_ids: Collection[int] | None = None) -> float:
        """One partial sum (e.g. "stale_count") over every owner gathered, or only `rep_ids`."""
        return float(
            sum(
                (row.get(partial) or 0)
                for owner, row in self.gathered.partials.items()
                if rep_ids is None or owner in rep_ids
            )
        )

    @property
    def quota(self) -> float | None:
        """The scope's quota: the sum over reps with a quota in the period; None when none has."""
        quotas = [
            row["quota"] for row in self.gathered.partials.values() if (row.get("quota") or 0) > 0
        ]
        return float(sum(quotas)) if quotas else None


def scope_numbers(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
) -> ScopeNumbers:
    """One period's KPIs for a scope, without the previous period (about eight queries)."""
    gathered = gather(session, scope, period, org, sla, now)
    reps = session.execute(reps_in_scope(scope)).all() if scope.kind != "rep" else None
    return ScopeNumbers(scope, scope_kpis(session, scope, gathered, reps), gathered, reps)


def leaderboard(session: Session, numbers: ScopeNumbers) -> list[LeaderboardRow]:
    """The scope's reps, one KPI row each from the same gathered numbers, best won first."""
    reps = numbers.reps
    if reps is None:
        reps = session.execute(reps_in_scope(numbers.scope)).all()
    return leaderboard_rows(reps, numbers.gathered)


@dataclass(frozen=True)
class Trend:
    """Won amount, quota and quota attainment over consecutive periods, oldest first."""

    periods: list[Period]
    won: list[float]
    attainment: list[float | None]
    quota: list[float | None]  # the quota lying inside each period; None without one


def recent_periods(period: Period, count: int = TREND_PERIODS) -> list[Period]:
    """`period` and the `count - 1` periods of the same kind before it, oldest first."""
    periods = [period]
    while len(periods) < count:
        periods.append(periods[-1].previous())
    return periods[::-1]


def _which_period(
    belongs: Callable[[Period], ColumnElement[bool]], periods: list[Period]
) -> ColumnElement[Any]:
    """The index of the period a row `belongs` to (NULL for none)."""
    return case(*((belongs(p), index) for index, p in enumerate(periods)), else_=None)


def won_and_attainment_trend(
    session: Session, scope: Scope, period: Period, count: int = TREND_PERIODS
) -> Trend:
    """Won amount and attainment for `period` and the ones before it, in two grouped queries.

    Same rules as the KPIs: a deal is won in the period its close time falls in; quota rows
    count for a period when they lie inside it (no pro-rating).
    """
    periods = recent_periods(period, count)
    won = won_per_period(session, scope, periods)
    quota_bucket = _which_period(quota_inside, periods).label("bucket")
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
    quota: list[float | None] = [None] * len(periods)
    for bucket, amount in quota_rows:
        if bucket is not None and amount:
            quota[int(bucket)] = float(amount)
    attainment = [w / q if q else None for w, q in zip(won, quota, strict=True)]
    return Trend(periods, won, attainment, quota)


def won_per_period(session: Session, scope: Scope, periods: Sequence[Period]) -> list[float]:
    """Won amount in each of consecutive `periods` (oldest first), in one grouped query."""
    won = [0.0] * len(periods)
    for index, amount in session.execute(_won_by_period(scope, periods)).all():
        if index is not None:
            won[int(index)] = float(amount)
    return won


def won_per_period_per_team(
    session: Session, scope: Scope, periods: Sequence[Period]
) -> dict[int, list[float]]:
    """`won_per_period` for every team in the scope at once (one query grouped by team)."""
    query = _won_by_period(scope, periods, Rep.team_id)
    rows = session.execute(
        query.join(Rep, Rep.id == Deal.owner_id).where(Rep.team_id.is_not(None))
    ).all()
    won: dict[int, list[float]] = {}
    for team, index, amount in rows:
        if index is not None:
            won.setdefault(team, [0.0] * len(periods))[int(index)] = float(amount)
    return won


def _won_by_period(scope: Scope, periods: Sequence[Period], *group: Any) -> Select[Any]:
    """Won amount summed by (*group, index of the period in `periods` the deal closed in)."""
    bucket = _which_period(closed_in, list(periods)).label("bucket")
    return (
        select(*group, bucket, func.coalesce(func.sum(Deal.amount), 0))
        .where(
            Deal.outcome == Outcome.WON,
            Deal.closed_at >= at_time(periods[0].start),
            Deal.closed_at < at_time(periods[-1].end),
            in_scope(Deal.owner_id, scope),
        )
        .group_by(*group, bucket)
    )


def latest_forecast_per_rep(
    session: Session,
    scope: Scope,
    period: Period,
    now: datetime,
    category: str = DEFAULT_FORECAST_CATEGORY,
) -> dict[int, float]:
    """Each rep's forecast for the period as submitted by `now` (their latest row per forecast
    period inside it, summed): the per-rep parts of `forecast_vs_won`'s forecast."""
    ranked = latest_forecasts(session, scope, period, category, submitted_before=now)
    rows = session.execute(
        select(ranked.c.rep_id, func.sum(ranked.c.amount))
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.rep_id)
    ).all()
    return {rep_id: float(amount) for rep_id, amount in rows}


@dataclass(frozen=True)
class ForecastVsWon:
    """The forecast as submitted so far against what is won, weighted and the quota, and the
    accuracy of the last closed period with the forecast and won amount it compares."""

    forecast: float | None  # each rep's latest forecast for the period, summed
    submitted_at: datetime | None  # the last of those submissions
    forecasters: int  # reps with such a forecast
    won: float  # won so far while the period runs
    running: bool  # the period is under way at `now`
    weighted_pipeline: float | None  # open now, expected to close in it; None once it has ended
    quota: float | None
    accuracy_period: Period  # the period itself once it has ended, else the one before
    accuracy: float | None  # forecast_accuracy of `accuracy_period`
    accuracy_basis: ForecastBasis  # the forecast that accuracy uses and what those reps won


def forecast_vs_won(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
    category: str = DEFAULT_FORECAST_CATEGORY,
) -> ForecastVsWon:
    """The /forecast numbers: each rep's latest forecast (by `now`) for forecast periods inside
    the period, won so far, the weighted pipeline expected to close in it, quota, and the
    accuracy of the last closed one with the forecast it used."""
    numbers = scope_numbers(session, scope, period, org, sla, now)
    ranked = latest_forecasts(session, scope, period, category, submitted_before=now)
    amount, submitted, reps = session.execute(
        select(
            func.sum(ranked.c.amount),
            func.max(ranked.c.submitted_at),
            func.count(func.distinct(ranked.c.rep_id)),
        ).where(ranked.c.rank == 1)
    ).one()
    closed = period if period.end <= now else period.previous()
    judged = numbers if closed is period else scope_numbers(session, scope, closed, org, sla, now)
    return ForecastVsWon(
        forecast=None if amount is None else float(amount),
        submitted_at=as_utc(submitted) if submitted is not None else None,
        forecasters=int(reps or 0),
        won=float(numbers.kpis["won_amount"] or 0),
        running=period.is_current(now),
        weighted_pipeline=None if closed is period else numbers.total("due_weighted_amount"),
        quota=numbers.quota,
        accuracy_period=closed,
        accuracy=judged.kpis["forecast_accuracy"],
        accuracy_basis=forecast_basis(scope_rep_rows(scope, judged.gathered, judged.reps)),
    )


def response_counts_by_bin(
    session: Session,
    scope: Scope,
    period: Period,
    now: datetime,
    edges: Sequence[float],
) -> tuple[list[int], list[int]]:
    """Answered leads of the period counted per bin of minutes to first response (`edges`, the
    first and last open-ended), split into met / missed their own SLA: one grouped query."""
    rows = session.execute(_response_bins_query(session, scope, period, now, edges)).all()
    inside = [0] * (len(edges) - 1)
    late = [0] * (len(edges) - 1)
    for index, was_met, count in rows:
        (inside if was_met else late)[int(index)] += int(count)
    return inside, late


def response_counts_by_bin_per_team(
    session: Session,
    scope: Scope,
    period: Period,
    now: datetime,
    edges: Sequence[float],
) -> dict[int, tuple[list[int], list[int]]]:
    """`response_counts_by_bin` for every team in the scope at once (one grouped query)."""
    query = _response_bins_query(session, scope, period, now, edges, Rep.team_id)
    rows = session.execute(
        query.join(Rep, Rep.id == Lead.owner_id).where(Rep.team_id.is_not(None))
    ).all()
    counts: dict[int, tuple[list[int], list[int]]] = {}
    for index, was_met, count, team in rows:
        inside, late = counts.setdefault(team, ([0] * (len(edges) - 1), [0] * (len(edges) - 1)))
        (inside if was_met else late)[int(index)] += int(count)
    return counts


def _response_bins_query(
    session: Session,
    scope: Scope,
    period: Period,
    now: datetime,
    edges: Sequence[float],
    *group: Any,
) -> Select[Any]:
    """Answered leads of the period counted by (bin of `edges`, SLA met, *group)."""
    minutes = response_minutes_expr(session, now)
    met = sla_met(now)
    bucket = case(
        *((minutes < edge, index) for index, edge in enumerate(edges[1:-1])),
        else_=len(edges) - 2,
    ).label("bucket")
    return (
        select(bucket, met.label("met"), func.count(), *group)
        .where(
            responded_by(now).is_not(None),
            Lead.created_at >= at_time(period.start),
            Lead.created_at < at_time(period.end),
            in_scope(Lead.owner_id, scope),
        )
        .group_by(bucket, met, *group)
    )


@dataclass(frozen=True)
class RepMeetings:
    """One rep's prospect meetings in the period."""

    rep: str
    held: float
    per_week: float | None


@dataclass(frozen=True)
class Meetings:
    """Prospect meetings held in the period: the scope's, and how they compare."""

    held: float
    per_week: float | None  # a rep's own per week; for a group, per rep per week
    team: str | None  # rep scope: the rep's team (None without one; None for groups)
    team_average: float | None  # rep scope: the team's meetings per rep per week
    reps: list[RepMeetings]  # group scopes: everyone the per-rep rate counts, most per week first


def meetings(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
) -> Meetings:
    """Prospect meetings for /meetings: a rep against their team's average, or a group with
    everyone its per-rep rate divides by (`rate_reps`: a manager too), so the list adds up."""
    if scope.kind == "rep":
        return _rep_meetings(session, scope, period, org, sla, now)
    numbers = scope_numbers(session, scope, period, org, sla, now)
    reps = [
        RepMeetings(
            rep_label(r.name, r.active) + ("" if r.role == Role.REP else f" ({r.role.value})"),
            numbers.total("meetings", {r.id}),
            rep_kpis(numbers.gathered, r.id)["meetings_per_rep_per_week"],
        )
        for r in rate_reps(numbers.reps or (), numbers.gathered.partials)  # read for groups
    ]
    reps.sort(key=lambda r: (-(r.per_week or 0), r.rep))
    per_rep = numbers.kpis["meetings_per_rep_per_week"]
    return Meetings(numbers.total("meetings"), per_rep, None, None, reps)


def _rep_meetings(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
) -> Meetings:
    """One gather over the rep's team gives both the rep's row and the team average."""
    assert isinstance(scope.key, int)
    rep = session.get(Rep, scope.key)
    team = session.get(Team, rep.team_id) if rep and rep.team_id else None
    numbers = scope_numbers(session, team_scope(team) if team else scope, period, org, sla, now)
    rows = leaderboard_rows(session.execute(reps_in_scope(scope)).all(), numbers.gathered)
    mine = next((r for r in rows if r["rep_id"] == scope.key), None)
    return Meetings(
        held=numbers.total("meetings", {scope.key}),
        per_week=mine["meetings_per_rep_per_week"] if mine else None,
        team=team.name if team else None,
        team_average=numbers.kpis["meetings_per_rep_per_week"] if team else None,
        reps=[],
    )
