"""`salesops forecast snapshot` and `salesops forecast history` from the command line, on the
hand-built org of `tests/support/snapshot_org.py` (its numbers are worked out there)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.errors import SalesopsError
from tests.support.snapshot_org import build_snapshot_org

NOW = "2026-11-04T12:00:00+00:00"
NEXT_MONDAY = "2026-11-09T06:00:00+00:00"


@pytest.fixture
def org(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        build_snapshot_org(session)


def run(args: list[str], database_url: str):  # type: ignore[no-untyped-def]
    env = {"DATABASE_URL": database_url, "SALESOPS_TIMEZONE": "UTC", "SALESOPS_CONFIG": ""}
    return CliRunner().invoke(app, ["forecast", *args], env=env)


def test_snapshot_says_what_it_took_and_a_second_run_that_week_takes_nothing(
    org: None, database_url: str
) -> None:
    first = run(["snapshot", "--now", NOW], database_url)
    assert first.exit_code == 0, first.output
    assert first.output == (
        "Snapshot for the week of 2026-11-02 (2026-Q4, 2027-Q1): 4 taken for 2 reps; "
        "0 already taken\n"
    )
    again = run(["snapshot", "--now", "2026-11-06T09:00"], database_url)
    assert again.output == (
        "Snapshot for the week of 2026-11-02 (2026-Q4, 2027-Q1): 0 taken for 2 reps; "
        "4 already taken\n"
    )


def test_history_gives_a_teams_weeks_as_json(org: None, database_url: str) -> None:
    for moment in (NOW, NEXT_MONDAY):
        assert run(["snapshot", "--now", moment], database_url).exit_code == 0
    args = ["history", "--team", "East", "--period", "2026-Q4", "--weeks", "3", "--now"]
    result = run([*args, "2026-11-10T08:00", "--format", "json"], database_url)
    assert result.exit_code == 0, result.output
    body = json.loads(result.output)
    assert body["scope"]["name"] == "East"
    assert body["period"] == {
        "start": "2026-10-01T00:00:00+00:00",
        "end": "2027-01-01T00:00:00+00:00",
        "label": "2026-Q4",
    }
    assert body["weeks"] == [
        {
            "week": "2026-10-26",
            "reps": 0,
            "commit": None,
            "best_case": None,
            "open_pipeline": None,
            "weighted_pipeline": None,
            "taken_at": None,
        },
        {
            "week": "2026-11-02",
            "reps": 2,
            "commit": 12000.0,
            "best_case": 20000.0,
            "open_pipeline": 15000.0,
            "weighted_pipeline": 6500.0,
            "taken_at": "2026-11-04T12:00:00+00:00",
        },
        {
            "week": "2026-11-09",
            "reps": 2,
            "commit": 15000.0,
            "best_case": 20000.0,
            "open_pipeline": 16000.0,
            "weighted_pipeline": 7000.0,
            "taken_at": "2026-11-09T06:00:00+00:00",
        },
    ]


def test_history_as_a_table_shows_each_week_and_one_without_a_snapshot(
    org: None, database_url: str
) -> None:
    assert run(["snapshot", "--now", NOW], database_url).exit_code == 0
    result = run(
        ["history", "--rep", "ann@example.com", "--weeks", "2", "--now", NOW], database_url
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert "Ann Archer (rep) · this-quarter (2026-Q4) · weekly forecast snapshots" in lines[0]
    assert any("2026-10-26" in line and "no snapshot" in line for line in lines)
    week = next(line for line in lines if "2026-11-02" in line)
    cells = [cell.strip() for cell in week.split("│")[1:-1]]
    assert cells == ["2026-11-02", "1", "$12,000", "$20,000", "$13,000", "$5,500"]


def test_history_of_a_month_is_refused_with_what_to_give_instead(
    org: None, database_url: str
) -> None:
    result = run(["history", "--period", "2026-11", "--now", NOW], database_url)
    assert isinstance(result.exception, SalesopsError)
    assert str(result.exception) == (
        "--period 2026-11: snapshots are per quarter; 2026-11 is not one (e.g. 2026-Q4)"
    )


def test_a_bad_period_is_one_line_on_stderr_without_a_traceback(
    org: None, database_url: str, tmp_path: Path
) -> None:
    env = {**os.environ, "DATABASE_URL": database_url, "SALESOPS_TIMEZONE": "UTC"}
    command = "from bot.cli.main import main; main()"
    args = ["forecast", "history", "--period", "2026-Q5"]
    result = subprocess.run(
        [sys.executable, "-c", command, *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error:") and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
