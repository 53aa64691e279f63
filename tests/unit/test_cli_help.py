"""`--help` lists a flag without a value placeholder (`--dry-run`, not `--dry-run <bool>`), and
a mistyped option is a plain message, not a box."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from bot.cli.main import app

FLAGS = {
    "nudges": "--dry-run",
    "digest": "--send-now",
    "demo": "--fresh",
    "import": "--skip-invalid",
    "serve": "--with-scheduler",
    "ask": "--no-charts",
}


def help_of(*args: str) -> str:
    result = CliRunner().invoke(app, [*args, "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    return result.output


@pytest.mark.parametrize("command", FLAGS)
def test_a_flag_in_help_has_no_value_placeholder(command: str) -> None:
    text = help_of(command)
    lines = [line.strip(" │") for line in text.splitlines()]
    flag = next(line for line in lines if line.startswith(FLAGS[command] + " "))
    assert flag.split()[1] != "<bool>", flag
    assert "<bool>" not in text


def test_the_root_help_lists_debug_and_verbose_as_flags() -> None:
    text = help_of()
    assert "<bool>" not in text
    assert "-v, --verbose" in text and "--debug" in text


def test_an_options_value_placeholder_stays() -> None:
    lines = [line.strip(" │").split() for line in help_of("leads").splitlines()]
    assert any(words[:2] == ["--limit", "<int>"] for words in lines)


def test_a_mistyped_option_is_a_plain_message() -> None:
    result = CliRunner().invoke(app, ["kpi", "--tem", "West"], env={"COLUMNS": "80"})
    assert result.exit_code == 2
    assert "Error: No such option: --tem" in result.output
    assert "╭" not in result.output
