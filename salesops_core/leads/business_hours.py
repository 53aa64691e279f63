"""Business-hours clock maths: SLA deadlines that pause outside a rep's working hours.

A calendar is a time zone, a daily working window, ISO workdays and (optionally) a
country's public holidays. Windows are built in local time and converted to UTC, so a
working day that contains a DST change has its true length in real minutes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Rep
from salesops_core.errors import ConfigError
from salesops_core.timeutil import as_utc

# Far enough for any real calendar (a year of holidays), small enough to fail fast on a bad one.
MAX_SEARCH_DAYS = 800


@dataclass(frozen=True)
class WorkCalendar:
    """When a rep's SLA clock runs. `business_hours=False` means the wall clock always runs."""

    timezone: str = "UTC"
    work_start: time = time(9, 0)
    work_end: time = time(17, 0)
    workdays: frozenset[int] = field(default_factory=lambda: frozenset({1, 2, 3, 4, 5}))
    holiday_country: str | None = None  # "US", or country-subdivision such as "US-CA"
    business_hours: bool = True

    def __post_init__(self) -> None:
        if self.business_hours and not self.workdays:
            raise ConfigError("a business-hours calendar needs at least one workday")
        if self.work_start == self.work_end:
            raise ConfigError("work_start and work_end must differ")

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_workday(self, day: date) -> bool:
        """True when the day is a workday and not a public holiday."""
        return day.isoweekday() in self.workdays and not is_holiday(self.holiday_country, day)

    def windows_from(self, moment: datetime) -> Iterator[tuple[datetime, datetime]]:
        """Working windows (UTC start, UTC end) in time order, from around `moment` on.

        Raises ConfigError after MAX_SEARCH_DAYS days in a row without working time.
        """
        tz = self.tz
        day = as_utc(moment).astimezone(tz).date() - timedelta(days=1)  # overnight shifts
        overnight = self.work_end <= self.work_start
        idle_days = 0
        while idle_days < MAX_SEARCH_DAYS:
            idle_days += 1
            if self.is_workday(day):
                end_day = day + timedelta(days=1) if overnight else day
                start = datetime.combine(day, self.work_start, tz).astimezone(UTC)
                end = datetime.combine(end_day, self.work_end, tz).astimezone(UTC)
                if end > start:
                    idle_days = 0
                    yield start, end
            day += timedelta(days=1)
        raise ConfigError(f"no working time in the {MAX_SEARCH_DAYS} days after {moment:%Y-%m-%d}")


def workdays_from_string(value: str | None) -> frozenset[int]:
    """ISO weekday digits ("12345" = Monday to Friday) as a set."""
    days = frozenset(int(ch) for ch in (value or "12345") if ch.isdigit())
    if not days or not days <= set(range(1, 8)):
        raise ConfigError(f"workdays {value!r} must be ISO weekday digits 1-7, e.g. 12345")
    return days


@lru_cache(maxsize=256)
def _holiday_dates(country: str, year: int) -> frozenset[date]:
    code, _, subdiv = country.upper().partition("-")
    try:
        calendar = holidays.country_holidays(code, subdiv=subdiv or None, years=year)
    except (NotImplementedError, KeyError) as exc:
        raise ConfigError(f"unknown holiday country {country!r}: {exc}") from None
    return frozenset(calendar.keys())


def is_holiday(country: str | None, day: date) -> bool:
    """True when `day` is a public holiday in `country` (None: no holidays)."""
    return bool(country) and day in _holiday_dates(str(country), day.year)


def sla_deadline(created_at: datetime, minutes: float, calendar: WorkCalendar) -> datetime:
    """The moment `minutes` of the calendar's working time have passed since `created_at`.

    Fractions of minutes are kept (to the microsecond). With `business_hours=False` this is
    plain wall-clock addition. A lead created outside working hours starts its clock at the
    next opening; zero minutes therefore means "the next working instant".
    """
    start = as_utc(created_at)
    remaining = timedelta(minutes=minutes)
    if remaining < timedelta(0):
        raise ValueError("minutes must not be negative")
    if not calendar.business_hours:
        return start + remaining
    for window_start, window_end in calendar.windows_from(start):
        if window_end <= start:
            continue
        cursor = max(start, window_start)
        available = window_end - cursor
        if remaining <= available:
            return cursor + remaining
        remaining -= available
    raise AssertionError("windows_from always yields or raises")  # pragma: no cover


def business_minutes_between(start: datetime, end: datetime, calendar: WorkCalendar) -> float:
    """Working minutes between two instants (0 when `end` is not after `start`)."""
    start, end = as_utc(start), as_utc(end)
    if end <= start:
        return 0.0
    if not calendar.business_hours:
        return (end - start).total_seconds() / 60
    total = timedelta(0)
    for window_start, window_end in calendar.windows_from(start):
        if window_start >= end:
            break
        overlap = min(window_end, end) - max(window_start, start)
        if overlap > timedelta(0):
            total += overlap
    return total.total_seconds() / 60


def calendar_for(rep: Rep | None, org: OrgConfig, policy: SlaPolicy | None = None) -> WorkCalendar:
    """The calendar of a lead's owner (org defaults when unowned) under an SLA policy."""
    business = policy.business_hours if policy is not None else True
    if rep is None:
        return WorkCalendar(
            timezone=org.timezone, holiday_country=org.holiday_country, business_hours=business
        )
    return WorkCalendar(
        timezone=rep.timezone or org.timezone,
        work_start=rep.work_start or time(9, 0),
        work_end=rep.work_end or time(17, 0),
        workdays=workdays_from_string(rep.workdays),
        holiday_country=rep.holiday_country or org.holiday_country,
        business_hours=business,
    )
