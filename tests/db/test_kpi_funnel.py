"""The stage funnel counts each deal created in the period once, at its furthest stage."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from salesops_core.db.models import Deal, DealStageChange, Outcome, Rep, Stage, Team
from salesops_core.kpi.details import stage_conversion
from salesops_core.org.scopes import ORG_SCOPE, Scope
from salesops_core.periods import parse_period

Q1 = parse_period("2026-Q1", tz=ZoneInfo("UTC"))
IN_Q1 = datetime(2026, 2, 1, tzinfo=UTC)


@pytest.fixture
def teams(session: Session) -> dict[str, int]:
    """Stages A(1) B(2) C(3) Won(4) Lost(5); deals of reps on two teams."""
    session.add_all(
        [
            Stage(name="A", sort_order=1),
            Stage(name="B", sort_order=2),
            Stage(name="C", sort_order=3),
            Stage(name="Won", sort_order=4, outcome=Outcome.WON),
            Stage(name="Lost", sort_order=5, outcome=Outcome.LOST),
        ]
    )
    north, south = Team(name="North"), Team(name="South")
    session.add_all([north, south])
    session.flush()
    ann, bob = Rep(name="Ann", team_id=north.id), Rep(name="Bob", team_id=south.id)
    session.add_all([ann, bob])
    session.flush()
    deals = [  # (owner, current stage, history, created)
        (ann, "Lost", ["A", "B"], IN_Q1),  # lost after B: furthest B
        (ann, "A", ["A", "C"], IN_Q1),  # moved back from C: furthest C
        (ann, "Unmapped", ["A"], IN_Q1),  # a stage not in the map is ignored: A
        (ann, "Lost", ["Lost"], IN_Q1),  # only ever lost: not in the funnel
        (ann, "Won", [], IN_Q1),  # no history: its current stage, Won
        (ann, "B", ["Elsewhere"], IN_Q1),  # B
        (ann, "Won", ["A"], datetime(2025, 12, 31, tzinfo=UTC)),  # created before Q1
        (bob, "C", ["A", "B"], IN_Q1),  # the other team: C
    ]
    for n, (owner, stage, history, created) in enumerate(deals):
        deal = Deal(
            external_id=f"d{n}", owner_id=owner.id, stage=stage, created_at=created, amount=1
        )
        session.add(deal)
        session.flush()
        session.add_all(
            DealStageChange(deal_id=deal.id, stage=name, entered_at=created) for name in history
        )
    session.commit()
    return {"North": north.id, "South": south.id}


def funnel(session: Session, scope: Scope) -> list[tuple[str, int, int | None]]:
    rows = stage_conversion(session, scope, Q1)
    return [(row["stage"], row["reached"], row["advanced"]) for row in rows]


def test_each_deal_counts_at_its_furthest_stage_in_history_or_now(session, teams) -> None:
    # furthest: B, C, A, Won, B (Ann) and C (Bob)
    assert funnel(session, ORG_SCOPE) == [
        ("A", 6, 5),
        ("B", 5, 3),
        ("C", 3, 1),
        ("Won", 1, None),
    ]


def test_a_team_funnel_counts_only_its_reps_deals(session, teams) -> None:
    north = Scope("team", teams["North"], "North")
    south = Scope("team", teams["South"], "South")
    assert funnel(session, north) == [("A", 5, 4), ("B", 4, 2), ("C", 2, 1), ("Won", 1, None)]
    assert funnel(session, south) == [("A", 1, 1), ("B", 1, 1), ("C", 1, 0), ("Won", 0, None)]
