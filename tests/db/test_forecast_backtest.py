"""The backtest: each period's forecasts are made from what was known at its start only.

History: tests/support/forecast_history.py (its 2026-Q1 numbers are worked out there), plus
Bob's deal "b-open": created 2025-12-01 in Qualify for 2,000 (recorded), open at 2026-01-01.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Deal, DealStageChange, Forecast, Outcome, Rep
from salesops_core.forecast.backtest import backtest, backtest_json
from salesops_core.org.scopes import ORG_SCOPE, rep_scope, team_scope_by_id
from tests.support.forecast_history import ORG, PAST, Q1, at, build
from tests.support.kpi_fixture import add_deal


@pytest.fixture
def reps(session: Session) -> dict[str, Rep]:
    reps = build(session)
    add_deal(session, "b-open", reps["bob"], 2000, "Qualify", at(2025, 12, 1),
             history=((at(2025, 12, 1), "Qualify", 2000),))  # fmt: skip
    session.commit()
    return reps


def what_was_known(session: Session, reps: dict[str, Rep]) -> list[dict]:
    """The backtest of 2026-Q1 for the org, a team and each rep, with the model's details."""
    scopes = [ORG_SCOPE, team_scope_by_id(session, reps["ann"].team_id or 0)]
    scopes += [rep_scope(rep) for rep in reps.values()]
    results = []
    for scope in scopes:
        (row,) = backtest(session, scope, ORG, [Q1])
        model = row.model
        results.append(
            {
                **backtest_json([row]),
                "expected": model.expected,
                "deals": model.deals,
                "per_rep": dict(model.per_rep),
                "training": model.training,
            }
        )
    return results


def test_later_stages_outcomes_deals_and_forecasts_never_reach_an_earlier_backtest(
    session: Session, reps: dict[str, Rep]
) -> None:
    before = what_was_known(session, reps)
    bob = reps["bob"]
    deal = session.scalars(select(Deal).where(Deal.external_id == "b-open")).one()
    # after the start: b-open moves on (recorded, and today's state with it), then is won
    # after the quarter; a deal of the quarter's first cohort gets a later amount change
    session.add_all(
        [
            DealStageChange(deal_id=deal.id, stage="Negotiate", entered_at=at(2026, 2, 15),
                            amount=5000, probability=0.9),
            DealStageChange(deal_id=deal.id, stage="Won", entered_at=at(2026, 5, 1), amount=5000),
        ]
    )  # fmt: skip
    deal.stage, deal.amount, deal.probability = "Won", 5000, 1.0
    deal.outcome, deal.closed_at = Outcome.WON, at(2026, 5, 1)
    first = session.scalars(select(Deal).where(Deal.external_id == "2026-Q1-5")).one()
    session.add(DealStageChange(deal_id=first.id, stage="Negotiate", entered_at=at(2026, 1, 20),
                                amount=60000, probability=0.95))  # fmt: skip
    first.amount, first.probability = 60000, 0.95  # lost on 02-10, so it does not change A
    # new deals after the start: one still open, one created and won after the quarter
    add_deal(session, "new-open", bob, 7000, "Qualify", at(2026, 2, 1),
             history=((at(2026, 2, 1), "Qualify", 7000),))  # fmt: skip
    won_later = ((at(2026, 4, 10), "Negotiate", 8000), (at(2026, 4, 20), "Won", 8000))
    add_deal(session, "new-won", bob, 8000, "Won", at(2026, 4, 10), closed_at=at(2026, 4, 20),
             history=won_later)  # fmt: skip
    # a commit submitted after the cut-off
    session.add(Forecast(rep_id=bob.id, period_start=Q1.start, period_end=Q1.end, amount=4000,
                         submitted_at=at(2026, 1, 15)))  # fmt: skip
    session.commit()
    assert what_was_known(session, reps) == before


def test_submitted_is_the_latest_commit_before_the_orgs_cut_off(
    session: Session, reps: dict[str, Rep]
) -> None:
    """With forecasts counting until 20 days into the period, Ann's 2,700 of 2026-01-10 replaces
    her 2,400; her 9,999 of 02-01 is still too late."""
    session.add(Forecast(rep_id=reps["ann"].id, period_start=Q1.start, period_end=Q1.end,
                         amount=2700, submitted_at=at(2026, 1, 10)))  # fmt: skip
    session.commit()
    late = OrgConfig(timezone="UTC", forecast_cutoff_days=20)
    (row,) = backtest(session, ORG_SCOPE, late, [Q1])
    assert row.submitted == 2700.0
    assert row.errors()["submitted"] == pytest.approx(0.1)
    (row,) = backtest(session, rep_scope(reps["bob"]), late, [Q1])
    assert row.submitted is None and row.errors()["submitted"] is None


def test_the_team_backtest_weights_its_open_deals_as_of_the_start(
    session: Session, reps: dict[str, Rep]
) -> None:
    """East at 2026-01-01: Ann's 10 x 1,000 x 50% + Bob's b-open 2,000 x 20% = 5,400; the
    model adds b-open x the all-deals rate 0.3 (Qualify was never seen) to Ann's 3,000."""
    (row,) = backtest(session, team_scope_by_id(session, reps["ann"].team_id or 0), ORG, [Q1])
    assert row.weighted_pipeline == pytest.approx(5400.0)
    assert row.run_rate == 3000.0 and row.actual_won == 3000.0
    assert row.model.expected == pytest.approx(3600.0)


def test_a_period_before_any_history_has_no_model_and_no_run_rate(
    session: Session, reps: dict[str, Rep]
) -> None:
    (row,) = backtest(session, ORG_SCOPE, ORG, [PAST[0]])
    assert (row.model.p10, row.model.p50, row.model.p90) == (None, None, None)
    assert row.run_rate is None and row.inside_range is None
    assert row.errors()["model"] is None and row.errors()["run_rate"] is None
    assert row.actual_won == 3000.0 and row.weighted_pipeline == pytest.approx(5000.0)
    periods = backtest_json([row])["periods"]
    assert periods[0]["model"] == {"p10": None, "p50": None, "p90": None}


def test_each_period_is_forecast_from_its_own_start(session: Session, reps: dict[str, Rep]) -> None:
    """2025-Q4 and 2026-Q1 in one backtest: Q4 learns from Q1..Q3 of 2025 (30 deal-windows),
    Q1 from all four (40); each period gives what its own backtest gives."""
    q4 = PAST[3]
    both = backtest(session, ORG_SCOPE, ORG, [q4, Q1])
    assert [row.model.training.deal_windows for row in both] == [30, 40]
    alone = backtest(session, ORG_SCOPE, ORG, [q4])
    assert backtest_json(both)["periods"][0] == backtest_json(alone)["periods"][0]
