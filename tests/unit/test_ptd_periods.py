"""Period to date: where `now` falls in the previous period, and spans too short to rate."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from salesops_core.digest.facts import PeriodFacts
from salesops_core.digest.words import compared_with
from salesops_core.kpi import format as f
from salesops_core.kpi.registry import Unit
from salesops_core.periods import parse_period

NY = ZoneInfo("America/New_York")


def period(word: str, now: datetime, tz: ZoneInfo = ZoneInfo("UTC")):
    return parse_period(word, tz=tz, now=now)


def test_day_61_of_a_quarter_is_compared_with_day_61_of_the_previous_one() -> None:
    now = datetime(2026, 8, 30, 12, tzinfo=UTC)  # 2026-Q3 began 60.5 days ago
    q3 = period("this-quarter", now)
    assert q3.to_date_of_previous(now) == datetime(2026, 5, 31, 12, tzinfo=q3.start.tzinfo)


def test_half_an_hour_into_a_month_is_compared_with_half_an_hour() -> None:
    now = datetime(2026, 9, 1, 0, 30, tzinfo=UTC)
    september = period("this-month", now)
    assert september.to_date_of_previous(now) == datetime(2026, 8, 1, 0, 30, tzinfo=UTC)


def test_the_same_point_is_aligned_on_local_wall_clock_across_a_dst_change() -> None:
    now = datetime(2026, 11, 2, 15, tzinfo=UTC)  # Monday 10:00 EST; a week before: EDT
    week = period("this-week", now, NY)
    cut = week.to_date_of_previous(now)
    assert cut is not None and cut.astimezone(NY).replace(tzinfo=None) == datetime(2026, 10, 26, 10)


def test_a_longer_period_never_reaches_past_the_end_of_the_previous_one() -> None:
    now = datetime(2026, 5, 31, 18, tzinfo=UTC)  # day 31 of May; April has 30
    may = period("this-month", now)
    assert may.to_date_of_previous(now) == may.previous().end


def test_a_closed_period_is_compared_with_the_whole_previous_one() -> None:
    now = datetime(2026, 8, 30, 12, tzinfo=UTC)
    assert period("last-quarter", now).to_date_of_previous(now) is None
    assert period("2026-Q4", now).to_date_of_previous(now) is None  # not started either


def test_spans_under_two_days_are_too_short_for_rates_and_comparisons() -> None:
    tuesday = datetime(2026, 9, 1, 7, 12, tzinfo=UTC)  # 1.3 days into the week
    assert period("this-week", tuesday).too_short(tuesday)
    wednesday = datetime(2026, 9, 2, 1, tzinfo=UTC)  # 2.04 days in
    assert not period("this-week", wednesday).too_short(wednesday)
    assert not period("last-week", tuesday).too_short(tuesday)  # a whole week
    assert period("2026-08-01..2026-08-02", tuesday).too_short(tuesday)  # one day, closed


def test_the_comparison_label_says_same_point_while_the_period_runs() -> None:
    now = datetime(2026, 8, 30, 12, tzinfo=UTC)
    assert f.vs_label(period("this-quarter", now), now) == "vs same point last quarter"
    assert f.vs_label(period("last-quarter", now), now) == "vs last quarter"
    assert f.vs_label(period("2026-08-01..2026-09-01", now), now) == (
        "vs same point of the previous period"
    )
    assert f.too_short_note(period("this-week", now)) == "too early in the week"


@pytest.mark.parametrize(
    ("word", "day", "kpi_label", "digest_label"),
    [
        # day 31 reaches past February's end: all of February compares
        ("this-month", (3, 31), "vs last month", "vs the month"),
        # Q3 has 92 days, Q2 91: on Sep 30 all of Q2 compares
        ("this-quarter", (9, 30), "vs last quarter", "vs the quarter"),
        # August has 31 days: Sep 30 meets Aug 30
        ("this-month", (9, 30), "vs same point last month", "vs the same point of the month"),
    ],
    ids=["mar-31", "q3-sep-30", "sep-30"],
)
def test_a_same_point_capped_at_the_previous_end_is_labelled_as_the_whole_period(
    word: str, day: tuple[int, int], kpi_label: str, digest_label: str
) -> None:
    now = datetime(2026, *day, 15, tzinfo=UTC)
    running = period(word, now)
    assert f.vs_label(running, now) == kpi_label
    assert compared_with(PeriodFacts.of(running, now)) == f"{digest_label} before"


def test_a_money_change_hidden_by_rounding_the_amounts_still_shows() -> None:
    assert f.delta(1_615_800, 1_632_900, Unit.MONEY) == "▼ 1.0%"  # both read "$1.6M"
    assert f.delta(45_300, 45_310, Unit.MONEY) == "= no change"  # 0.02%: nothing to read


def test_a_short_range_says_its_span_is_too_short() -> None:
    assert f.too_short_note(period("2026-08-01..2026-08-02", datetime(2026, 9, 1, tzinfo=UTC))) == (
        "too short a span (under 2 days)"
    )
