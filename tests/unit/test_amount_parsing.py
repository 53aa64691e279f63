"""Amounts are read exactly or refused, never invented; time stamps stay in the stored range."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesops_core.db.models import Deal, Lead
from salesops_core.importers import limits
from salesops_core.importers.columns import parse_timestamps
from salesops_core.importers.parsing import (
    parse_amount,
    parse_number,
    parse_period_end,
    parse_timestamp,
)

NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.2E+06", (1_200_000.0, None)),
        ("100 EUR", (100.0, "EUR")),
        ("eur 100", (100.0, "EUR")),
        ("-$5", (-5.0, "USD")),
        ("$-5", (-5.0, "USD")),
        ("1 234,5", (1234.5, None)),
        ("1'000", (1000.0, None)),
        ("1.250.000", (1_250_000.0, None)),
        ("£3,000,000.75", (3_000_000.75, "GBP")),
        ("1234USD", (1234.0, "USD")),
    ],
)
def test_amount_is_a_number_with_separators_and_at_most_one_known_currency(
    text: str, expected: tuple[float, str | None]
) -> None:
    assert parse_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("10 k", "use a number such as"),
        ("12abc", "'abc' is not a known currency"),
        ("12 XYZ", "'XYZ' is not a known currency"),
        ("1e309", "too large"),
        ("NaN", "use a number such as"),
        ("inf", "use a number such as"),
        ("-Infinity", "use a number such as"),
        ("$5 EUR", "names two currencies"),
        ("1,2,3", "use a number such as"),
        ("1..2", "use a number such as"),
        ("(-5)", "use a number such as"),
        ("--5", "use a number such as"),
        ("5 - 6", "use a number such as"),
        ("1_000", "use a number such as"),
        ("$", "use a number such as"),
    ],
)
def test_anything_else_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=re.escape(f"not an amount: {text!r}")) as error:
        parse_amount(text)
    assert reason in str(error.value)


@given(st.decimals(min_value=0, max_value=10**15, places=2, allow_nan=False))
def test_a_plain_or_grouped_amount_reads_back_as_written(value: object) -> None:
    plain = f"{value}"
    grouped = f"${value:,}"
    assert parse_amount(plain) == (float(plain), None)
    assert parse_amount(grouped) == (float(plain), "USD")


@given(st.text(max_size=12))
def test_a_parsed_amount_is_always_finite(text: str) -> None:
    try:
        value, currency = parse_amount(text)
    except ValueError:
        return
    assert value == value and abs(value) != float("inf")
    assert currency is None or currency in limits.CURRENCY_CODES


@pytest.mark.parametrize("text", ["nan", "inf", "1e309", "-Infinity"])
def test_minutes_that_are_not_finite_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="not a number"):
        parse_number(text)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01",
        "0001-01-01T00:00:00+05:00",
        "9999-12-31",
        "9999-12-31T23:59:59-05:00",
        "12/31/9999",
        "1969-12-31T23:59:59Z",
        "2200-01-01",
    ],
)
def test_time_stamps_outside_1970_to_2199_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is out of range; use a time from 1970 to 2199"):
        parse_timestamp(text, NY)


@pytest.mark.parametrize("text", ["0001-01-01", "9999-12-31", "9999-12-31T23:00:00-05:00"])
def test_a_period_end_at_the_calendar_limits_is_a_value_error_not_an_overflow(text: str) -> None:
    with pytest.raises(ValueError, match="out of range"):
        parse_period_end(text, NY)


def test_the_edges_of_the_range_are_read() -> None:
    assert parse_timestamp("1970-01-01T00:00:00Z", NY)[0] == datetime(1970, 1, 1, tzinfo=UTC)
    assert parse_period_end("2199-12-31", ZoneInfo("UTC")) == datetime(2200, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    ["1969-12-31 22:00:00", "1970-01-01T00:30:00+01:00", "2199-12-31T23:30:00-01:00",
     "2200-01-01T01:00:00+02:00", "1970-01-01 00:00:00", "2026-03-07T14:05:00Z"],
)  # fmt: skip
def test_the_column_reader_never_accepts_a_time_the_row_reader_refuses(text: str) -> None:
    read, _ = parse_timestamps([text], NY)
    try:
        expected: datetime | None = parse_timestamp(text, NY)[0]
    except ValueError:
        expected = None
    assert read[0] in (expected, None)  # None: left to the row reader, which says why


def test_limits_come_from_the_model_columns() -> None:
    assert limits.TEXT_LENGTHS["source"] == Lead.__table__.c.source.type.length == 128
    assert limits.TEXT_LENGTHS["stage"] == Deal.__table__.c.stage.type.length == 200
    assert limits.MONEY_LIMIT == 10 ** (18 - 2)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a\x00b", "contains a control character (U+0000); remove it"),
        ("a\nb", "contains a control character (U+000A); remove it"),
        ("\ud800", "contains a control character (U+D800); remove it"),
        ("x" * 129, "is 129 characters long; at most 128 fit"),
    ],
)
def test_text_that_no_column_stores_is_refused(text: str, reason: str) -> None:
    assert limits.text_problem(text, 128) == reason
    assert limits.text_problem("Acme GmbH – Zürich", 128) is None
