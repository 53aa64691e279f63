"""Periods: words, quarters, months, fiscal years, ranges; half-open, local midnights, DST."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from salesops_core.errors import UnknownPeriod
from salesops_core.periods import PERIOD_WORDS, looks_like_period, parse_period

NY = ZoneInfo("America/New_York")
NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # a Friday


def local(*args: int, tz: ZoneInfo = NY) -> datetime:
    return datetime(*args, tzinfo=tz)


def test_quarter_is_three_calendar_months_from_local_midnight() -> None:
    period = parse_period("2026-Q3", tz=NY)
    assert (period.start, period.end, period.label) == (
        local(2026, 7, 1),
        local(2026, 10, 1),
        "2026-Q3",
    )
    assert period.start.astimezone(UTC) == datetime(2026, 7, 1, 4, tzinfo=UTC)  # EDT, UTC-4


def test_month_spanning_the_march_dst_change_ends_at_local_midnight_in_edt() -> None:
    period = parse_period("2026-03", tz=NY)
    assert period.start.astimezone(UTC) == datetime(2026, 3, 1, 5, tzinfo=UTC)  # EST
    assert period.end.astimezone(UTC) == datetime(2026, 4, 1, 4, tzinfo=UTC)  # EDT
    assert period.days() == 31


def test_week_with_dst_change_is_monday_to_monday_local() -> None:
    # US clocks go forward on Sunday 2026-03-08.
    period = parse_period("this-week", tz=NY, now=datetime(2026, 3, 10, 12, tzinfo=UTC))
    assert (period.start, period.end) == (local(2026, 3, 9), local(2026, 3, 16))
    last = parse_period("last-week", tz=NY, now=datetime(2026, 3, 10, 12, tzinfo=UTC))
    assert (last.start, last.end) == (local(2026, 3, 2), local(2026, 3, 9))
    elapsed = last.end.astimezone(UTC) - last.start.astimezone(UTC)
    assert elapsed.total_seconds() == 7 * 86400 - 3600  # the lost hour
    assert last.days() == 7  # calendar days, for per-week rates


def test_relative_words_use_the_org_time_zone_for_today() -> None:
    # 2026-01-01 03:00 UTC is still 2025-12-31 in New York.
    now = datetime(2026, 1, 1, 3, tzinfo=UTC)
    assert parse_period("this-month", tz=NY, now=now).label == "this-month (2025-12)"
    assert parse_period("this-month", tz=ZoneInfo("UTC"), now=now).label == "this-month (2026-01)"


@pytest.mark.parametrize(
    ("word", "start", "end"),
    [
        ("this-quarter", (2026, 10, 1), (2027, 1, 1)),
        ("last-quarter", (2026, 7, 1), (2026, 10, 1)),
        ("this-month", (2026, 11, 1), (2026, 12, 1)),
        ("last-month", (2026, 10, 1), (2026, 11, 1)),
        ("this-year", (2026, 1, 1), (2027, 1, 1)),
        ("last-year", (2025, 1, 1), (2026, 1, 1)),
        ("this-week", (2026, 11, 23), (2026, 11, 30)),
        ("last-week", (2026, 11, 16), (2026, 11, 23)),
        ("2026", (2026, 1, 1), (2027, 1, 1)),
        ("2026-05", (2026, 5, 1), (2026, 6, 1)),
        ("2026-01-05..2026-02-01", (2026, 1, 5), (2026, 2, 1)),
    ],
)
def test_every_accepted_form_parses_to_half_open_local_interval(
    word: str, start: tuple[int, ...], end: tuple[int, ...]
) -> None:
    period = parse_period(word, tz=NY, now=NOW)
    assert (period.start, period.end) == (local(*start), local(*end))


def test_fiscal_year_is_named_by_the_calendar_year_it_ends_in() -> None:
    # Fiscal year starting in February: FY2026 = 2025-02-01 .. 2026-02-01.
    year = parse_period("2026", tz=NY, fiscal_year_start_month=2)
    assert (year.start, year.end) == (local(2025, 2, 1), local(2026, 2, 1))
    q1 = parse_period("2026-Q1", tz=NY, fiscal_year_start_month=2)
    assert (q1.start, q1.end) == (local(2025, 2, 1), local(2025, 5, 1))
    q4 = parse_period("2026-Q4", tz=NY, fiscal_year_start_month=2)
    assert (q4.start, q4.end) == (local(2025, 11, 1), local(2026, 2, 1))


def test_this_quarter_with_fiscal_start_labels_the_fiscal_quarter() -> None:
    # 2026-11-27 with a February fiscal start: FY2027 Q4 = 2026-11-01 .. 2027-02-01.
    period = parse_period("this-quarter", tz=NY, fiscal_year_start_month=2, now=NOW)
    assert period.label == "this-quarter (2027-Q4)"
    assert (period.start, period.end) == (local(2026, 11, 1), local(2027, 2, 1))
    assert period.previous().label == "2027-Q3"


def test_previous_of_each_kind_is_the_same_unit_just_before() -> None:
    assert parse_period("2026-03", tz=NY).previous().label == "2026-02"
    assert parse_period("2026-Q1", tz=NY).previous().label == "2025-Q4"
    assert parse_period("2026", tz=NY).previous().label == "2025"
    previous = parse_period("2026-01-05..2026-02-01", tz=NY).previous()
    assert (previous.start, previous.end) == (local(2025, 12, 9), local(2026, 1, 5))


def test_is_current_and_effective_end_cap_at_now() -> None:
    period = parse_period("this-month", tz=NY, now=NOW)
    assert period.is_current(NOW)
    assert period.effective_end(NOW) == NOW
    assert not parse_period("last-month", tz=NY, now=NOW).is_current(NOW)


@pytest.mark.parametrize("word", ["2026-Q5", "2026-13", "next-week", "2026-02-01..2026-01-01", ""])
def test_unknown_period_names_the_accepted_forms(word: str) -> None:
    with pytest.raises(UnknownPeriod, match="YYYY-MM-DD"):
        parse_period(word, tz=NY)


def test_looks_like_period_tells_periods_from_names() -> None:
    assert all(looks_like_period(w) for w in PERIOD_WORDS)
    assert looks_like_period("2026-Q3") and looks_like_period("2026-01-01..2026-02-01")
    assert not looks_like_period("alice")
