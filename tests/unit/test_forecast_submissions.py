"""The forecast form without a database: typed amounts, the checks and their messages, the
quarter offered first (before and after its cut-off, at quarter boundaries in a non-UTC org),
the modal's view and the confirmation."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from commands.forecast_modal import (
    FORECAST_CALLBACK,
    ForecastForm,
    FormOrigin,
    confirmation,
    forecast_view,
    read_submission,
)
from salesops_core.config import OrgConfig
from salesops_core.forecast.submissions import (
    ForecastEntry,
    FormField,
    InvalidForecast,
    default_quarter,
    open_quarters,
    parse_money,
    quarter_named,
    read_form,
)
from salesops_core.kpi.format import ordinal

UTC_ORG = OrgConfig()
NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)  # in 2026-Q4


@pytest.mark.parametrize(
    ("typed", "amount"),
    [
        ("250000", 250_000),
        ("250,000", 250_000),
        ("$250,000", 250_000),
        ("$250k", 250_000),
        ("250K", 250_000),
        ("1.2M", 1_200_000),
        ("$1.25m", 1_250_000),
        ("2b", 2_000_000_000),
        ("250k USD", 250_000),
        (" 99.5 ", 99.5),
        ("0", 0),
    ],
)
def test_typed_amounts_are_read_as_dollars(typed: str, amount: float) -> None:
    assert parse_money(typed) == amount


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("lots", "'lots' is not an amount; e.g. 250000, $250,000, 250k or 1.2M"),
        ("250kk", "'250kk' is not an amount; e.g. 250000, $250,000, 250k or 1.2M"),
        ("-5000", "negative amount -5000; amounts must be 0 or more"),
        ("(5k)", "'(5k)' is not an amount; e.g. 250000, $250,000, 250k or 1.2M"),
        ("€250k", "forecasts are in dollars; type the amount without EUR"),
        ("1e17", "amount 1e17 is too large; amounts must be below 10,000,000,000,000,000"),
        ("20000000b", "amount 20000000b is too large; amounts must be below "
                      "10,000,000,000,000,000"),
    ],
)  # fmt: skip
def test_amounts_that_are_not_dollars_say_why(typed: str, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_money(typed)
    assert str(raised.value) == message


def errors_of(**fields: str | None) -> dict[FormField, str]:
    values = {"period": "2027-Q1", "commit": "250k", "best_case": None, "note": None} | fields
    with pytest.raises(InvalidForecast) as raised:
        read_form(values["period"], values["commit"], values["best_case"], values["note"],
                  org=UTC_ORG, now=NOW)  # fmt: skip
    return raised.value.errors


def test_a_good_form_is_read_with_the_quarter_amounts_and_note() -> None:
    entry = read_form("2027-Q1", "$250k", "320,000", "  Acme renewal  ", org=UTC_ORG, now=NOW)
    assert entry == ForecastEntry(quarter_named("2027-Q1", UTC_ORG, NOW), 250_000, 320_000,
                                  "Acme renewal")  # fmt: skip
    assert (entry.period.start, entry.period.end) == (
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2027, 4, 1, tzinfo=UTC),
    )


def test_best_case_and_note_are_optional() -> None:
    entry = read_form("2027-Q1", "1.2M", "", "   ", org=UTC_ORG, now=NOW)
    assert (entry.commit, entry.best_case, entry.note) == (1_200_000, None, None)


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"commit": ""},
         {FormField.COMMIT: "type your commit, e.g. 250000, $250,000, 250k or 1.2M"}),
        ({"commit": "-1"}, {FormField.COMMIT: "negative amount -1; amounts must be 0 or more"}),
        ({"commit": "a lot"},
         {FormField.COMMIT: "'a lot' is not an amount; e.g. 250000, $250,000, 250k or 1.2M"}),
        ({"best_case": "200k"}, {FormField.BEST_CASE: "the best case cannot be below the commit"}),
        ({"best_case": "-3"},
         {FormField.BEST_CASE: "negative amount -3; amounts must be 0 or more"}),
        ({"period": "2026-Q3"},
         {FormField.PERIOD: "2026-Q3 has ended; forecast a quarter still to come"}),
        ({"period": "2026-05"},
         {FormField.PERIOD: "forecasts are per quarter; 2026-05 is not one (e.g. 2026-Q2)"}),
        ({"period": None}, {FormField.PERIOD: "choose the quarter"}),
        ({"note": "x" * 2001}, {FormField.NOTE: "at most 2,000 characters"}),
        ({"note": "a\x00b"}, {FormField.NOTE: "the note holds a control character; retype it"}),
        ({"commit": "x", "best_case": "y", "period": "2026-Q1"},
         {FormField.PERIOD: "2026-Q1 has ended; forecast a quarter still to come",
          FormField.COMMIT: "'x' is not an amount; e.g. 250000, $250,000, 250k or 1.2M",
          FormField.BEST_CASE: "'y' is not an amount; e.g. 250000, $250,000, 250k or 1.2M"}),
    ],
)  # fmt: skip
def test_each_wrong_field_gets_its_own_message(
    fields: dict[str, str | None], errors: dict[FormField, str]
) -> None:
    assert errors_of(**fields) == errors


def test_a_multiline_note_is_kept() -> None:
    entry = read_form("2027-Q1", "1", None, "line one\nline two", org=UTC_ORG, now=NOW)
    assert entry.note == "line one\nline two"


def labels(*periods) -> list[str]:  # type: ignore[no-untyped-def]
    return [p.label for p in periods]


def test_the_next_quarter_is_offered_first_with_the_default_cutoff() -> None:
    assert labels(*open_quarters(NOW, UTC_ORG)) == ["2026-Q4", "2027-Q1"]
    assert default_quarter(NOW, UTC_ORG).label == "2027-Q1"
    start_of_q4 = datetime(2026, 10, 1, tzinfo=UTC)  # the cut-off itself: too late
    assert default_quarter(start_of_q4, UTC_ORG).label == "2027-Q1"


def test_the_running_quarter_is_offered_until_its_cutoff() -> None:
    org = OrgConfig(forecast_cutoff_days=10)  # Q4's cut-off: 2026-10-11 00:00 UTC
    assert default_quarter(datetime(2026, 10, 10, 23, 59, tzinfo=UTC), org).label == "2026-Q4"
    assert default_quarter(datetime(2026, 10, 11, tzinfo=UTC), org).label == "2027-Q1"


def test_quarter_boundaries_are_the_org_time_zones() -> None:
    org = OrgConfig(timezone="America/Los_Angeles", forecast_cutoff_days=5)
    # 2027-01-01 05:00 UTC is Dec 31 21:00 in Los Angeles: still 2026-Q4 there
    new_year_in_london = datetime(2027, 1, 1, 5, 0, tzinfo=UTC)
    assert labels(*open_quarters(new_year_in_london, org)) == ["2026-Q4", "2027-Q1"]
    assert default_quarter(new_year_in_london, org).label == "2027-Q1"
    # 08:00 UTC is midnight in Los Angeles (PST, -8): 2027-Q1 runs, 5 days to its cut-off
    midnight = datetime(2027, 1, 1, 8, 0, tzinfo=UTC)
    assert labels(*open_quarters(midnight, org)) == ["2027-Q1", "2027-Q2"]
    assert default_quarter(midnight, org).label == "2027-Q1"
    cutoff = datetime(2027, 1, 6, 8, 0, tzinfo=UTC)  # Jan 6 00:00 PST
    assert default_quarter(cutoff, org).label == "2027-Q2"
    assert quarter_named("2027-Q1", org, NOW).start == datetime(2027, 1, 1, 8, 0, tzinfo=UTC)


def test_a_fiscal_year_names_its_quarters() -> None:
    org = OrgConfig(fiscal_year_start_month=2)  # 2027-Q4 is 2026-11-01 .. 2027-02-01
    assert labels(*open_quarters(NOW, org)) == ["2027-Q4", "2028-Q1"]


@pytest.mark.parametrize(("n", "text"), [(1, "1st"), (2, "2nd"), (3, "3rd"), (4, "4th"),
                                         (11, "11th"), (12, "12th"), (13, "13th"), (21, "21st"),
                                         (102, "102nd"), (111, "111th")])  # fmt: skip
def test_ordinals(n: int, text: str) -> None:
    assert ordinal(n) == text


def form() -> ForecastForm:
    current, following = open_quarters(NOW, UTC_ORG)
    return ForecastForm(quarters=(current, following), chosen=following)


def test_the_modal_offers_both_quarters_with_the_chosen_one_selected() -> None:
    view = forecast_view(form(), FormOrigin("C0SALES"), UTC_ORG, NOW)
    assert view["callback_id"] == FORECAST_CALLBACK
    assert json.loads(view["private_metadata"]) == {"channel": "C0SALES", "team_id": None}
    blocks = view["blocks"]
    assert [b.get("block_id") for b in blocks if b["type"] == "input"] == [
        "period", "commit", "best_case", "note"
    ]  # fmt: skip
    select = blocks[1]["element"]
    assert [o["value"] for o in select["options"]] == ["2026-Q4", "2027-Q1"]
    assert [o["text"]["text"] for o in select["options"]] == [
        "2026-Q4 (this quarter)",
        "2027-Q1 (starts Jan 1)",
    ]
    assert select["initial_option"]["value"] == "2027-Q1"
    cutoffs = [e["text"] for e in blocks[2]["elements"]]
    assert "*2026-Q4*: its cut-off (" in cutoffs[0] and "no longer counts" in cutoffs[0]
    assert "Thu Oct 1, 00:00 UTC" in cutoffs[0]
    assert cutoffs[1].startswith("*2027-Q1*: counts for accuracy if submitted before <!date^")
    assert "Fri Jan 1, 00:00 UTC" in cutoffs[1]
    assert [b.get("optional", False) for b in blocks if b["type"] == "input"] == [
        False, False, True, True
    ]  # fmt: skip


def submitted(period: str | None, commit: str, best: str | None = None) -> dict:  # type: ignore[type-arg]
    option = {"selected_option": {"value": period}} if period else {"selected_option": None}
    return {"state": {"values": {
        "period": {"value": {"type": "static_select", **option}},
        "commit": {"value": {"type": "plain_text_input", "value": commit}},
        "best_case": {"value": {"type": "plain_text_input", "value": best}},
        "note": {"value": {"type": "plain_text_input", "value": None}},
    }}}  # fmt: skip


def test_the_submitted_view_is_read_by_block_id() -> None:
    entry = read_submission(submitted("2027-Q1", "250k", "320k"), UTC_ORG, NOW)
    assert (entry.period.label, entry.commit, entry.best_case) == ("2027-Q1", 250_000, 320_000)
    with pytest.raises(InvalidForecast) as raised:
        read_submission(submitted("2027-Q1", "300k", "250k"), UTC_ORG, NOW)
    assert raised.value.errors == {FormField.BEST_CASE: "the best case cannot be below the commit"}


def test_the_confirmation_names_the_amounts_quarter_and_cutoff() -> None:
    entry = read_form("2027-Q1", "250k", "320k", None, org=UTC_ORG, now=NOW)
    text = confirmation(entry, None, UTC_ORG, NOW)
    assert text.startswith(
        "Commit $250,000 and best case $320,000 for 2027-Q1 recorded. "
        "It counts for accuracy until <!date^1798761600^"
    )
    assert text.endswith("|Fri Jan 1, 00:00 UTC>. `/forecast 2027-Q1` shows it.")
    late = read_form("2026-Q4", "90k", None, None, org=UTC_ORG, now=NOW)
    late_text = confirmation(late, None, UTC_ORG, NOW)
    assert late_text.startswith(
        "Commit $90,000 for 2026-Q4 recorded. Its cut-off for accuracy (<!date^1790812800^"
    )
    assert late_text.endswith("`/forecast 2026-Q4` shows it.")
    assert confirmation(entry, "NA East", UTC_ORG, NOW) == (
        "Team call for NA East: commit $250,000 and best case $320,000 for 2027-Q1 recorded. "
        "`/forecast team 2027-Q1` shows it next to the reps' commits."
    )
