"""Reporting periods: weeks, months, fiscal quarters and years, explicit ranges.

A period is a half-open interval [start, end) of local midnights in the org time zone.
Boundaries are computed as local wall-clock midnights first and only then compared in UTC,
so a week or month containing a DST change is still exactly "Monday 00:00 to Monday 00:00".

Fiscal calendar: with `fiscal_year_start_month` m, a fiscal year is named by the calendar
year it ENDS in (the Salesforce / Walmart convention). With m = 1 this is the calendar year.
With m = 2, "2026" is 2025-02-01 .. 2026-02-01 and "2026-Q1" is 2025-02-01 .. 2025-05-01.
Months ("2026-05") and weeks (Monday to Monday) are always calendar months and ISO weeks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from difflib import get_close_matches
from typing import Literal
from zoneinfo import ZoneInfo

from salesops_core.errors import UnknownPeriod
from salesops_core.timeutil import utcnow

PeriodKind = Literal["week", "month", "quarter", "year", "range"]

PERIOD_WORDS: tuple[str, ...] = (
    "this-week",
    "last-week",
    "this-month",
    "last-month",
    "this-quarter",
    "last-quarter",
    "this-year",
    "last-year",
)

# "Year to date" and its kin are the running period: a running period counts up to now.
TO_DATE_WORDS: dict[str, str] = {
    "wtd": "this-week",
    "mtd": "this-month",
    "qtd": "this-quarter",
    "ytd": "this-year",
}

ACCEPTED_FORMS = (
    ", ".join(PERIOD_WORDS) + ", ytd (or qtd, mtd, wtd), Q3 (the latest Q3), 2026-Q3 (fiscal "
    "quarter), 2026-05 (month), 2026 (fiscal year), or YYYY-MM-DD..YYYY-MM-DD (end exclusive)"
)

# The years sales data may fall in: what a command's period may name and, through
# `importers.limits`, every time stamp an import or the ingest API stores. No CRM holds sales
# data from before the Unix epoch, and 2199 leaves room for any expected close or plan; both
# ends stay far from datetime's years 1 and 9999 (which a UTC offset, a period's end or its
# previous period would overflow) and inside pandas' nanosecond range (1677-2262).
FIRST_YEAR = 1970
LAST_YEAR = 2199

# The shortest span a rate per week or a comparison with the previous period is read from: on
# Tuesday morning, 3 meetings are not "16 a week", and half an hour of a month is no trend.
MIN_SPAN_DAYS = 2.0

_QUARTER = re.compile(r"^(\d{4})-?[Qq]([1-4])$")
_BARE_QUARTER = re.compile(r"^[Qq]([1-4])$")
_SUGGEST_CUTOFF = 0.75  # how alike (difflib ratio) a word must be to a period word to suggest it
_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(?:FY)?(\d{4})$", re.IGNORECASE)
_RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


def _local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True)
class Period:
    """A half-open reporting interval [start, end), both aware in the org time zone."""

    start: datetime
    end: datetime
    label: str
    kind: PeriodKind = "range"
    fiscal_year_start_month: int = 1

    def previous(self) -> Period:
        """The same-length period just before: previous week/month/quarter/year, or range."""
        tz = self.start.tzinfo
        assert isinstance(tz, ZoneInfo)
        if self.kind == "week":
            return week_period(self.start.date() - timedelta(days=7), tz)
        if self.kind in ("month", "quarter", "year"):
            months = {"month": 1, "quarter": 3, "year": 12}[self.kind]
            year, month = _add_months(self.start.year, self.start.month, -months)
            start = datetime(year, month, 1, tzinfo=tz)
            return replace(
                self,
                start=start,
                end=self.start,
                label=_label(self.kind, start, self.fiscal_year_start_month),
            )
        days = (self.end.date() - self.start.date()).days
        start = _local_midnight(self.start.date() - timedelta(days=days), tz)
        return range_period(start.date(), self.start.date(), tz)

    def is_current(self, now: datetime) -> bool:
        """True when `now` falls inside the period (its end is then in the future)."""
        return self.start <= now < self.end

    def effective_end(self, now: datetime) -> datetime:
        """The period end, or `now` while the period is still running."""
        return min(self.end, max(now, self.start))

    def days(self, now: datetime | None = None) -> float:
        """Calendar days in the period (elapsed days up to `now` when given and current)."""
        end = self.effective_end(now) if now is not None else self.end
        local_end = end.astimezone(self.start.tzinfo).replace(tzinfo=None)
        return (local_end - self.start.replace(tzinfo=None)).total_seconds() / 86400

    def to_date_of_previous(self, now: datetime) -> datetime | None:
        """While the period runs, the same point of the previous period: its start plus the
        local wall-clock time elapsed here (at most its end), so day 61 meets day 61; None once
        the period has ended or before it starts (then the whole previous period compares)."""
        if not self.is_current(now):
            return None
        previous = self.previous()
        elapsed = now.astimezone(self.start.tzinfo).replace(tzinfo=None) - self.start.replace(
            tzinfo=None
        )
        return min(previous.start + elapsed, previous.end)

    def compares_to_same_point(self, now: datetime) -> bool:
        """True while only part of the previous period compares: the period runs at `now` and
        its same point falls before the previous period's end (on Mar 31, all of February)."""
        cut = self.to_date_of_previous(now)
        return cut is not None and cut < self.previous().end

    def too_short(self, now: datetime) -> bool:
        """Fewer than MIN_SPAN_DAYS covered by `now`: too short for a per-week rate or a change."""
        return self.days(now) < MIN_SPAN_DAYS


def fiscal_year_of(day: date, start_month: int) -> int:
    """The fiscal year (named by the calendar year it ends in) that contains `day`."""
    if start_month == 1:
        return day.year
    return day.year + 1 if day.month >= start_month else day.year


def _fiscal_year_start(fiscal_year: int, start_month: int) -> tuple[int, int]:
    return (fiscal_year, 1) if start_month == 1 else (fiscal_year - 1, start_month)


def _label(kind: PeriodKind, start: datetime, fiscal_start: int) -> str:
    if kind == "month":
        return f"{start.year:04d}-{start.month:02d}"
    fiscal_year = fiscal_year_of(start.date(), fiscal_start)
    if kind == "year":
        return f"{fiscal_year}"
    if kind == "quarter":
        offset = (start.month - fiscal_start) % 12
        return f"{fiscal_year}-Q{offset // 3 + 1}"
    raise ValueError(kind)


def week_period(day: date, tz: ZoneInfo) -> Period:
    """The Monday-to-Monday week containing `day`."""
    monday = day - timedelta(days=day.weekday())
    start = _local_midnight(monday, tz)
    end = _local_midnight(monday + timedelta(days=7), tz)
    iso = monday.isocalendar()
    return Period(start, end, f"{iso.year}-W{iso.week:02d}", "week")


def month_period(year: int, month: int, tz: ZoneInfo, fiscal_start: int = 1) -> Period:
    """A calendar month."""
    end_year, end_month = _add_months(year, month, 1)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(end_year, end_month, 1, tzinfo=tz)
    return Period(start, end, _label("month", start, fiscal_start), "month", fiscal_start)


def quarter_period(fiscal_year: int, quarter: int, tz: ZoneInfo, fiscal_start: int = 1) -> Period:
    """Fiscal quarter `quarter` (1-4) of the fiscal year named `fiscal_year`."""
    year, month = _fiscal_year_start(fiscal_year, fiscal_start)
    year, month = _add_months(year, month, 3 * (quarter - 1))
    end_year, end_month = _add_months(year, month, 3)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(end_year, end_month, 1, tzinfo=tz)
    return Period(start, end, f"{fiscal_year}-Q{quarter}", "quarter", fiscal_start)


def year_period(fiscal_year: int, tz: ZoneInfo, fiscal_start: int = 1) -> Period:
    """The fiscal year named `fiscal_year` (the calendar year it ends in)."""
    year, month = _fiscal_year_start(fiscal_year, fiscal_start)
    start = datetime(year, month, 1, tzinfo=tz)
    end = datetime(year + 1, month, 1, tzinfo=tz)
    return Period(start, end, str(fiscal_year), "year", fiscal_start)


def range_period(first: date, end: date, tz: ZoneInfo) -> Period:
    """[first, end) in local days; `end` is exclusive."""
    if end <= first:
        raise UnknownPeriod(
            f"the range end {end} must be after its start {first} "
            "(YYYY-MM-DD..YYYY-MM-DD, end exclusive)"
        )
    return Period(_local_midnight(first, tz), _local_midnight(end, tz), f"{first}..{end}", "range")


def _current(unit: str, today: date, tz: ZoneInfo, fiscal_start: int) -> Period:
    if unit == "week":
        return week_period(today, tz)
    if unit == "month":
        return month_period(today.year, today.month, tz, fiscal_start)
    if unit == "quarter":
        return quarter_containing(today, tz, fiscal_start)
    return year_period(fiscal_year_of(today, fiscal_start), tz, fiscal_start)


def quarter_containing(day: date, tz: ZoneInfo, fiscal_start: int = 1) -> Period:
    """The fiscal quarter that contains `day`."""
    offset = (day.month - fiscal_start) % 12
    return quarter_period(fiscal_year_of(day, fiscal_start), offset // 3 + 1, tz, fiscal_start)


def looks_like_period(word: str) -> bool:
    """True when `word` has the shape of a period (used to tell periods from names)."""
    text = word.strip().lower()
    return (
        text in PERIOD_WORDS
        or text in TO_DATE_WORDS
        or any(pattern.match(text) for pattern in (_QUARTER, _BARE_QUARTER, _MONTH, _YEAR, _RANGE))
    )


def period_suggestion(word: str) -> str | None:
    """The period word `word` is a typo of (`last-quater`: `last-quarter`), if any."""
    typed = re.sub(r"[\s_]+", "-", word.strip().lower())
    close = get_close_matches(typed, [*PERIOD_WORDS, *TO_DATE_WORDS], n=1, cutoff=_SUGGEST_CUTOFF)
    return close[0] if close else None


def latest_quarter(number: int, today: date, tz: ZoneInfo, fiscal_start: int = 1) -> Period:
    """Fiscal quarter `number` of this fiscal year, or of the last one if it has not started."""
    fiscal_year = fiscal_year_of(today, fiscal_start)
    period = quarter_period(fiscal_year, number, tz, fiscal_start)
    if period.start.date() > today:
        period = quarter_period(fiscal_year - 1, number, tz, fiscal_start)
    return period


def _check_years(text: str, *years: int) -> None:
    if any(not FIRST_YEAR <= year <= LAST_YEAR for year in years):
        raise UnknownPeriod(
            f"{text!r} is outside the years {FIRST_YEAR}-{LAST_YEAR} that periods can cover."
        )


def parse_period(
    text: str,
    *,
    tz: ZoneInfo,
    fiscal_year_start_month: int = 1,
    now: datetime | None = None,
) -> Period:
    """Parse a period word or form (see ACCEPTED_FORMS); raise UnknownPeriod otherwise."""
    word = text.strip().lower()
    fiscal_start = fiscal_year_start_month
    today = (now or utcnow()).astimezone(tz).date()
    if word in PERIOD_WORDS or word in TO_DATE_WORDS:
        which, unit = TO_DATE_WORDS.get(word, word).split("-")
        period = _current(unit, today, tz, fiscal_start)
        if which == "last":
            period = period.previous()
        return replace(period, label=f"{word} ({period.label})")
    if match := _BARE_QUARTER.match(word):
        period = latest_quarter(int(match[1]), today, tz, fiscal_start)
        return replace(period, label=f"{word.upper()} ({period.label})")
    try:  # the years first (an UnknownPeriod of their own), then the form's own checks
        if match := _QUARTER.match(word):
            _check_years(text, int(match[1]))
            return quarter_period(int(match[1]), int(match[2]), tz, fiscal_start)
        if match := _MONTH.match(word):
            _check_years(text, int(match[1]))
            if not 1 <= int(match[2]) <= 12:
                raise ValueError("month out of range")
            return month_period(int(match[1]), int(match[2]), tz, fiscal_start)
        if match := _YEAR.match(word):
            _check_years(text, int(match[1]))
            return year_period(int(match[1]), tz, fiscal_start)
        if match := _RANGE.match(word):
            _check_years(text, int(match[1][:4]), int(match[2][:4]))
            return range_period(date.fromisoformat(match[1]), date.fromisoformat(match[2]), tz)
    except ValueError:
        raise UnknownPeriod(
            f"{text!r} is not a valid date or period. Use {ACCEPTED_FORMS}."
        ) from None
    if suggestion := period_suggestion(text):
        raise UnknownPeriod(f"unknown period `{text.strip()}`; did you mean `{suggestion}`?")
    raise UnknownPeriod(f"unknown period {text!r}. Use {ACCEPTED_FORMS}.")
