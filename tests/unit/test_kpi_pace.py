"""Pace: attainment against the share of the period elapsed; the one "behind pace"."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from salesops_core.kpi.pace import behind_pace, elapsed_share, pace_of
from salesops_core.periods import parse_period

Q4 = parse_period("2026-Q4", tz=ZoneInfo("UTC"))  # 92 days from 2026-10-01


def test_elapsed_share_runs_from_zero_before_the_period_to_one_after_it() -> None:
    assert elapsed_share(Q4, datetime(2026, 9, 1, tzinfo=UTC)) == 0.0
    assert elapsed_share(Q4, datetime(2026, 11, 16, tzinfo=UTC)) == pytest.approx(46 / 92)
    assert elapsed_share(Q4, datetime(2027, 2, 1, tzinfo=UTC)) == 1.0


def test_behind_pace_means_attainment_below_the_elapsed_share() -> None:
    behind = pace_of({"quota_attainment": 0.3, "won_amount": 30_000}, 0.5, 100_000)
    assert (behind.behind, behind.gap, behind.projected) == (True, 70_000, pytest.approx(0.6))
    on_pace = pace_of({"quota_attainment": 0.5, "won_amount": 50_000}, 0.5, 100_000)
    assert on_pace.behind is False


def test_without_a_quota_there_is_no_pace_and_no_gap() -> None:
    pace = pace_of({"quota_attainment": None, "won_amount": 5_000}, 0.5)
    assert (pace.behind, pace.gap, pace.projected) == (None, None, None)


def test_once_the_period_has_ended_behind_pace_is_below_quota() -> None:
    rows = [
        {"rep": "Ann", "quota_attainment": 0.99},
        {"rep": "Bo", "quota_attainment": 1.0},
        {"rep": "Cy", "quota_attainment": None},
    ]
    assert [r["rep"] for r in behind_pace(rows, 1.0)] == ["Ann"]
