"""`salesops ask`, `serve` and `socket` from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.db.models import Deal, Outcome, Rep
from salesops_core.errors import ConfigError, DatabaseNotReady
from salesops_core.timeutil import utcnow

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def org(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        ann = Rep(name="Ann Lee", email="ann@acme.test")
        session.add(ann)
        session.flush()
        session.add(
            Deal(
                external_id="d1",
                owner_id=ann.id,
                amount=50_000,
                stage="Proposal",
                outcome=Outcome.OPEN,
                probability=0.4,
                created_at=utcnow(),
            )
        )


def run(args: list[str], database_url: str, **env: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, args, env={"DATABASE_URL": database_url, **env})


def test_ask_answers_a_slash_command_as_text_and_writes_its_charts(
    org: None, database_url: str, tmp_path: Path
) -> None:
    charts = tmp_path / "charts"
    result = run(
        ["ask", "/pipeline this-quarter", "--as", "ann@acme.test", "--charts-dir", str(charts)],
        database_url,
    )
    assert result.exit_code == 0, result.output
    assert "Ann Lee" in result.output and "$50" in result.output
    written = sorted(charts.glob("*.png"))
    assert written, "the pipeline chart is written"
    assert all(path.read_bytes().startswith(PNG) for path in written)
    assert f"chart: {written[0]}" in result.output


def test_ask_help_prints_the_usage_without_charts(org: None, database_url: str) -> None:
    result = run(["ask", "/kpi help", "--as", "Ann Lee"], database_url)
    assert result.exit_code == 0, result.output
    assert "/kpi" in result.output and "chart:" not in result.output


def test_ask_as_someone_unknown_is_a_domain_error(org: None, database_url: str) -> None:
    result = run(["ask", "/kpi", "--as", "nobody@acme.test"], database_url)
    assert result.exit_code != 0
    assert "nobody@acme.test" in str(result.exception)


def test_serve_refuses_an_unmigrated_database(tmp_path: Path) -> None:
    result = run(["serve"], f"sqlite:///{tmp_path / 'empty.db'}", SLACK_BOT_TOKEN="xoxb-x")
    assert isinstance(result.exception, DatabaseNotReady)
    assert "salesops migrate" in str(result.exception)


def test_serve_refuses_to_start_without_a_signing_secret(database_url: str) -> None:
    result = run(["serve"], database_url, SLACK_BOT_TOKEN="xoxb-x", SLACK_SIGNING_SECRET="")
    assert isinstance(result.exception, ConfigError)
    assert "SLACK_SIGNING_SECRET" in str(result.exception)


def test_socket_mode_without_an_app_token_says_where_to_get_one(database_url: str) -> None:
    result = run(["socket"], database_url, SLACK_BOT_TOKEN="xoxb-x", SLACK_APP_TOKEN="")
    assert isinstance(result.exception, ConfigError)
    assert "SLACK_APP_TOKEN" in str(result.exception) and "xapp-" in str(result.exception)


def test_the_console_script_prints_one_clear_line_for_an_unmigrated_database(
    tmp_path: Path,
) -> None:
    (tmp_path / "empty.db").touch()  # a database without the schema (a missing file: see
    # tests/db/test_cli_database_url.py)
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = subprocess.run(
        [sys.executable, "-c", "from bot.cli.main import main; main()", "serve"],
        env=env,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1
    assert "error:" in result.stderr and "Run `salesops migrate` first" in result.stderr
    assert "Traceback" not in result.stderr
