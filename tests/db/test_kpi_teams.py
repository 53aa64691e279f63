"""Every team from one org-wide pass equals each team computed on its own (kpi.teams and the
per-team reads beside the single-scope ones)."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import Team
from salesops_core.kpi.details import pipeline_by_stage, pipeline_by_stage_per_team
from salesops_core.kpi.engine import compute_report
from salesops_core.kpi.teams import gather_teams
from salesops_core.kpi.views import (
    forecast_vs_won,
    latest_forecast_per_rep,
    recent_periods,
    response_counts_by_bin,
    response_counts_by_bin_per_team,
    won_and_attainment_trend,
    won_per_period_per_team,
)
from salesops_core.org.scopes import ORG_SCOPE, team_scope
from salesops_core.periods import parse_period
from tests.support import kpi_fixture
from tests.support.digest_fixture import NOW, ORG, SLA, build_digest_org

EDGES = [0.5, 5.0, 10.0, 30.0, 1440.0]


@pytest.fixture(params=["digest", "kpi"])
def org(request: pytest.FixtureRequest, session: Session):  # type: ignore[no-untyped-def]
    """(org config, SLA policies, now, period) of either hand-built org."""
    if request.param == "digest":
        build_digest_org(session)
        return ORG, SLA, NOW, "last-week"
    kpi_fixture.build_org(session)
    return kpi_fixture.ORG, kpi_fixture.SLA, kpi_fixture.NOW, "2026-Q1"


def _teams(session: Session) -> list[Team]:
    return list(session.scalars(select(Team).order_by(Team.name)))


def test_team_kpis_and_leaderboards_from_the_org_gather_equal_compute_report(session, org):
    config, sla, now, word = org
    period = parse_period(word, tz=config.tz, now=now)
    numbers = gather_teams(session, ORG_SCOPE, period, config, sla, now)
    for team in _teams(session):
        report = compute_report(session, team_scope(team), period, config, sla, now=now)
        assert numbers.kpis(team.id) == report.kpis
        assert numbers.leaderboard(team.id) == report.leaderboard


def test_per_team_reads_equal_the_single_scope_reads(session, org):
    config, sla, now, word = org
    period = parse_period(word, tz=config.tz, now=now)
    stages = pipeline_by_stage_per_team(session, ORG_SCOPE, config, at=now)
    bins = response_counts_by_bin_per_team(session, ORG_SCOPE, period, now, EDGES)
    periods = recent_periods(period, 4)
    won = won_per_period_per_team(session, ORG_SCOPE, periods)
    forecasts = latest_forecast_per_rep(session, ORG_SCOPE, period, now)
    for team in _teams(session):
        scope = team_scope(team)
        assert stages.get(team.id, []) == pipeline_by_stage(session, scope, config, at=now)
        empty = [0] * (len(EDGES) - 1)
        assert bins.get(team.id, (empty, empty)) == response_counts_by_bin(
            session, scope, period, now, EDGES
        )
        trend = won_and_attainment_trend(session, scope, period, 4)
        assert won.get(team.id, [0.0] * 4) == trend.won
        mine = [amount for rep, amount in forecasts.items() if rep in _rep_ids(team)]
        expected = forecast_vs_won(session, scope, period, config, sla, now).forecast
        assert (sum(mine) if mine else None) == expected


def _rep_ids(team: Team) -> set[int]:
    return {rep.id for rep in team.reps}
