"""Cell parsers: time stamps, amounts, probabilities, booleans (pure, no database)."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from salesops_core.importers.parsing import (
    normalize_label,
    parse_amount,
    parse_bool,
    parse_period_end,
    parse_probability,
    parse_timestamp,
)

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected", "date_only"),
    [
        ("2024-01-22T16:14:25.000+0000", datetime(2024, 1, 22, 16, 14, 25, tzinfo=UTC), False),
        ("2026-03-07T14:05:00Z", datetime(2026, 3, 7, 14, 5, tzinfo=UTC), False),
        ("2026-03-07T14:05:00+02:00", datetime(2026, 3, 7, 12, 5, tzinfo=UTC), False),
        ("2026-03-07 14:05", datetime(2026, 3, 7, 19, 5, tzinfo=UTC), False),
        ("2026-03-07", datetime(2026, 3, 7, 5, 0, tzinfo=UTC), True),
        ("2026/03/07", datetime(2026, 3, 7, 5, 0, tzinfo=UTC), True),
        ("3/7/2026", datetime(2026, 3, 7, 5, 0, tzinfo=UTC), True),
        ("03/07/26", datetime(2026, 3, 7, 5, 0, tzinfo=UTC), True),
        ("3/7/2026 2:05 PM", datetime(2026, 3, 7, 19, 5, tzinfo=UTC), False),
        ("3/7/2026 12:05 am", datetime(2026, 3, 7, 5, 5, tzinfo=UTC), False),
        ("7/1/2026 14:05:09", datetime(2026, 7, 1, 18, 5, 9, tzinfo=UTC), False),
    ],
)
def test_timestamps_in_iso_and_us_style_become_utc_with_dates_at_org_midnight(
    text: str, expected: datetime, date_only: bool
) -> None:
    assert parse_timestamp(text, NY) == (expected, date_only)


@pytest.mark.parametrize("text", ["2026-13-45", "31/02/2026", "yesterday", "13/45/2026"])
def test_a_bad_date_names_the_value_and_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"not a date: .*use ISO \(2026-03-07 or"):
        parse_timestamp(text, NY)


def test_period_end_date_is_the_last_day_unless_it_is_the_first_of_a_month() -> None:
    utc = ZoneInfo("UTC")
    first_of_april = datetime(2026, 4, 1, tzinfo=UTC)
    assert parse_period_end("2026-03-31", utc) == first_of_april
    assert parse_period_end("2026-04-01", utc) == first_of_april
    assert parse_period_end("2026-04-01T00:00:00Z", utc) == first_of_april


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$12,500.00", (12500.0, "USD")),
        ("1,250.50", (1250.5, None)),
        ("€9.500,00", (9500.0, "EUR")),
        ("12,50", (12.5, None)),
        ("USD 1 000", (1000.0, "USD")),
        ("-500", (-500.0, None)),
        ("(1,200)", (-1200.0, None)),
        ("1124741.15", (1124741.15, None)),
    ],
)
def test_amounts_accept_symbols_codes_and_separators(
    text: str, expected: tuple[float, str | None]
) -> None:
    assert parse_amount(text) == expected


def test_probability_above_one_or_with_percent_sign_is_a_percentage() -> None:
    assert parse_probability("0.4") == pytest.approx(0.4)
    assert parse_probability("40") == pytest.approx(0.4)
    assert parse_probability("40%") == pytest.approx(0.4)
    assert parse_probability("1", percent=True) == pytest.approx(0.01)
    with pytest.raises(ValueError, match="out of range"):
        parse_probability("140")


def test_booleans_and_labels() -> None:
    assert [parse_bool(v) for v in ("1", "Yes", "TRUE", "0", "no", "f")] == [
        True,
        True,
        True,
        False,
        False,
        False,
    ]
    with pytest.raises(ValueError, match="not yes/no"):
        parse_bool("maybe")
    assert normalize_label("BestCase") == normalize_label("Best Case") == "best_case"
