"""The end of `salesops demo`, "What the bot answers in Slack", is answered at the demo's own
`--now`, and each command line it prints repeats that time, unwrapped at any width, so copying
it gives the same answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app


def test_demo_answers_at_its_own_now_and_prints_commands_that_repeat_it(
    database_url: str,
    sessions: sessionmaker[Session],  # empties the tables afterwards
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    now = "2025-05-14T15:30:00+00:00"  # a quarter the clock has left behind
    result = CliRunner().invoke(app, ["demo", "--scale", "0.2", "--seed", "3", "--now", now])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines at the terminal width
    shown = said.split("What the bot answers in Slack", 1)[1]
    assert "this-quarter (2025-Q2)" in shown
    assert "2025-04-01 to 2025-06-30" in shown
    assert shown.count(f"--now {now}") == 3  # /kpi and /pipeline for the rep, /team
    commands = [line for line in result.output.splitlines() if line.startswith("$ salesops")]
    assert len(commands) == 3  # each on one line, wider than 80 columns but never wrapped
    assert all(line.endswith(f"--now {now}") and len(line) > 80 for line in commands)
