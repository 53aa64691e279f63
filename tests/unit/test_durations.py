"""Durations read in human units on every surface: `30 s`, `4.7 min`, `45 min`, `7.1 h`,
`2.3 d`, from the one formatter; JSON keeps the raw minutes."""

from __future__ import annotations

import pytest

from salesops_core.kpi import format as f
from salesops_core.kpi.registry import Unit


@pytest.mark.parametrize(
    ("minutes", "text"),
    [
        (0.5, "30 s"),
        (0.004, "0 s"),
        (0.999, "1 min"),
        (4.66, "4.7 min"),
        (5, "5 min"),
        (11.4, "11 min"),
        (45, "45 min"),
        (59.7, "1 h"),
        (78, "1.3 h"),
        (426.8, "7.1 h"),
        (47 * 60, "47 h"),
        (2.3 * 1440, "2.3 d"),
        (23.4 * 1440, "23 d"),
        (None, "—"),
        (float("nan"), "—"),
    ],
)
def test_minutes_read_in_the_unit_a_person_would_say(minutes, text) -> None:
    assert f.minutes(minutes) == text
    assert f.fmt(minutes, Unit.MINUTES) == text


def test_a_kpi_in_minutes_and_its_change_use_the_same_words() -> None:
    assert f.format_kpi("lead_response_minutes_p90", 426.8) == "7.1 h"
    assert f.kpi_delta("lead_response_minutes_median", 14, 11.4) == "▲ 2.6 min"
    assert f.kpi_delta("lead_response_minutes_p90", 3 * 1440, 1440) == "▲ 2 d"


@pytest.mark.parametrize(
    ("minutes", "tick"),
    [(0.5, "30 s"), (15, "15 min"), (60, "1 h"), (1_440, "24 h"), (4_320, "3 d"), (10_080, "7 d")],
)
def test_chart_ticks_in_minutes_use_the_same_units_as_the_text(minutes, tick) -> None:
    assert f.axis_tick(minutes, Unit.MINUTES) == tick
