"""Number formatting for people: money, percentages, durations, deltas; "—" for undefined."""

from __future__ import annotations

import math

import pytest

from commands.kit import format as f


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (45_300, "$45,300"),
        (45_300.4, "$45,300"),
        (999_999, "$999,999"),
        (1_234_567, "$1.2M"),
        (3_400_000_000, "$3.4B"),
        (0, "$0"),
        (-2_500, "-$2,500"),
        (None, "—"),
        (math.nan, "—"),
    ],
)
def test_money_is_dollars_below_a_million_and_compact_above(value, text) -> None:
    assert f.money(value) == text


def test_percentages_round_to_whole_points_except_below_ten() -> None:
    assert [f.pct(v) for v in (0.873, 0.045, 0.0, 1.17, None)] == ["87%", "4.5%", "0%", "117%", "—"]


def test_days_minutes_and_ratios_read_naturally() -> None:
    assert [f.days(v) for v in (1, 4.46, 23.4, None)] == ["1 day", "4.5 days", "23 days", "—"]
    assert [f.minutes(v) for v in (4, 150, 4320)] == ["4 min", "2.5 h", "3 days"]
    assert f.ratio(2.345) == "2.3x"


def test_small_positive_numbers_are_not_shown_as_zero() -> None:
    assert f.number(0.03) == "0.03"
    assert f.number(2.0) == "2"


def test_money_delta_is_relative_with_an_arrow_and_the_period_word() -> None:
    assert f.delta(40_000, 20_000, "money", "vs last quarter") == "▲ 100% vs last quarter"
    assert f.delta(15_000, 20_000, "money", "vs last month") == "▼ 25% vs last month"


def test_money_delta_from_zero_shows_the_amount() -> None:
    assert f.delta(5_000, 0, "money", "vs last week") == "▲ $5,000 vs last week"


def test_percentage_delta_is_in_points() -> None:
    assert f.delta(0.40, 0.20, "pct", "vs last quarter") == "▲ 20 pts vs last quarter"


def test_delta_with_an_undefined_side_is_a_dash_not_a_number() -> None:
    assert f.delta(None, 0.2, "pct", "vs last quarter") == "— vs last quarter"
    assert f.delta(0.2, None, "pct", "vs last quarter") == "— vs last quarter"


def test_delta_that_rounds_to_nothing_says_no_change() -> None:
    assert f.delta(8.31, 8.29, "minutes", "vs last quarter") == "= no change vs last quarter"


def test_plural_agrees_with_the_count() -> None:
    assert (f.plural(1, "lead"), f.plural(3, "lead")) == ("1 lead", "3 leads")
