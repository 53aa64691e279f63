"""Slash-command text before parsing: the length cap, control characters, the tokenizer, and
periods at the edges of the calendar."""

from __future__ import annotations

import shlex
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from commands.kit.args import MAX_TEXT_CHARS, check_text, tokenize
from salesops_core.errors import BadArguments, UnknownPeriod
from salesops_core.periods import FIRST_YEAR, LAST_YEAR, parse_period

NOW = datetime(2026, 11, 27, 15, 0, tzinfo=UTC)


def _shlex_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:
        return text.split()


@settings(max_examples=300)
@given(st.text(alphabet=st.sampled_from(list("ab é\t\n\"'<>@|:.-"))))
def test_tokenize_splits_like_shlex_on_text_without_backslashes(text: str) -> None:
    assert tokenize(text) == _shlex_words(text)


def test_quoted_names_stay_one_word_and_an_apostrophe_falls_back_to_plain_words() -> None:
    assert tokenize('kpi "Jane Doe" last-quarter') == ["kpi", "Jane Doe", "last-quarter"]
    assert tokenize("O'Brien share") == ["O'Brien", "share"]


def test_text_at_the_cap_is_read_and_one_character_more_is_refused() -> None:
    check_text("/kpi", "a" * MAX_TEXT_CHARS)
    with pytest.raises(BadArguments, match="4,001 characters long; a command takes at most 4,000"):
        check_text("/kpi", "a" * (MAX_TEXT_CHARS + 1))


def test_a_megabyte_of_text_is_refused_with_the_usage() -> None:
    with pytest.raises(BadArguments, match=r"Usage: `/pipeline"):
        check_text("/pipeline", "x " * 500_000)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\ud800"])
def test_control_characters_and_lone_surrogates_are_refused(char: str) -> None:
    with pytest.raises(BadArguments, match=f"U\\+{ord(char):04X}"):
        check_text("/kpi", f"jane{char}doe")


def test_tabs_and_newlines_are_plain_whitespace() -> None:
    check_text("/kpi", "jane\tlast-quarter\r\n")


@pytest.mark.parametrize(
    "word",
    ["0001", "0001-Q1", "0001-01", "9999", "9999-Q4", "9999-12", "0001-01-01..9999-12-31",
     "1899-12", f"{LAST_YEAR + 1}", f"{LAST_YEAR}-12-31..{LAST_YEAR + 1}-01-02"],
)  # fmt: skip
@pytest.mark.parametrize("tz", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_periods_outside_the_supported_years_are_a_clear_unknown_period(word: str, tz: str) -> None:
    with pytest.raises(UnknownPeriod, match=f"outside the years {FIRST_YEAR}-{LAST_YEAR}"):
        parse_period(word, tz=ZoneInfo(tz), now=NOW)


@pytest.mark.parametrize("fiscal_start", [1, 2, 12])
def test_the_first_and_last_supported_years_work_with_their_previous_period(
    fiscal_start: int,
) -> None:
    for word in (f"{FIRST_YEAR}", f"{FIRST_YEAR}-Q1", f"{LAST_YEAR}-Q4", f"{LAST_YEAR}-12"):
        period = parse_period(
            word, tz=ZoneInfo("Pacific/Kiritimati"), fiscal_year_start_month=fiscal_start, now=NOW
        )
        previous = period.previous()
        assert previous.end == period.start
        assert period.end.astimezone(UTC) > period.start.astimezone(UTC)
