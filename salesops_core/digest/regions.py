"""A region's or the org's digest: a team digest's facts for the wider scope, a line per team.

Read in the same one pass of the engine as the team digests (`content.read_once` over the
region or the org), so a team's line holds the team's own numbers. Decisions made here:
- `kpis`, `previous` and `quarter_to_date` are the engine's for the scope (`scope_kpis`, as
  `salesops kpi --region G` and `salesops kpi` give them); the org's include deals and leads of
  nobody's team.
- the leaderboard, behind pace, slowest responders and the reps' movers are teams, not reps: a
  VP asks which team is behind and by how much (the team managers' digests name the reps),
  and a region of 200 reps would not fit one message or one chart. A team's line: won, win
  rate, meetings per rep a week and median lead reply in the period; attainment and pace
  quarter to date against the team's quota.
- stale deals: the scope's biggest quiet deals of reps on a team (someone manages them).
- the chart's pipeline, response and won panels are the scope's (one grouped read each).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Team
from salesops_core.digest.content import (
    OnePass,
    behind_first,
    biggest_movers,
    finite,
    read_once,
    slowest_first,
)
from salesops_core.digest.facts import (
    DigestScope,
    ForecastFacts,
    Mover,
    RepLine,
    Responder,
    SlaFacts,
    StaleDeal,
    TeamDigest,
)
from salesops_core.digest.stale import STALE_DEALS_SHOWN
from salesops_core.kpi.details import pipeline_by_stage
from salesops_core.kpi.engine import finite_values, scope_kpis
from salesops_core.kpi.pace import pace_of
from salesops_core.kpi.views import (
    TREND_PERIODS,
    recent_periods,
    response_counts_by_bin,
    won_per_period,
)
from salesops_core.org.scopes import Scope, reps_in_scope
from salesops_core.periods import Period

SLOWEST_TEAMS_SHOWN = 3


def build_scope_digest(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy],
    now: datetime,
) -> TeamDigest:
    """The digest of a region or the org for the period, as it stands at `now`. It has no
    recipient: the caller sets one per person it goes to (`dataclasses.replace`)."""
    if scope.kind not in ("region", "org"):
        raise ValueError(f"a scope digest is for a region or the org, not a {scope.kind}")
    kind: DigestScope = "region" if scope.kind == "region" else "org"
    one = read_once(session, scope, period, org, sla, now, managers={}, held={}, team_panels=False)
    reps = session.execute(reps_in_scope(scope)).all()
    kpis = finite_values(scope_kpis(session, scope, one.current.gathered, reps))
    previous = finite_values(scope_kpis(session, scope, one.before.gathered, reps))
    qtd = finite_values(scope_kpis(session, scope, one.qtd.gathered, reps))
    teams = [team for team in _teams(session, scope) if team.id in one.current.reps]
    lines = sorted(
        (_line(one, team) for team in teams), key=lambda line: (-line.won_amount, line.name)
    )
    sla_facts = _sla(one, teams)
    won = won_per_period(session, scope, recent_periods(period, TREND_PERIODS + 1))
    chart = one.chart(
        scope.name,
        lines,
        pipeline_by_stage(session, scope, org, at=now),
        response_counts_by_bin(session, scope, period, now, one.bins.edges),
        won,
        sla_facts.unanswered,
    )
    chart = replace(chart, line_unit="team")
    return TeamDigest(
        team_id=None,
        team=scope.name,
        region=scope.key if isinstance(scope.key, str) else None,
        recipient=None,
        period=one.periods[0],
        previous_period=one.periods[1],
        quarter=one.quarter,
        computed_at=now,
        kpis=kpis,
        previous=previous,
        quarter_to_date=qtd,
        leaderboard=lines,
        behind_pace=behind_first(lines),
        sla=sla_facts,
        forecast=_forecast(one, qtd),
        stale_deals=_stale(one),
        movers=biggest_movers(scope.name, kpis, previous, _won_changes(one, teams)),
        chart=chart,
        scope=kind,
    )


def _teams(session: Session, scope: Scope) -> list[Team]:
    query = select(Team).order_by(Team.name)
    if scope.kind == "region":
        query = query.where(Team.region == scope.key)
    return list(session.scalars(query))


def _team_quota(numbers: OnePass, team_id: int) -> float | None:
    quotas = [q for rep in numbers.qtd.reps[team_id] if (q := numbers.qtd.partial(rep.id, "quota"))]
    return math.fsum(quotas) if quotas else None


def _line(one: OnePass, team: Team) -> RepLine:
    """A team's leaderboard line: its KPIs in the period, attainment and pace QTD."""
    period = finite_values(one.current.kpis(team.id))
    quarter = finite_values(one.qtd.kpis(team.id))
    pace = pace_of(quarter, one.expected, _team_quota(one, team.id))
    return RepLine(
        rep_id=team.id,
        name=team.name,
        won_amount=float(period["won_amount"] or 0),
        quota_attainment=quarter["quota_attainment"],
        win_rate=period["win_rate"],
        meetings_per_week=period["meetings_per_rep_per_week"],
        lead_response_minutes_median=period["lead_response_minutes_median"],
        behind_pace=pace.behind,
        pace_gap=pace.shortfall if pace.behind is not None else None,
    )


def _sla(one: OnePass, teams: Sequence[Team]) -> SlaFacts:
    """The scope's leads (every owner's, as its KPIs count them); the teams with breaches,
    most first, then the slowest median."""
    numbers = one.current
    rows = list(numbers.gathered.partials.values())

    def total(key: str) -> int:
        return int(sum(row.get(key) or 0 for row in rows))

    slowest = []
    for team in teams:
        ids = [rep.id for rep in numbers.reps[team.id]]
        decided = sum(numbers.partial(i, "sla_decided") for i in ids)
        breaches = int(decided - sum(numbers.partial(i, "sla_met") for i in ids))
        if breaches > 0:
            median = numbers.percentiles.get(team.id, {}).get("median")
            slowest.append(Responder(team.id, team.name, finite(median), breaches))
    met = total("sla_met")
    return SlaFacts(
        leads=total("leads"),
        met=met,
        breached=total("sla_decided") - met,
        unanswered=total("leads_unanswered"),
        slowest=slowest_first(slowest)[:SLOWEST_TEAMS_SHOWN],
    )


def _forecast(one: OnePass, qtd: dict[str, float | None]) -> ForecastFacts:
    """As `kpi.views.forecast_vs_won` for the scope and quarter."""
    rows = one.qtd.gathered.partials.values()
    quotas = [q for row in rows if (q := row.get("quota") or 0) > 0]
    due = math.fsum(row.get("due_weighted_amount") or 0 for row in rows)
    return ForecastFacts(
        period=one.quarter.label,
        forecast=math.fsum(one.forecasts.values()) if one.forecasts else None,
        won=float(qtd["won_amount"] or 0),
        weighted_pipeline=due if one.quarter.running else None,
        quota=math.fsum(quotas) if quotas else None,
    )


def _stale(one: OnePass) -> list[StaleDeal]:
    """The scope's biggest stale deals: the top of every team's list (each holds its team's
    biggest), biggest amount first, no amount last."""
    every = [deal for deals in one.stale.values() for deal in deals]
    every.sort(key=lambda d: (d.amount is None, -(d.amount or 0), d.deal_id))
    return every[:STALE_DEALS_SHOWN]


def _won_changes(one: OnePass, teams: Sequence[Team]) -> list[Mover]:
    """Each team's won amount in the period vs the one before, where it changed."""
    changes = []
    for team in teams:
        ids = [rep.id for rep in one.current.reps[team.id]]
        current = math.fsum(one.current.partial(i, "won_amount") for i in ids)
        previous = math.fsum(one.before.partial(i, "won_amount") for i in ids)
        if current != previous:
            changes.append(Mover(team.name, "won_amount", current, previous))
    return changes
