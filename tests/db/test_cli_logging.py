"""Log lines go to the log, not into an answer: a one-shot command prints its answer (stdout)
and its errors (one line on stderr) and nothing else; `-v` shows the log on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from tests.support.command_org import build_org


@pytest.fixture
def org(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        build_org(session)  # commits


def salesops(
    args: list[str], database_url: str, cwd: Path, **env: str
) -> subprocess.CompletedProcess:
    """The console script in a fresh process (its logging set up as a user's would be)."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("SLACK_", "SALESOPS_", "DATABASE_URL"))
    }
    environment.update(DATABASE_URL=database_url, COLUMNS="100", **env)
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli.main import main; main()", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=environment,
        timeout=120,
    )


def test_a_refused_ask_is_the_answer_alone_without_the_access_log_line(
    org: None, database_url: str, tmp_path: Path
) -> None:
    done = salesops(["ask", "/team West", "--as", "jane@example.com"], database_url, tmp_path)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: Sorry, `/team` is for managers and admins. `/kpi` and `/quota` show your own "
        "numbers."
    ]


def test_an_answered_ask_leaves_stderr_empty(org: None, database_url: str, tmp_path: Path) -> None:
    args = ["ask", "/kpi", "--as", "jane@example.com", "--no-charts", "--now", "2026-11-16T12:00"]
    done = salesops(args, database_url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Your KPIs")
    assert done.stderr == ""


def test_doctor_reports_slack_in_its_own_line_without_slack_sdk_log_lines(
    org: None, database_url: str, tmp_path: Path
) -> None:
    slack = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_API_URL": "http://127.0.0.1:9/api/"}
    done = salesops(["doctor"], database_url, tmp_path, **slack)
    assert done.returncode == 1
    assert done.stderr == ""
    assert "ERROR" not in done.stdout
    assert [line for line in done.stdout.splitlines() if "slack:" in line] == [
        "FAIL slack: cannot reach http://127.0.0.1:9/api/: <urlopen error [Errno 111] "
        "Connection refused>"
    ]


def test_verbose_shows_the_log_on_stderr(org: None, database_url: str, tmp_path: Path) -> None:
    done = salesops(["-v", "ask", "/team West", "--as", "jane@example.com"], database_url, tmp_path)
    assert done.returncode == 1
    assert "WARNING commands.team: access refused" in done.stderr
    assert done.stdout == ""
