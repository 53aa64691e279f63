"""The forecast model and its baselines on hand-made histories (tests/support/forecast_history.py
gives the base history and its hand-computed numbers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep
from salesops_core.forecast.baselines import run_rate, weighted_pipeline
from salesops_core.forecast.model import forecast
from salesops_core.org.scopes import ORG_SCOPE, rep_scope
from salesops_core.periods import parse_period
from tests.support.forecast_history import AMOUNT, ORG, PAST, Q1, add_cohort, at, build
from tests.support.kpi_fixture import add_deal


@pytest.fixture
def reps(session: Session) -> dict[str, Rep]:
    reps = build(session)
    session.commit()
    return reps


def test_ten_deals_three_won_in_each_of_four_windows_give_p_0_3(
    session: Session, reps: dict[str, Rep]
) -> None:
    result = forecast(session, ORG_SCOPE, Q1, Q1.start)
    assert result.training.windows == ("2025-Q4", "2025-Q3", "2025-Q2", "2025-Q1")
    assert (result.training.deal_windows, result.training.won) == (40, 12)
    assert result.training.rate_factors == pytest.approx((1.0, 1.0, 1.0, 1.0))
    assert result.training.sample_share == 1.0
    assert len(result.deals) == 10
    assert [deal.probability for deal in result.deals] == [pytest.approx(0.3)] * 10
    assert result.deals[0].stage == "Negotiate" and result.deals[0].days_in_stage == 5.0
    assert result.won_so_far == 0.0 and result.new_expected == 0.0
    assert result.open_expected == pytest.approx(3000.0)
    assert result.expected == pytest.approx(3000.0)
    assert (result.p10, result.p50, result.p90) == (1000.0, 3000.0, 5000.0)
    assert dict(result.per_rep) == {reps["ann"].id: pytest.approx(3000.0)}


def test_the_basis_names_the_cell_its_counts_and_its_parent(
    session: Session, reps: dict[str, Rep]
) -> None:
    result = forecast(session, ORG_SCOPE, Q1, Q1.start)
    basis = result.basis(result.deals[0])
    assert basis.groups == ("Negotiate", "<14 days in stage", "amounts $1,000 and over")
    assert (basis.won, basis.deals) == (12, 40)
    assert basis.parent_groups == ("Negotiate", "<14 days in stage")
    assert basis.parent_probability == pytest.approx(0.3)


def test_the_same_seed_gives_the_same_range(session: Session, reps: dict[str, Rep]) -> None:
    first = forecast(session, ORG_SCOPE, Q1, Q1.start, seed=7, simulations=500)
    again = forecast(session, ORG_SCOPE, Q1, Q1.start, seed=7, simulations=500)
    assert (first.p10, first.p50, first.p90) == (again.p10, again.p50, again.p90)
    assert first.training.seed == 7 and first.training.simulations == 500


def test_new_business_is_the_mean_of_the_windows(session: Session, reps: dict[str, Rep]) -> None:
    """Bob's deals created and won inside 2025-Q3 (2,000) and 2025-Q1 (4,000): his new business
    per window (Q4, Q3, Q2, Q1) is 0, 2,000, 0, 4,000, mean 1,500; a deal created inside Q2 but
    won after its end is not Q2's new business."""
    bob = reps["bob"]
    q1, q2, q3 = PAST[0], PAST[1], PAST[2]
    add_deal(session, "b1", bob, 4000, "Won", q1.start + timedelta(days=3),
             closed_at=q1.start + timedelta(days=20))  # fmt: skip
    add_deal(session, "b2", bob, 2000, "Won", q3.start + timedelta(days=3),
             closed_at=q3.start + timedelta(days=50))  # fmt: skip
    add_deal(session, "b3", bob, 7000, "Won", q2.end - timedelta(days=2),
             closed_at=q2.end + timedelta(days=2))  # fmt: skip
    session.commit()
    result = forecast(session, rep_scope(bob), Q1, Q1.start)
    assert result.training.new_business == (0.0, 2000.0, 0.0, 4000.0)
    assert result.new_expected == 1500.0
    assert result.deals == ()
    assert result.expected == 1500.0
    assert dict(result.per_rep) == {bob.id: 1500.0}


def test_mid_period_the_windows_start_at_the_same_point_and_won_so_far_counts(
    session: Session, reps: dict[str, Rep]
) -> None:
    """At 2026-02-01 (31 days in): in each window, 31 days in, the 3 winners have been won and
    the 7 losers (lost on day 40) are still open, then lost: p = 0 for them; the 7 of 2026-Q1
    still open add nothing, and won so far is 3,000."""
    now = Q1.start + timedelta(days=31)
    result = forecast(session, ORG_SCOPE, Q1, now)
    assert result.won_so_far == 3000.0
    assert (result.training.deal_windows, result.training.won) == (28, 0)
    assert len(result.deals) == 7 and result.open_expected == 0.0
    assert result.expected == 3000.0 and (result.p10, result.p90) == (3000.0, 3000.0)


def test_a_stage_never_seen_takes_the_rate_of_all_deals(
    session: Session, reps: dict[str, Rep]
) -> None:
    """A Qualify deal open at 2026-01-01: no Qualify history, so the all-deals rate 12/40."""
    add_deal(session, "q1", reps["bob"], 500, "Qualify", at(2025, 11, 1),
             history=((at(2025, 11, 1), "Qualify", 500),))  # fmt: skip
    session.commit()
    result = forecast(session, rep_scope(reps["bob"]), Q1, Q1.start)
    (deal,) = result.deals
    assert deal.probability == pytest.approx(0.3) and deal.expected == pytest.approx(150.0)
    assert result.basis(deal).groups == ("all deals",)
    assert result.basis(deal).parent_groups is None


def test_no_history_leaves_the_model_null_with_the_reason(
    session: Session, reps: dict[str, Rep]
) -> None:
    result = forecast(session, ORG_SCOPE, PAST[0], PAST[0].start)
    assert result.training.windows == ()
    assert (result.expected, result.p10, result.p50, result.p90) == (None,) * 4
    assert result.training.reason is not None and "no past quarter" in result.training.reason
    assert run_rate(session, ORG_SCOPE, PAST[0], PAST[0].start) is None


def test_weighted_pipeline_reads_each_deal_as_of_the_moment(
    session: Session, reps: dict[str, Rep]
) -> None:
    """At 2026-01-01: the 10 Negotiate deals (50%) = 5,000; a Qualify deal of 2,000 then (20%),
    moved to Negotiate later, adds 400; a deal whose stage then is not recorded adds nothing."""
    moved = ((at(2025, 12, 1), "Qualify", 2000), (at(2026, 1, 20), "Negotiate", 2000))
    add_deal(session, "late", reps["bob"], 2000, "Negotiate", at(2025, 12, 1), history=moved)
    add_deal(session, "unknown", reps["bob"], 9000, "Won", at(2025, 12, 1),
             closed_at=at(2026, 2, 1), history=((at(2025, 12, 1), "Won", 9000),))  # fmt: skip
    session.commit()
    assert weighted_pipeline(session, ORG_SCOPE, Q1, Q1.start) == pytest.approx(5400.0)


def test_run_rate_is_the_mean_of_the_previous_periods_then_the_share_still_to_come(
    session: Session, reps: dict[str, Rep]
) -> None:
    """2025-Q1..Q4 each won 3,000: mean 3,000. At 2026-01-31 00:00 (30 of 90 days in; Q1's
    winners close at that moment, so nothing is won before it): 3,000 x 60/90 = 2,000; at
    2026-02-01 (won so far 3,000): 3,000 + 3,000 x 59/90."""
    assert run_rate(session, ORG_SCOPE, Q1, Q1.start) == 3000.0
    assert run_rate(session, ORG_SCOPE, Q1, at(2026, 1, 31)) == pytest.approx(2000.0)
    assert run_rate(session, ORG_SCOPE, Q1, at(2026, 2, 1)) == pytest.approx(
        3000.0 + 3000.0 * 59 / 90
    )


def test_run_rate_uses_only_the_whole_periods_of_history(
    session: Session, reps: dict[str, Rep]
) -> None:
    """2025-Q2 has 2025-Q1 (3,000) before it in the history; 2024-Q4 is not all inside it."""
    assert run_rate(session, ORG_SCOPE, PAST[1], PAST[1].start) == 3000.0


def test_monthly_windows_learn_from_past_months(session: Session, reps: dict[str, Rep]) -> None:
    """2026-01 at its start: the past months ending by then inside the history (2025-01 ..
    2025-12) are the windows, up to 8 of them: 2025-12 back to 2025-05."""
    month = parse_period("2026-01", tz=ORG.tz)
    result = forecast(session, ORG_SCOPE, month, month.start)
    assert result.training.windows[0] == "2025-12" and len(result.training.windows) == 8


def test_a_big_org_is_sampled_by_whole_reps_deterministically(
    session: Session, reps: dict[str, Rep], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Bob gets the same 4 cohorts as Ann, 6 of 10 won: 80 deal-window rows. With at most 40
    read, 1 rep in 2 is (those whose id is even): 40 rows per rep sampled, Ann's 12 won or
    Bob's 24."""
    for period in PAST:
        add_cohort(session, reps["bob"], period, won=6, prefix=f"bob-{period.label}")
    session.commit()
    monkeypatch.setattr("salesops_core.forecast.history.MAX_TRAINING_ROWS", 40)
    result = forecast(session, ORG_SCOPE, Q1, Q1.start)
    sampled = [rep for rep in (reps["ann"], reps["bob"]) if rep.id % 2 == 0]
    assert result.training.sample_share == 0.5
    assert result.training.deal_windows == 40 * len(sampled)
    assert result.training.won == sum(12 if rep is reps["ann"] else 24 for rep in sampled)
    again = forecast(session, ORG_SCOPE, Q1, Q1.start)
    assert again.training == result.training and again.p50 == result.p50


def test_per_rep_expected_adds_up_to_the_scope(session: Session, reps: dict[str, Rep]) -> None:
    add_cohort(session, reps["bob"], Q1, won=0, prefix="bob")
    session.commit()
    result = forecast(session, ORG_SCOPE, Q1, Q1.start)
    assert result.expected is not None
    assert sum(result.per_rep.values()) == pytest.approx(result.expected)
    assert result.per_rep[reps["bob"].id] == pytest.approx(
        10 * AMOUNT * result.deals[-1].probability
    )


def test_once_the_period_has_ended_weighted_pipeline_is_what_was_won(
    session: Session, reps: dict[str, Rep]
) -> None:
    """Q1 won 3,000; Bob's Qualify deal of 2,000 still open at its end adds nothing then (it
    can no longer close in Q1), though at 2026-03-15 it added 2,000 x 20%."""
    add_deal(session, "q-open", reps["bob"], 2000, "Qualify", at(2026, 3, 1),
             history=((at(2026, 3, 1), "Qualify", 2000),))  # fmt: skip
    session.commit()
    assert weighted_pipeline(session, ORG_SCOPE, Q1, at(2026, 7, 15)) == 3000.0
    assert weighted_pipeline(session, ORG_SCOPE, Q1, at(2026, 3, 15)) == pytest.approx(3400.0)
