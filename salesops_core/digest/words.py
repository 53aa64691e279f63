"""How a digest's periods read: "week of Nov 23", "Mon Nov 23 – Sun Nov 29", "the week so far".

Dates are the org's local days (a period is bounded by the org zone's midnights). The digest
message and its chart both use these words, so the two always name the period alike.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from salesops_core.digest.facts import PeriodFacts
from salesops_core.periods import Period


def _zone(period: PeriodFacts) -> ZoneInfo:
    return ZoneInfo(period.timezone)


def _first_day(period: PeriodFacts) -> date:
    return period.start.astimezone(_zone(period)).date()


def _last_day(period: PeriodFacts) -> date:
    """The last day in the period (its end is exclusive)."""
    return (period.end.astimezone(_zone(period)) - timedelta(microseconds=1)).date()


def _day(day: date) -> str:
    return f"{day:%b} {day.day}"


def period_span(period: PeriodFacts) -> str:
    """ "Mon Nov 16 – Sun Nov 22" (a week), "Nov 1 – Nov 30" (other periods)."""
    first, last = _first_day(period), _last_day(period)
    if period.kind == "week":
        return f"{first:%a} {_day(first)} – {last:%a} {_day(last)}"
    return f"{_day(first)} – {_day(last)}"


def inner_label(period: PeriodFacts | Period) -> str:
    """ "2026-Q4" of "this-quarter (2026-Q4)"; the label itself when it has no parentheses."""
    label = period.label
    return label[label.find("(") + 1 : -1] if label.endswith(")") and "(" in label else label


def weighted_closing_label(period: PeriodFacts | Period) -> str:
    """ "Weighted pipeline closing in 2026-Q4", as /forecast and the digest name it."""
    return f"Weighted pipeline closing in {inner_label(period)}"


def period_title(period: PeriodFacts) -> str:
    """How the period reads in a header: "week of Nov 23", "November 2026", "2026-Q4"."""
    first = _first_day(period)
    if period.kind == "week":
        return f"week of {_day(first)}"
    if period.kind == "month":
        return f"{first:%B %Y}"
    if period.kind in ("quarter", "year"):
        return inner_label(period)
    return period_span(period)


def period_unit(period: PeriodFacts) -> str:
    """ "week", "month", "quarter", "year", or "period" for a date range."""
    return "period" if period.kind == "range" else period.kind


def period_noun(period: PeriodFacts) -> str:
    """ "the week", or "the week so far" while it runs."""
    words = f"the {period_unit(period)}"
    return f"{words} so far" if period.running else words


def compared_with(period: PeriodFacts) -> str:
    """ "vs the week before"; while only part of the previous period compares, "vs the same
    point of the week before" (as /kpi's `vs_label`)."""
    same_point = "the same point of " if period.same_point else ""
    return f"vs {same_point}the {period_unit(period)} before"
