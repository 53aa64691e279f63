"""A mistake in salesops.toml is one line in our words: the file, the section and key, what is
wrong and, where we can tell, what was meant."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from bot.cli.main import main
from bot.settings import load_settings
from salesops_core.errors import ConfigError


def problem(tmp_path: Path, toml: str) -> str:
    """The ConfigError message load_settings gives for this salesops.toml."""
    path = tmp_path / "salesops.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as raised:
        load_settings(path)
    return str(raised.value)


def test_an_unknown_key_is_named_with_its_section_and_the_key_meant(tmp_path: Path) -> None:
    assert problem(tmp_path, "[org]\nfiscal_year_start = 4\n") == (
        f"{tmp_path / 'salesops.toml'}: unknown key `fiscal_year_start` in [org]; "
        "did you mean `fiscal_year_start_month`?"
    )


def test_an_unknown_key_with_no_near_match_lists_the_keys_of_its_section(
    tmp_path: Path,
) -> None:
    said = problem(tmp_path, '[digest]\ncolour = "blue"\n')
    assert said.endswith(
        "unknown key `colour` in [digest]; its keys are weekday, time, period, channels, "
        "region_recipients"
    )


def test_an_unknown_section_suggests_the_one_meant(tmp_path: Path) -> None:
    said = problem(tmp_path, "[nudge]\ndaily_budget = 2\n")
    assert said.endswith("unknown section [nudge]; did you mean [nudges]?")


def test_a_wrong_type_says_what_the_key_must_be_and_what_it_got(tmp_path: Path) -> None:
    said = problem(tmp_path, '[nudges]\ndaily_budget = "three"\n')
    assert said.endswith('[nudges] daily_budget must be a whole number, got "three"')
    said = problem(tmp_path, "[nudges]\nselling_time_target = 2\n")
    assert said.endswith("[nudges] selling_time_target must be at most 1, got 2")
    said = problem(tmp_path, '[[sla]]\nsource = "*"\n\n[[sla]]\nfirst_response_minutes = "5m"\n')
    assert said.endswith('[[sla]] number 2: first_response_minutes must be a number, got "5m"')
    said = problem(tmp_path, '[[sla]]\nbusiness_hours = "yes please"\n')
    assert said.endswith('[[sla]] number 1: business_hours must be true or false, got "yes please"')


def test_our_own_checks_read_without_pydantic_words(tmp_path: Path) -> None:
    said = problem(tmp_path, '[org]\ntimezone = "Mars/Olympus"\n')
    assert said.endswith(
        "[org] timezone: unknown time zone 'Mars/Olympus'; use an IANA name such as Europe/Berlin"
    )
    assert "Value error" not in said and "Input should" not in said


def test_bad_toml_syntax_names_the_line(tmp_path: Path) -> None:
    said = problem(tmp_path, '[org]\ntimezone = "UTC"\nfiscal_year_start_month =\n')
    assert said.startswith(f"{tmp_path / 'salesops.toml'}: not valid TOML at line 3")


@pytest.mark.parametrize("code", ["XX", "US-XX"])
def test_an_unknown_holiday_country_is_an_error_pointing_to_the_valid_codes(
    tmp_path: Path, code: str
) -> None:
    said = problem(tmp_path, f'[org]\nholiday_country = "{code}"\n')
    assert f"[org] holiday_country: {code!r} is not a country the holidays library knows" in said
    assert "https://github.com/vacanza/holidays#available-countries" in said


@pytest.mark.parametrize("code", ["US", "us", "US-CA", "DE-BY", "GB"])
def test_a_known_holiday_country_or_subdivision_is_accepted(tmp_path: Path, code: str) -> None:
    path = tmp_path / "salesops.toml"
    path.write_text(f'[org]\nholiday_country = "{code}"\n')
    assert load_settings(path).org.holiday_country == code.upper()


@pytest.mark.parametrize("command", [["kpi"], ["serve"], ["doctor"]])
def test_every_command_that_loads_the_config_says_the_problem_in_one_line(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    (tmp_path / "salesops.toml").write_text("[org]\nfiscal_year_start = 4\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    monkeypatch.setattr(sys, "argv", ["salesops", *command])
    with pytest.raises(SystemExit) as stopped:
        main()
    out, err = capsys.readouterr()
    lines = [line for line in (out + err).splitlines() if line.strip()]
    assert stopped.value.code == 1
    assert len(lines) == 1, out + err
    assert lines[0].endswith(
        "salesops.toml: unknown key `fiscal_year_start` in [org]; "
        "did you mean `fiscal_year_start_month`?"
    )


def test_a_misspelt_digest_weekday_names_the_value_once_and_the_weekdays(tmp_path: Path) -> None:
    assert problem(tmp_path, '[digest]\nweekday = "mondya"\n').endswith(
        "salesops.toml: [digest] weekday: 'mondya' is not a weekday; use one of monday, tuesday, "
        "wednesday, thursday, friday, saturday, sunday"
    )
