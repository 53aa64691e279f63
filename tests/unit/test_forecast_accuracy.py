"""Accuracy, bias, error, best-case landing, lean and trend of forecast calls, by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from salesops_core.config import OrgConfig
from salesops_core.forecast.accuracy import (
    QuarterCall,
    RepScorecard,
    closed_quarters,
    lean_of,
    quarter_call,
    team_quarters,
    trend_of,
)
from salesops_core.periods import quarter_period

Q3 = quarter_period(2026, 3, ZoneInfo("UTC"))


def call(commit: float | None, won: float, best_case: float | None = None) -> QuarterCall:
    return quarter_call(Q3, commit, best_case, won)


def test_an_under_call_has_negative_bias_and_its_accuracy_is_one_minus_the_error() -> None:
    under = call(80_000, 100_000)  # |80k - 100k| / 100k = 0.2
    assert under.bias == pytest.approx(-0.2)
    assert under.error == pytest.approx(0.2)
    assert under.accuracy == pytest.approx(0.8)
    assert (under.quarter, under.start, under.end) == (
        "2026-Q3",
        datetime(2026, 7, 1, tzinfo=UTC),
        datetime(2026, 10, 1, tzinfo=UTC),
    )


def test_an_over_call_has_positive_bias_and_can_be_less_than_zero_accurate() -> None:
    over = call(250_000, 100_000)  # (250k - 100k) / 100k = 1.5
    assert over.bias == pytest.approx(1.5)
    assert over.error == pytest.approx(1.5)
    assert over.accuracy == pytest.approx(-0.5)


@pytest.mark.parametrize(("commit", "won"), [(50_000, 0.0), (None, 70_000), (None, 0.0)])
def test_nothing_won_or_no_commit_leaves_accuracy_bias_and_error_undefined(
    commit: float | None, won: float
) -> None:
    undefined = call(commit, won)
    assert (undefined.accuracy, undefined.bias, undefined.error) == (None, None, None)


@pytest.mark.parametrize(
    ("commit", "best_case", "won", "landed"),
    [
        (100, 130, 99, "below_commit"),
        (100, 130, 100, "in_range"),
        (100, 130, 130, "in_range"),
        (100, 130, 131, "above_best_case"),
        (100, None, 120, None),  # no best case given: nothing to say
        (None, 130, 120, None),
    ],
)
def test_won_lands_below_the_commit_between_it_and_the_best_case_or_above(
    commit: float | None, best_case: float | None, won: float, landed: str | None
) -> None:
    assert call(commit, won, best_case).landed == landed


def test_the_lean_counts_quarters_each_way_and_averages_the_size_of_each() -> None:
    calls = [call(80, 100), call(90, 100), call(120, 100), call(None, 100), call(100, 100)]
    lean = lean_of(calls)
    assert (lean.judged, lean.under, lean.over) == (4, 2, 1)  # the exact call counts, leans none
    assert lean.under_by == pytest.approx(0.15)  # (0.2 + 0.1) / 2
    assert lean.over_by == pytest.approx(0.2)


def test_the_trend_is_the_least_squares_slope_over_the_quarters_positions() -> None:
    # 0.8, 0.9, 0.8, 0.95 at 0..3: slope 0.175 / 5 = 0.035 a quarter, above the 0.03 of steady
    assert trend_of([0.8, 0.9, 0.8, 0.95]) == "improving"
    assert trend_of([0.95, 0.8, 0.9, 0.8]) == "declining"  # -0.035
    assert trend_of([0.8, 0.82, 0.79, 0.81]) == "steady"  # slope 0.001
    assert trend_of([0.8, None, None, 0.5]) == "declining"  # a gap keeps its place: -0.1
    assert trend_of([None, 0.8, None, None]) is None  # one quarter is no trend
    assert trend_of([]) is None


def test_a_scorecard_averages_only_the_quarters_with_numbers() -> None:
    card = RepScorecard(
        1, "Ann", True, None, None, (call(80, 100, 110), call(None, 50), call(110, 100, 120))
    )
    assert card.mean_accuracy == pytest.approx(0.85)  # (0.8 + 0.9) / 2
    assert card.mean_bias == pytest.approx(-0.05)  # (-0.2 + 0.1) / 2
    assert card.mean_error == pytest.approx(0.15)
    assert card.best_case_hits == (1, 2)  # 100 in 80..110; 100 below the commit of 110
    assert [c.landed for c in card.calls] == ["in_range", None, "below_commit"]


def test_a_teams_accuracy_is_on_the_sum_and_its_mape_the_mean_of_its_reps_errors() -> None:
    ann = RepScorecard(1, "Ann", True, 1, "East", (call(80_000, 100_000),))
    bob = RepScorecard(2, "Bob", True, 1, "East", (call(120_000, 100_000),))
    cat = RepScorecard(3, "Cat", True, 1, "East", (call(None, 40_000),))  # no commit: not counted
    dan = RepScorecard(4, "Dan", True, 1, "East", (call(30_000, 0.0),))  # nothing won: no error
    (quarter,) = team_quarters([ann, bob, cat, dan])
    # sum F = 80k + 120k + 30k = 230k against what those three won, 200k: 1 - 30/200
    assert quarter.accuracy == pytest.approx(0.85)
    assert (quarter.commit, quarter.won, quarter.forecasters) == (230_000, 200_000, 3)
    assert quarter.mape == pytest.approx(0.2)  # Ann 0.2 and Bob 0.2; Dan has none
    assert quarter.judged == 2


def test_closed_quarters_are_the_fiscal_quarters_ended_by_now_in_the_org_time_zone() -> None:
    org = OrgConfig(timezone="America/New_York", fiscal_year_start_month=2)
    # 2026-05-01 03:00 UTC is still April 30 in New York: fiscal 2027-Q1 (Feb-Apr) is running
    quarters = closed_quarters(org, datetime(2026, 5, 1, 3, 0, tzinfo=UTC), 2)
    assert [q.label for q in quarters] == ["2026-Q3", "2026-Q4"]
    assert quarters[-1].end == datetime(2026, 2, 1, tzinfo=ZoneInfo("America/New_York"))
    later = closed_quarters(org, datetime(2026, 5, 1, 5, 0, tzinfo=UTC), 1)  # May 1, 01:00 NY
    assert [q.label for q in later] == ["2027-Q1"]


@pytest.mark.parametrize(
    ("calls", "clear"),
    [
        ([(80, 100), (90, 100), (110, 100)], "under"),  # -20, -10, +10: mean -6.7%
        ([(152, 100), (88, 100), (89.2, 100), (92, 100)], None),  # 3 under, mean +5.3%
        ([(98, 100), (97, 100)], None),  # under both times, mean -2.5%: too small
        ([(70, 100)], None),  # one quarter
        ([(130, 100), (120, 100), (None, 100)], "over"),  # mean +25%
        ([(80, 100), (120, 100)], None),  # one each way
    ],
)
def test_a_lean_is_clear_only_when_most_quarters_and_the_mean_bias_agree_and_it_is_big(
    calls: list[tuple[float | None, float]], clear: str | None
) -> None:
    assert lean_of([call(commit, won) for commit, won in calls]).clear == clear
