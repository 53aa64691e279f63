"""Number formatting for people: money, percentages, durations, deltas; "—" for undefined."""

from __future__ import annotations

import math

import pytest

from salesops_core.kpi import format as f
from salesops_core.kpi.registry import Unit


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


def test_percentages_truncate_to_whole_points_except_below_ten() -> None:
    assert [f.pct(v) for v in (0.873, 0.045, 0.0, 0.997, 1.17, None)] == [
        "87%",
        "4.5%",
        "0%",
        "99%",
        "117%",
        "—",
    ]


def test_days_minutes_and_ratios_read_naturally() -> None:
    assert [f.days(v) for v in (1, 4.46, 23.4, None)] == ["1 day", "4.5 days", "23 days", "—"]
    assert [f.minutes(v) for v in (4, 100, 150, 4320)] == ["4 min", "1.7 h", "2.5 h", "3 d"]
    assert f.ratio(2.345) == "2.3x"


def test_whole_days_count_the_days_elapsed_rounded_down() -> None:
    assert [f.whole_days(v) for v in (153.8, 1.99, 0.4, None)] == [
        "153 days", "1 day", "0 days", "—",
    ]  # fmt: skip


def test_a_rate_per_day_is_money_with_its_unit() -> None:
    assert (f.money_per_day(1_234.4), f.money_per_day(None)) == ("$1,234 / day", "—")


def test_small_positive_numbers_are_not_shown_as_zero() -> None:
    assert f.number(0.03) == "0.03"
    assert f.number(2.0) == "2"


def test_money_delta_is_relative_with_an_arrow_and_the_period_word() -> None:
    assert f.delta(40_000, 20_000, Unit.MONEY, "vs last quarter") == "▲ 100% vs last quarter"
    assert f.delta(15_000, 20_000, Unit.MONEY, "vs last month") == "▼ 25% vs last month"


def test_money_delta_from_zero_shows_the_amount() -> None:
    assert f.delta(5_000, 0, Unit.MONEY, "vs last week") == "▲ $5,000 vs last week"


def test_percentage_delta_is_in_points() -> None:
    assert f.delta(0.40, 0.20, Unit.PERCENT, "vs last quarter") == "▲ 20 pts vs last quarter"
    assert f.delta(0.38, 0.39, Unit.PERCENT, "vs last quarter") == "▼ 1 pt vs last quarter"


def test_percentages_are_never_rounded_up_nor_cut_by_float_error() -> None:
    assert [f.pct(v) for v in (0.0996, 0.29, 0.57, -0.0001)] == ["9.9%", "29%", "57%", "0.0%"]


@pytest.mark.parametrize(
    ("current", "previous", "unit", "text"),
    [
        (109_960, 100_000, Unit.MONEY, "▲ 9.9%"),  # 9.96%: not "10.0%"
        (142_000, 100_000, Unit.MONEY, "▲ 42%"),
        (110_000, 100_000, Unit.MONEY, "▲ 10%"),
        (95_500, 100_000, Unit.MONEY, "▼ 4.5%"),
        (0.502, 0.30, Unit.PERCENT, "▲ 20 pts"),  # 20.2 points read as a percent would
        (0.26, 0.40, Unit.PERCENT, "▼ 14 pts"),
        (0.325, 0.30, Unit.PERCENT, "▲ 2.5 pts"),
        (0.31, 0.30, Unit.PERCENT, "▲ 1 pt"),
        (0.11, 0.10999, Unit.PERCENT, "▲ < 0.1 pts"),  # "11%" against "10%"
        (27, 23, Unit.DAYS, "▲ 4 days"),
        (23, 27.5, Unit.DAYS, "▼ 4.5 days"),
        (35, 23, Unit.DAYS, "▲ 12 days"),
        (24, 23, Unit.DAYS, "▲ 1 day"),
        (100, 22, Unit.MINUTES, "▲ 1.3 h"),
    ],
)
def test_deltas_read_like_the_values_they_compare(current, previous, unit, text) -> None:
    assert f.delta(current, previous, unit) == text


def test_delta_with_an_undefined_side_is_a_dash_not_a_number() -> None:
    assert f.delta(None, 0.2, Unit.PERCENT, "vs last quarter") == "— vs last quarter"
    assert f.delta(0.2, None, Unit.PERCENT, "vs last quarter") == "— vs last quarter"


def test_delta_that_rounds_to_nothing_says_no_change() -> None:
    assert f.delta(8.31, 8.29, Unit.MINUTES, "vs last quarter") == "= no change vs last quarter"


def test_delta_without_a_label_is_the_change_alone() -> None:
    assert (f.delta(6, 5, Unit.COUNT), f.delta(5, 5, Unit.COUNT)) == ("▲ 1", "= no change")


def test_kpi_format_and_delta_follow_the_registry_unit() -> None:
    assert f.format_kpi("won_amount", 45_300) == "$45,300"
    assert f.format_kpi("lead_response_minutes_median", 100) == "1.7 h"
    assert f.format_kpi("win_rate", 0.873) == "87%"
    assert f.format_kpi("pipeline_velocity_per_day", 1_234) == "$1,234 / day"
    assert f.kpi_delta("won_amount", 54_360, 45_300) == "▲ 20%"
    assert f.kpi_delta("win_rate", 0.5, 0.4) == "▲ 10 pts"


def test_improvement_follows_the_registry_direction() -> None:
    assert f.is_improvement("won_amount", 2, 1) and not f.is_improvement("won_amount", 1, 2)
    assert f.is_improvement("lead_response_minutes_median", 5, 9)
    assert not f.is_improvement("leads_unanswered", 3, 1)
    assert not f.is_improvement("win_rate", None, 0.5)


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0, Unit.MONEY, "$0"),
        (500, Unit.MONEY, "$500"),
        (45_000, Unit.MONEY, "$45k"),
        (12_500, Unit.MONEY, "$12.5k"),
        (1_500_000, Unit.MONEY, "$1.5M"),
        (1_050_000, Unit.MONEY, "$1.05M"),
        (0.8, Unit.PERCENT, "80%"),
        (1.0, Unit.PERCENT, "100%"),
        (0.5, Unit.MINUTES, "30 s"),
        (15, Unit.MINUTES, "15 min"),
        (60, Unit.MINUTES, "1 h"),
        (1_440, Unit.MINUTES, "24 h"),
        (10_080, Unit.MINUTES, "7 d"),
    ],
)
def test_axis_ticks_are_compact(value, unit, text) -> None:
    assert f.axis_tick(value, unit) == text


def test_plural_agrees_with_the_count() -> None:
    assert (f.plural(1, "lead"), f.plural(3, "lead")) == ("1 lead", "3 leads")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1_918_808.4, "$1,919,000"),
        (464_387.0, "$464,000"),
        (9_949.0, "$9,900"),
        (3_000.0, "$3,000"),
        (0.0, "$0"),
        (None, f.NA),
        (math.nan, f.NA),
    ],
)
def test_an_estimate_is_rounded_to_the_precision_a_forecast_has(
    value: float | None, text: str
) -> None:
    assert f.estimate(value) == text
