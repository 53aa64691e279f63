"""Period words as people type them: a bare quarter, to-date words, and typos with a suggestion."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from salesops_core.errors import UnknownPeriod
from salesops_core.periods import parse_period

UTC_ZONE = ZoneInfo("UTC")
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)  # in 2026-Q4


def parse(text: str, now: datetime = NOW, fiscal_start: int = 1):  # type: ignore[no-untyped-def]
    return parse_period(text, tz=UTC_ZONE, fiscal_year_start_month=fiscal_start, now=now)


@pytest.mark.parametrize(
    ("text", "now", "label", "start"),
    [("Q3", NOW, "Q3 (2026-Q3)", datetime(2026, 7, 1)),
     ("q4", NOW, "Q4 (2026-Q4)", datetime(2026, 10, 1)),
     ("Q4", datetime(2026, 2, 10, tzinfo=UTC), "Q4 (2025-Q4)", datetime(2025, 10, 1)),
     ("Q1", datetime(2026, 2, 10, tzinfo=UTC), "Q1 (2026-Q1)", datetime(2026, 1, 1))],
)  # fmt: skip
def test_a_bare_quarter_is_the_latest_one_that_has_started(
    text: str, now: datetime, label: str, start: datetime
) -> None:
    period = parse(text, now)
    assert (period.label, period.kind, period.start) == (
        label,
        "quarter",
        start.replace(tzinfo=UTC_ZONE),
    )


def test_a_bare_quarter_follows_the_fiscal_calendar() -> None:
    period = parse("Q1", fiscal_start=2)  # FY2027 runs 2026-02-01 .. 2027-02-01
    assert (period.label, period.start.date().isoformat()) == ("Q1 (2027-Q1)", "2026-02-01")


@pytest.mark.parametrize(
    ("text", "same_as"),
    [("ytd", "this-year"), ("YTD", "this-year"), ("qtd", "this-quarter"), ("mtd", "this-month"),
     ("wtd", "this-week")],
)  # fmt: skip
def test_to_date_words_are_the_running_period(text: str, same_as: str) -> None:
    period, running = parse(text), parse(same_as)
    assert (period.start, period.end, period.kind) == (running.start, running.end, running.kind)
    assert period.label == running.label.replace(same_as, text.lower())


@pytest.mark.parametrize(
    ("text", "suggestion"),
    [("last-quater", "last-quarter"), ("thismonth", "this-month"), ("last_week", "last-week"),
     ("this-yaer", "this-year")],
)  # fmt: skip
def test_a_misspelt_period_word_suggests_the_right_one(text: str, suggestion: str) -> None:
    with pytest.raises(UnknownPeriod) as error:
        parse(text)
    assert str(error.value) == f"unknown period `{text}`; did you mean `{suggestion}`?"


def test_a_word_far_from_any_period_lists_the_accepted_forms() -> None:
    with pytest.raises(UnknownPeriod, match=r"^unknown period 'soon'\. Use this-week, "):
        parse("soon")
