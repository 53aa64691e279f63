from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from salesops_core.errors import ConfigError
from salesops_core.leads.business_hours import (
    WorkCalendar,
    business_minutes_between,
    is_holiday,
    sla_deadline,
)

NY = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
NY_CAL = WorkCalendar(timezone="America/New_York")


def ny(*args: int) -> datetime:
    return datetime(*args, tzinfo=NY)


def test_deadline_inside_working_hours_is_plain_addition():
    assert sla_deadline(ny(2026, 11, 24, 10, 0), 30, NY_CAL) == ny(2026, 11, 24, 10, 30)


def test_fractions_of_a_minute_are_kept():
    assert sla_deadline(ny(2026, 11, 24, 10, 0), 0.5, NY_CAL) == ny(2026, 11, 24, 10, 0, 30)


def test_clock_pauses_overnight():
    # 16:50 + 30 business minutes: 10 today, 20 tomorrow from 09:00
    assert sla_deadline(ny(2026, 11, 24, 16, 50), 30, NY_CAL) == ny(2026, 11, 25, 9, 20)


def test_lead_created_at_night_starts_at_next_opening():
    assert sla_deadline(ny(2026, 11, 24, 22, 0), 5, NY_CAL) == ny(2026, 11, 25, 9, 5)


def test_zero_minutes_outside_hours_is_the_next_opening():
    assert sla_deadline(ny(2026, 11, 24, 7, 0), 0, NY_CAL) == ny(2026, 11, 24, 9, 0)


def test_weekend_is_skipped():
    friday = ny(2027, 1, 8, 16, 55)
    assert sla_deadline(friday, 10, NY_CAL) == ny(2027, 1, 11, 9, 5)


def test_public_holiday_is_skipped_when_country_is_set():
    # Thanksgiving 2026 is Thursday 26 November in the US
    wednesday = ny(2026, 11, 25, 16, 50)
    cal = WorkCalendar(timezone="America/New_York", holiday_country="US")
    assert is_holiday("US", date(2026, 11, 26))
    assert sla_deadline(wednesday, 20, cal) == ny(2026, 11, 27, 9, 10)
    assert sla_deadline(wednesday, 20, NY_CAL) == ny(2026, 11, 26, 9, 10)


def test_subdivision_holidays_apply():
    # Reformation Day (31 Oct) is a holiday in Saxony, not in Berlin
    cal = WorkCalendar(timezone="Europe/Berlin", holiday_country="DE-SN")
    friday = datetime(2025, 10, 30, 16, 55, tzinfo=BERLIN)
    assert sla_deadline(friday, 10, cal) == datetime(2025, 11, 3, 9, 5, tzinfo=BERLIN)


def test_unknown_holiday_country_is_a_config_error():
    with pytest.raises(ConfigError):
        sla_deadline(ny(2026, 11, 24, 10), 5, WorkCalendar(holiday_country="XX"))


def test_wall_clock_policy_ignores_hours_and_weekends():
    cal = WorkCalendar(business_hours=False)
    saturday_night = datetime(2026, 11, 28, 23, 59, tzinfo=UTC)
    assert sla_deadline(saturday_night, 0.25, cal) == saturday_night + timedelta(seconds=15)


def test_dst_spring_forward_day_keeps_real_minutes():
    # 24h calendar in New York on 8 March 2026 (clocks jump 02:00 -> 03:00): the day is 23 h
    cal = WorkCalendar(
        timezone="America/New_York",
        work_start=time(0, 0),
        work_end=time(23, 59),
        workdays=frozenset(range(1, 8)),
    )
    start = ny(2026, 3, 8, 1, 30)
    deadline = sla_deadline(start, 60, cal)
    assert deadline - start.astimezone(UTC) == timedelta(hours=1)
    assert deadline.astimezone(NY) == ny(2026, 3, 8, 3, 30)


def test_dst_fall_back_business_day_counts_local_hours():
    # Monday after the November change: windows are 09:00-17:00 local in the new offset
    monday = ny(2026, 11, 2, 16, 0)
    friday_before = ny(2026, 10, 30, 16, 0)
    assert sla_deadline(friday_before, 120, NY_CAL).astimezone(NY) == ny(2026, 11, 2, 10, 0)
    assert sla_deadline(monday, 60, NY_CAL).astimezone(NY) == ny(2026, 11, 2, 17, 0)


def test_overnight_shift_spans_midnight():
    cal = WorkCalendar(timezone="UTC", work_start=time(22, 0), work_end=time(6, 0))
    monday_late = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert sla_deadline(monday_late, 120, cal) == datetime(2026, 11, 24, 1, 0, tzinfo=UTC)


def test_calendar_without_workdays_is_rejected():
    with pytest.raises(ConfigError):
        WorkCalendar(workdays=frozenset())


def test_business_minutes_between_skips_nights_and_weekends():
    friday = ny(2027, 1, 8, 16, 0)
    monday = ny(2027, 1, 11, 10, 0)
    assert business_minutes_between(friday, monday, NY_CAL) == pytest.approx(120)


calendars = st.builds(
    WorkCalendar,
    timezone=st.sampled_from(["UTC", "America/New_York", "Europe/Berlin", "Australia/Sydney"]),
    work_start=st.sampled_from([time(0, 0), time(8, 30), time(9, 0), time(22, 0)]),
    work_end=st.sampled_from([time(17, 0), time(18, 15), time(6, 0), time(23, 59)]),
    workdays=st.sampled_from([frozenset({1, 2, 3, 4, 5}), frozenset({6, 7}), frozenset({3})]),
    holiday_country=st.sampled_from([None, "US", "DE"]),
)
moments = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
durations = st.floats(min_value=0, max_value=5000, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(calendar=calendars, created=moments, minutes=durations)
def test_property_deadline_holds_exactly_the_requested_business_minutes(calendar, created, minutes):
    deadline = sla_deadline(created, minutes, calendar)
    assert deadline >= created
    assert business_minutes_between(created, deadline, calendar) == pytest.approx(minutes, abs=1e-4)


@settings(max_examples=100, deadline=None)
@given(calendar=calendars, created=moments, a=durations, b=durations)
def test_property_more_minutes_never_give_an_earlier_deadline(calendar, created, a, b):
    low, high = sorted((a, b))
    assert sla_deadline(created, low, calendar) <= sla_deadline(created, high, calendar)
