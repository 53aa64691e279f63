"""The forecast model's pure parts: learned rates and their shrinkage, the Monte Carlo range,
the backtest's periods, errors and summary. Every number is worked out in the docstrings."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from salesops_core.config import OrgConfig
from salesops_core.errors import UnknownPeriod
from salesops_core.forecast import simulate as sim
from salesops_core.forecast.backtest import BacktestRow, backtest_json, backtest_periods
from salesops_core.forecast.history import TrainingData, Window
from salesops_core.forecast.model import ModelForecast, TrainingSummary, _rate_factors
from salesops_core.forecast.rates import basis, learn, probabilities
from salesops_core.periods import parse_period

ORG = OrgConfig(timezone="UTC")


def rows(stage: str, deals: int, won: int, days: float = 5.0, amount: float = 100.0):  # type: ignore[no-untyped-def]
    return pd.DataFrame(
        {
            "stage": [stage] * deals,
            "days_in_stage": [days] * deals,
            "amount": [amount] * deals,
            "won": [1] * won + [0] * (deals - won),
        }
    )


# Training: A (5 days in stage, 100): 10 deals, 5 won; B (same): 10 deals, 1 won. All: 6/20 = 0.3.
# Stage A: (5 + 10 x 0.3) / 20 = 0.4;  A x <14 days: (5 + 10 x 0.4) / 20 = 0.45;
# A x <14 x the amount band of 100 (the terciles are 100, 100: band 2): (5 + 10 x 0.45) / 20.
TRAINING = pd.concat([rows("A", 10, 5), rows("B", 10, 1)], ignore_index=True)


@pytest.mark.parametrize(
    ("stage", "days", "amount", "p", "level"),
    [
        ("A", 5.0, 100.0, 0.475, 3),  # its own cell
        ("A", 5.0, 50.0, 0.45, 2),  # an amount band never seen: stage x age
        ("A", 45.0, 100.0, 0.4, 1),  # 30-60 days never seen: the stage
        ("B", 5.0, 100.0, (1 + 10 * ((1 + 10 * ((1 + 3) / 20)) / 20)) / 20, 3),
        ("C", 5.0, 100.0, 0.3, 0),  # a stage never seen: all deals
    ],
)
def test_a_sparse_or_empty_group_falls_back_to_its_parent(
    stage: str, days: float, amount: float, p: float, level: int
) -> None:
    rates = learn(TRAINING)
    assert rates is not None
    deal = pd.DataFrame({"stage": [stage], "days_in_stage": [days], "amount": [amount]})
    learned, levels = probabilities(rates, deal)
    assert learned[0] == pytest.approx(p)
    assert levels[0] == level


def test_the_basis_of_a_stage_fallback_names_the_stage_and_all_deals() -> None:
    rates = learn(TRAINING)
    assert rates is not None
    found = basis(rates, "A", 45.0, 100.0, level=1)
    assert (found.groups, found.won, found.deals) == (("A",), 5, 10)
    assert found.probability == pytest.approx(0.4)
    assert (found.parent_groups, found.parent_probability) == (("all deals",), pytest.approx(0.3))


def test_age_bands_split_at_14_30_60_and_120_days() -> None:
    """A: 10 deals at 13 days all won, 10 at 14 days none won: the bands differ."""
    training = pd.concat([rows("A", 10, 10, days=13.0), rows("A", 10, 0, days=14.0)])
    rates = learn(training)
    assert rates is not None
    deals = pd.DataFrame(
        {"stage": ["A", "A"], "days_in_stage": [13.9, 14.0], "amount": [100.0] * 2}
    )
    young, old = probabilities(rates, deals)[0]
    # all 0.5; A 0.5; A x <14: (10 + 5) / 20 = 0.75, A x 14-30: 5 / 20 = 0.25; cells likewise
    assert young == pytest.approx((10 + 10 * 0.75) / 20)
    assert old == pytest.approx((0 + 10 * 0.25) / 20)


def test_no_training_rows_learn_nothing() -> None:
    assert learn(TRAINING.iloc[:0]) is None


def test_each_windows_factor_is_its_won_amount_over_what_the_other_windows_predict() -> None:
    """Window 0: 10 deals of 100 in A, 3 won; window 1: 10 deals, 6 won. Left out, window 0 is
    predicted from window 1 alone: all 0.6, A 0.6, cells 0.6 -> 600; won 300: factor 0.5.
    Window 1 from window 0: 300 predicted, 600 won: factor 2."""
    frame = pd.concat(
        [rows("A", 10, 3).assign(window=0), rows("A", 10, 6).assign(window=1)], ignore_index=True
    )
    windows = tuple(
        Window(parse_period(q, tz=ORG.tz), PERIOD.start) for q in ("2025-Q4", "2025-Q3")
    )
    data = TrainingData(windows, frame, 1, np.zeros(2), {})
    assert _rate_factors(data).tolist() == pytest.approx([0.5, 2.0])


def test_scenarios_spread_the_log_factor_by_its_rms_widened_for_few_periods() -> None:
    """Factors 0.5 and 2: log RMS = ln 2, x sqrt(1 + 1/2); new business 0 and 200: mean 100,
    sd 141.4 x sqrt(1.5). The scenarios are symmetric quantiles: their middle pair brackets 1
    and 100, and one draw moves both (a low factor comes with low new business)."""
    factors, new, spread = sim.period_scenarios(np.array([0.5, 2.0]), np.array([0.0, 200.0]))
    assert spread == pytest.approx(np.log(2.0) * np.sqrt(1.5))
    assert len(factors) == len(new) == sim.SCENARIOS
    assert np.exp(np.log(factors).mean()) == pytest.approx(1.0)
    assert np.median(new) == pytest.approx(100.0) and new.min() == 0.0  # clipped at 0
    assert np.all(np.diff(factors) >= 0) and np.all(np.diff(new) >= 0)  # one draw moves both
    assert factors[-1] / factors[0] > 4  # wider than the two periods seen


def test_one_window_gives_no_period_spread() -> None:
    factors, new, spread = sim.period_scenarios(np.array([0.7]), np.array([50.0]))
    assert spread == 0.0
    assert factors.tolist() == [1.0] * sim.SCENARIOS and new.tolist() == [50.0] * sim.SCENARIOS


def test_rate_factors_are_won_over_predicted_clipped() -> None:
    won = np.array([3.0, 6.0, 0.0, 2.0])
    predicted = np.array([6.0, 1.0, 4.0, 0.0])
    assert sim.rate_factors(won, predicted).tolist() == pytest.approx([0.5, 3.0, 1 / 3, 1.0])


def test_the_same_seed_gives_the_same_simulations_and_another_seed_others() -> None:
    amounts, p = np.full(50, 100.0), np.full(50, 0.4)
    factors, new = np.array([0.8, 1.2]), np.array([0.0, 500.0])
    first = sim.simulate(amounts, p, factors, new, seed=3, simulations=200)
    assert np.array_equal(first, sim.simulate(amounts, p, factors, new, seed=3, simulations=200))
    assert not np.array_equal(
        first, sim.simulate(amounts, p, factors, new, seed=4, simulations=200)
    )


def test_certain_deals_sum_exactly_with_the_drawn_windows_new_business() -> None:
    """p = 1 and p = 0 deals: each simulation is 300 + the drawn window's new business."""
    amounts, p = np.array([100.0, 200.0, 999.0]), np.array([1.0, 1.0, 0.0])
    totals = sim.simulate(amounts, p, np.ones(2), np.array([0.0, 50.0]), seed=0, simulations=100)
    assert set(totals.tolist()) == {300.0, 350.0}


def test_a_factor_scales_the_chance_and_is_clipped_at_certainty() -> None:
    """p = 0.5 with factor 2: every deal wins (p x factor clipped to 1)."""
    totals = sim.simulate(np.full(4, 10.0), np.full(4, 0.5), np.array([2.0]), np.zeros(1),
                          seed=0, simulations=50)  # fmt: skip
    assert set(totals.tolist()) == {40.0}


def test_chunks_give_the_same_draws_as_one_block(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deals drawn a chunk at a time (memory bounded) still sum every deal once: with chances
    of 0 or 1 the sums are the same whatever the chunk."""
    amounts = np.arange(1.0, 11.0)
    p = np.array([1.0, 0.0] * 5)
    whole = sim.simulate(amounts, p, np.ones(1), np.zeros(1), seed=1, simulations=20)
    monkeypatch.setattr(sim, "CHUNK_DRAWS", 60)  # 3 deals x 20 simulations at a time
    chunked = sim.simulate(amounts, p, np.ones(1), np.zeros(1), seed=1, simulations=20)
    assert np.array_equal(whole, chunked) and set(whole.tolist()) == {25.0}


def test_past_the_exact_budget_the_sum_is_drawn_from_its_normal_approximation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Certain deals have zero variance: the approximation gives their exact sum."""
    monkeypatch.setattr(sim, "EXACT_DRAWS", 10)
    amounts, p = np.array([100.0, 200.0, 5.0]), np.array([1.0, 1.0, 0.0])
    totals = sim.simulate(amounts, p, np.ones(2), np.array([0.0, 50.0]), seed=0, simulations=100)
    assert set(totals.tolist()) == {300.0, 350.0}
    assert not sim.exact(11)


def test_backtest_periods_are_the_last_closed_quarters_or_months_oldest_first() -> None:
    now = datetime(2026, 12, 1, 17, 24, tzinfo=UTC)
    labels = [p.label for p in backtest_periods(ORG, now, 4, "quarter")]
    assert labels == ["2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"]
    assert [p.label for p in backtest_periods(ORG, now, 2, "month")] == ["2026-10", "2026-11"]
    fiscal = OrgConfig(timezone="UTC", fiscal_year_start_month=2)
    assert [p.label for p in backtest_periods(fiscal, now, 1, "quarter")] == ["2027-Q3"]


@pytest.mark.parametrize(("count", "every"), [(0, "quarter"), (2, "week")])
def test_backtest_periods_refuse_bad_input(count: int, every: str) -> None:
    with pytest.raises(UnknownPeriod):
        backtest_periods(ORG, datetime(2026, 12, 1, tzinfo=UTC), count, every)


PERIOD = parse_period("2026-Q1", tz=ORG.tz)
SUMMARY = TrainingSummary(("2025-Q4",), 10, 3, 1.0, (0.0,), (1.0,), 0.0, 100, 0, True, None)


def model(p10: float | None, p50: float | None, p90: float | None) -> ModelForecast:
    return ModelForecast(PERIOD, PERIOD.start, 0.0, p50, 0.0, p50, p10, p50, p90, (), {}, SUMMARY)


def test_errors_are_abs_f_minus_a_over_a_and_null_where_undefined() -> None:
    row = BacktestRow(PERIOD, 4000.0, None, 5000.0, 3000.0, model(2000.0, 4400.0, 6000.0))
    assert row.errors() == {
        "submitted": None,
        "weighted_pipeline": 0.25,
        "run_rate": 0.25,
        "model": pytest.approx(0.1),
    }
    assert row.inside_range is True
    nothing_won = replace(row, actual_won=0.0)
    assert nothing_won.errors() == dict.fromkeys(row.errors())
    assert nothing_won.inside_range is False
    no_model = replace(row, model=model(None, None, None))
    assert no_model.errors()["model"] is None and no_model.inside_range is None


def test_backtest_json_has_the_design_shape_and_a_summary() -> None:
    first = BacktestRow(PERIOD, 4000.0, 3000.0, 5000.0, None, model(2000.0, 4400.0, 6000.0))
    second = replace(first, actual_won=1000.0, period=PERIOD.previous())
    body = backtest_json([second, first])
    assert [p["period"] for p in body["periods"]] == ["2025-Q4", "2026-Q1"]
    assert set(body["periods"][0]) == {
        "period", "start", "end", "actual_won", "submitted", "weighted_pipeline", "run_rate",
        "model", "errors", "inside_range",
    }  # fmt: skip
    assert body["periods"][1]["model"] == {"p10": 2000.0, "p50": 4400.0, "p90": 6000.0}
    # errors: Q4 (A 1,000): submitted 2, weighted 4, model 3.4; Q1 (A 4,000): 0.25, 0.25, 0.1
    assert body["summary"]["mape"] == {
        "submitted": pytest.approx((2 + 0.25) / 2),
        "weighted_pipeline": pytest.approx((4 + 0.25) / 2),
        "run_rate": None,
        "model": pytest.approx((3.4 + 0.1) / 2),
    }
    assert body["summary"]["coverage"] == 0.5
    assert body["summary"]["periods"] == 2
