"""Forecast accuracy and bias per rep and closed quarter, and the calibration scorecard.

Per rep and quarter: F = the rep's last commit submitted before the cut-off
(`OrgConfig.forecast_cutoff`), read by the same KPI query `forecast_accuracy` uses
(`kpi.queries.forecasts`); A = what the rep won in the quarter (`kpi.queries.closed_deals`).
- accuracy = 1 - |F - A| / A (`kpi.engine.forecast_accuracy_of`);
- bias = (F - A) / A: negative when the rep under-called ("sandbagging"), positive when the
  call was optimistic;
- error = |F - A| / A (the absolute percentage error);
all three null without F or when A = 0. The best case (same rules, category "best_case") was
hit when A landed between the commit and the best case.

A team's quarter has two numbers that differ: its accuracy on the sum (the KPI engine's
`forecast_accuracy` for the team: 1 - |sum F - sum A| / sum A over the reps with a commit), where
one rep's miss can cancel another's, and its MAPE, the mean error of its reps with F and A > 0,
where misses never cancel. Teams are their current members, as in the KPI engine.

Everything is read in three grouped queries per quarter for the whole scope (never per rep).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Rep, Role, Team
from salesops_core.forecast.submissions import BEST_CASE
from salesops_core.kpi import queries as q
from salesops_core.kpi.engine import finite_values, forecast_accuracy_of, forecast_basis
from salesops_core.kpi.views import recent_periods
from salesops_core.org.scopes import ORG_SCOPE, Scope, in_scope
from salesops_core.periods import Period, quarter_containing

DEFAULT_QUARTERS = 4
# Accuracy moving less than this per quarter (least-squares slope over the quarters shown) is
# "steady": a few points up or down is noise, not a trend.
STEADY_PER_QUARTER = 0.03
# A lean is called (sandbagging or optimism) only when it is clear: at least this many quarters
# with a bias, most of them the same way, and the mean bias (the scorecard's average) that way
# by at least CLEAR_BIAS; one big miss the other way can outweigh several small ones.
CLEAR_QUARTERS = 2
CLEAR_BIAS = 0.05

Landing = Literal["below_commit", "in_range", "above_best_case"]
Trend = Literal["improving", "steady", "declining"]
Side = Literal["under", "over"]


@dataclass(frozen=True)
class QuarterCall:
    """One rep's call on one closed quarter and how it came out (see the module docstring)."""

    quarter: str  # "2026-Q3"
    start: datetime  # UTC
    end: datetime
    commit: float | None  # None: no commit submitted before the cut-off
    best_case: float | None
    won: float
    accuracy: float | None
    bias: float | None
    error: float | None
    landed: Landing | None  # None without both a commit and a best case


def quarter_call(
    period: Period, commit: float | None, best_case: float | None, won: float
) -> QuarterCall:
    """The numbers of one call: accuracy, bias, error and where won landed."""
    bias = (commit - won) / won if commit is not None and won else None
    landed: Landing | None = None
    if commit is not None and best_case is not None:
        if won < commit:
            landed = "below_commit"
        elif won > max(best_case, commit):
            landed = "above_best_case"
        else:
            landed = "in_range"
    return QuarterCall(
        quarter=period.label,
        start=period.start.astimezone(UTC),
        end=period.end.astimezone(UTC),
        commit=commit,
        best_case=best_case,
        won=won,
        accuracy=forecast_accuracy_of(commit, won),
        bias=bias,
        error=None if bias is None else abs(bias),
        landed=landed,
    )


@dataclass(frozen=True)
class Lean:
    """Which way a rep's calls lean over the quarters with a bias."""

    judged: int  # quarters with a bias (a commit, and something won)
    under: int  # quarters under-called (bias < 0)
    over: int  # quarters over-called (bias > 0)
    under_by: float | None  # mean |bias| of the under-called quarters
    over_by: float | None  # mean bias of the over-called quarters
    clear: Side | None  # the lean when it is clear (CLEAR_QUARTERS, CLEAR_BIAS), else None


def _mean(values: Iterable[float | None]) -> float | None:
    defined = [v for v in values if v is not None]
    return math.fsum(defined) / len(defined) if defined else None


def lean_of(calls: Sequence[QuarterCall]) -> Lean:
    """How many quarters were under- and over-called, by how much on average, and whether
    that is a clear lean."""
    biases = [c.bias for c in calls if c.bias is not None]
    unders = [-b for b in biases if b < 0]
    overs = [b for b in biases if b > 0]
    mean_bias = _mean(biases)
    clear: Side | None = None
    if len(biases) >= CLEAR_QUARTERS and mean_bias is not None:
        if len(unders) > len(overs) and mean_bias <= -CLEAR_BIAS:
            clear = "under"
        elif len(overs) > len(unders) and mean_bias >= CLEAR_BIAS:
            clear = "over"
    return Lean(len(biases), len(unders), len(overs), _mean(unders), _mean(overs), clear)


def trend_of(accuracies: Sequence[float | None]) -> Trend | None:
    """Improving, steady or declining: the least-squares slope of accuracy over the quarters'
    positions (gaps keep their place); None with fewer than two quarters with a number."""
    points = [(i, a) for i, a in enumerate(accuracies) if a is not None]
    if len(points) < 2:
        return None
    x, y = np.array(points, dtype="float64").T
    slope = float(np.polyfit(x, y, 1)[0])
    if abs(slope) < STEADY_PER_QUARTER:
        return "steady"
    return "improving" if slope > 0 else "declining"


@dataclass(frozen=True)
class RepScorecard:
    """A rep's calls over the last closed quarters (oldest first), with what they add up to."""

    rep_id: int
    name: str
    active: bool
    team_id: int | None
    team: str | None
    calls: tuple[QuarterCall, ...]

    @property
    def mean_accuracy(self) -> float | None:
        return _mean(c.accuracy for c in self.calls)

    @property
    def mean_bias(self) -> float | None:
        return _mean(c.bias for c in self.calls)

    @property
    def mean_error(self) -> float | None:
        return _mean(c.error for c in self.calls)

    @property
    def lean(self) -> Lean:
        return lean_of(self.calls)

    @property
    def trend(self) -> Trend | None:
        return trend_of([c.accuracy for c in self.calls])

    @property
    def best_case_hits(self) -> tuple[int, int]:
        """(quarters where won landed between commit and best case, quarters with both)."""
        landed = [c.landed for c in self.calls if c.landed is not None]
        return sum(1 for x in landed if x == "in_range"), len(landed)


@dataclass(frozen=True)
class TeamQuarter:
    """A team's quarter: accuracy on the sum (the KPI engine's) and MAPE across its reps."""

    quarter: str
    start: datetime
    end: datetime
    commit: float | None  # the reps' commits, summed; None when no rep had one
    won: float  # won by the reps with a commit
    forecasters: int  # reps with a commit
    accuracy: float | None  # 1 - |sum F - sum A| / sum A
    mape: float | None  # mean error over the reps with F and A > 0
    judged: int  # reps in the MAPE


@dataclass(frozen=True)
class TeamScorecard:
    """A team's quarters and each of its reps' scorecards."""

    team_id: int
    team: str
    quarters: tuple[TeamQuarter, ...]
    reps: tuple[RepScorecard, ...]


def closed_quarters(org: OrgConfig, now: datetime, count: int = DEFAULT_QUARTERS) -> list[Period]:
    """The last `count` fiscal quarters that have ended by `now`, oldest first."""
    running = quarter_containing(now.astimezone(org.tz).date(), org.tz, org.fiscal_year_start_month)
    return recent_periods(running.previous(), count)


@dataclass(frozen=True)
class _Member:
    rep_id: int
    name: str
    active: bool
    role: Role
    team_id: int | None
    team: str | None


def _members(session: Session, scope: Scope) -> list[_Member]:
    rows = session.execute(
        select(Rep.id, Rep.name, Rep.active, Rep.role, Rep.team_id, Team.name)
        .outerjoin(Team, Team.id == Rep.team_id)
        .where(in_scope(Rep.id, scope))
        .order_by(Rep.name, Rep.id)
    )
    return [_Member(*row) for row in rows]


def scorecards(
    session: Session, scope: Scope, org: OrgConfig, quarters: Sequence[Period]
) -> list[RepScorecard]:
    """The scorecard of every rep in the scope over `quarters` (oldest first), by name: active
    reps, and anyone else (a manager, a rep who left) with a commit or a win in those quarters.
    Three grouped queries per quarter."""
    commits: list[q.Partials] = []
    best: list[q.Partials] = []
    won: list[q.Partials] = []
    for period in quarters:
        cutoff = org.forecast_cutoff(period)
        commits.append({})
        q.forecasts(session, scope, period, commits[-1], q.DEFAULT_FORECAST_CATEGORY, cutoff)
        best.append({})
        q.forecasts(session, scope, period, best[-1], BEST_CASE, cutoff)
        won.append({})
        q.closed_deals(session, scope, period, won[-1])
    with_numbers = {
        rep_id
        for parts in (*commits, *won)
        for rep_id, row in parts.items()
        if row.get("forecast") is not None or (row.get("won_amount") or 0) > 0
    }
    cards = []
    for member in _members(session, scope):
        shown = scope.kind == "rep" or (member.active and member.role == Role.REP)
        if not shown and member.rep_id not in with_numbers:
            continue
        calls = tuple(
            quarter_call(
                period,
                commits[i].get(member.rep_id, {}).get("forecast"),
                best[i].get(member.rep_id, {}).get("forecast"),
                float(won[i].get(member.rep_id, {}).get("won_amount") or 0.0),
            )
            for i, period in enumerate(quarters)
        )
        cards.append(
            RepScorecard(
                member.rep_id, member.name, member.active, member.team_id, member.team, calls
            )
        )
    return cards


def team_quarters(cards: Sequence[RepScorecard]) -> tuple[TeamQuarter, ...]:
    """Each quarter of a team from its reps' calls: accuracy on the sum and MAPE."""
    if not cards:
        return ()
    quarters = []
    for i, first in enumerate(cards[0].calls):
        calls = [card.calls[i] for card in cards]
        basis = forecast_basis([{"forecast": c.commit, "won_amount": c.won} for c in calls])
        errors = [c.error for c in calls if c.error is not None]
        quarters.append(
            TeamQuarter(
                quarter=first.quarter,
                start=first.start,
                end=first.end,
                commit=basis.forecast,
                won=basis.won,
                forecasters=basis.forecasters,
                accuracy=forecast_accuracy_of(basis.forecast, basis.won),
                mape=_mean(errors),
                judged=len(errors),
            )
        )
    return tuple(quarters)


def team_scorecard(
    session: Session, team: Scope, org: OrgConfig, quarters: Sequence[Period]
) -> TeamScorecard:
    """A team's scorecard over `quarters`: its quarters and its reps' scorecards."""
    assert team.kind == "team" and isinstance(team.key, int)
    cards = scorecards(session, team, org, quarters)
    return TeamScorecard(team.key, team.name, team_quarters(cards), tuple(cards))


def rep_scorecard(
    session: Session, rep: Scope, org: OrgConfig, quarters: Sequence[Period]
) -> RepScorecard:
    """One rep's scorecard over `quarters`."""
    assert rep.kind == "rep"
    (card,) = scorecards(session, rep, org, quarters)
    return card


def org_scorecards(
    session: Session, org: OrgConfig, quarters: Sequence[Period]
) -> tuple[list[RepScorecard], list[TeamScorecard]]:
    """Every rep's scorecard and every team's, from one pass over the org's numbers."""
    cards = scorecards(session, ORG_SCOPE, org, quarters)
    teams: dict[int, list[RepScorecard]] = {}
    for card in cards:
        if card.team_id is not None:
            teams.setdefault(card.team_id, []).append(card)
    team_cards = [
        TeamScorecard(team_id, rows[0].team or "", team_quarters(rows), tuple(rows))
        for team_id, rows in sorted(teams.items(), key=lambda item: item[1][0].team or "")
    ]
    return cards, team_cards


def rep_scorecard_json(card: RepScorecard) -> dict[str, Any]:
    """A rep's scorecard as JSON (finite numbers or null)."""
    lean = card.lean
    hits, with_best_case = card.best_case_hits
    return {
        "rep_id": card.rep_id,
        "rep": card.name,
        "active": card.active,
        "team_id": card.team_id,
        "team": card.team,
        "quarters": [_quarter_json(c) for c in card.calls],
        "mean_accuracy": card.mean_accuracy,
        "mean_bias": card.mean_bias,
        "mean_error": card.mean_error,
        "lean": finite_values(vars(lean)),
        "trend": card.trend,
        "best_case_hits": hits,
        "quarters_with_best_case": with_best_case,
    }


def _quarter_json(quarter: QuarterCall | TeamQuarter) -> dict[str, Any]:
    values = finite_values(vars(quarter))
    return {**values, "start": quarter.start.isoformat(), "end": quarter.end.isoformat()}


def team_scorecard_json(card: TeamScorecard) -> dict[str, Any]:
    """A team's scorecard as JSON: per quarter its accuracy on the sum and MAPE, and its reps."""
    return {
        "team_id": card.team_id,
        "team": card.team,
        "quarters": [_quarter_json(quarter) for quarter in card.quarters],
        "reps": [rep_scorecard_json(rep) for rep in card.reps],
    }
