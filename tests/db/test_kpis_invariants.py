"""KPI invariants (hypothesis) and time-zone edge cases, on SQLite and Postgres."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Deal, Outcome, Rep, Team
from salesops_core.kpi.engine import compute_report, resolve_scope
from salesops_core.periods import parse_period
from tests.conftest import empty_all_tables

NOW = datetime(2026, 6, 1, tzinfo=UTC)
NY = OrgConfig(timezone="America/New_York")


def test_march_dst_month_counts_closes_by_local_time(session: Session) -> None:
    team = Team(name="T")
    session.add(team)
    session.flush()
    rep = Rep(name="R", email="r@x", team_id=team.id)
    session.add(rep)
    session.flush()
    closes = {
        "feb": datetime(2026, 3, 1, 4, 30, tzinfo=UTC),  # Feb 28 23:30 EST: February
        "mar-first": datetime(2026, 3, 1, 5, 0, tzinfo=UTC),  # Mar 1 00:00 EST: March
        "mar-last": datetime(2026, 4, 1, 3, 30, tzinfo=UTC),  # Mar 31 23:30 EDT: March
        "apr": datetime(2026, 4, 1, 4, 0, tzinfo=UTC),  # Apr 1 00:00 EDT: April (boundary)
    }
    for name, closed in closes.items():
        session.add(
            Deal(
                external_id=name,
                owner_id=rep.id,
                amount=100,
                stage="Won",
                outcome=Outcome.WON,
                created_at=closed - timedelta(days=10),
                closed_at=closed,
            )
        )
    session.commit()
    march = parse_period("2026-03", tz=NY.tz)
    k = compute_report(session, resolve_scope(session), march, NY, now=NOW).kpis
    assert k["won_count"] == 2
    assert k["avg_sales_cycle_days"] == pytest.approx(10)
    assert (
        compute_report(session, resolve_scope(session), march.previous(), NY, now=NOW).kpis[
            "won_count"
        ]
        == 1
    )


deal_strategy = st.tuples(
    st.integers(0, 3),  # owner index
    st.sampled_from([Outcome.WON, Outcome.LOST, Outcome.OPEN]),
    st.one_of(st.none(), st.integers(0, 50_000)),  # amount
    st.integers(0, 120),  # created: days after 2025-12-01
    st.integers(0, 120),  # cycle days
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(deals=st.lists(deal_strategy, max_size=25))
def test_team_and_org_numbers_are_sums_of_their_parts(engine: Engine, deals: list[tuple]) -> None:
    empty_all_tables(engine)
    with Session(engine) as session:
        teams = [Team(name="A", region="R1"), Team(name="B", region="R1")]
        session.add_all(teams)
        session.flush()
        reps = [Rep(name=f"rep{i}", email=f"rep{i}@x", team_id=teams[i // 2].id) for i in range(4)]
        session.add_all(reps)
        session.flush()
        base = datetime(2025, 12, 1, tzinfo=UTC)
        for n, (owner, outcome, amount, created, cycle) in enumerate(deals):
            created_at = base + timedelta(days=created)
            session.add(
                Deal(
                    external_id=f"d{n}",
                    owner_id=reps[owner].id,
                    amount=amount,
                    stage="S",
                    outcome=outcome,
                    created_at=created_at,
                    closed_at=None if outcome == Outcome.OPEN else created_at + timedelta(cycle),
                )
            )
        session.commit()
        period = parse_period("2026-Q1", tz=UTC_ORG.tz)

        def kpis(**scope: str) -> dict:
            scoped = resolve_scope(session, **scope)
            return compute_report(session, scoped, period, UTC_ORG, now=NOW).kpis

        org = kpis()
        by_team = [kpis(team=t.name) for t in teams]
        by_rep = [kpis(rep=r.email) for r in reps]
        region = kpis(region="R1")
    for key in ("won_amount", "won_count", "lost_count", "open_pipeline_value"):
        assert org[key] == pytest.approx(sum(t[key] for t in by_team))
        assert region[key] == pytest.approx(org[key])
        for i, team in enumerate(by_team):
            assert team[key] == pytest.approx(by_rep[2 * i][key] + by_rep[2 * i + 1][key])
    for k in (org, *by_team, *by_rep):
        assert k["win_rate"] is None or 0.0 <= k["win_rate"] <= 1.0
        assert k["stale_deal_share"] is None or 0.0 <= k["stale_deal_share"] <= 1.0
        assert (k["win_rate"] is None) == (k["won_count"] + k["lost_count"] == 0)
    empty_all_tables(engine)


UTC_ORG = OrgConfig(timezone="UTC")
