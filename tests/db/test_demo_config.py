"""`salesops demo` writes the demo's salesops.toml (tiered SLAs, its time zone) when there is
none, builds the demo with it, and never overwrites an existing one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from bot.settings import load_settings
from salesops_core.errors import DatabaseUnavailable
from salesops_core.leads.views import unmatched_sla_policies


def run_demo(database_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> str:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SALESOPS_TIMEZONE", "Europe/Berlin")
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    now = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    result = CliRunner().invoke(app, ["demo", "--scale", "0.2", "--seed", "3", "--now", now])
    assert result.exit_code == 0, result.output
    return " ".join(result.output.split())


def test_demo_writes_its_config_with_tiered_slas_and_its_time_zone(
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    said = run_demo(database_url, monkeypatch, tmp_path)
    assert "Wrote salesops.toml" in said
    settings = load_settings(tmp_path / "salesops.toml")
    assert settings.org.timezone == "Europe/Berlin"
    tiers = {policy.source: policy.first_response_minutes for policy in settings.sla}
    assert tiers == {"demo-request": 5, "*": 60}
    with sessions() as session:
        assert unmatched_sla_policies(session, settings.sla) == []


def test_demo_keeps_an_existing_config_and_warns_about_its_unmatched_sources(
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    mine = '[[sla]]\nsource = "web_demo_request"\nfirst_response_minutes = 10\n'
    (tmp_path / "salesops.toml").write_text(mine)
    said = run_demo(database_url, monkeypatch, tmp_path)
    assert (tmp_path / "salesops.toml").read_text() == mine
    assert "Wrote" not in said
    assert "did you mean 'demo-request'?" in said


def test_a_database_that_does_not_open_leaves_no_config_behind(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'no-such-folder' / 'demo.db'}")
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    result = CliRunner().invoke(app, ["demo", "--scale", "0.2"])
    assert isinstance(result.exception, DatabaseUnavailable)  # one line from `main`
    assert "no-such-folder does not exist" in str(result.exception)
    assert list(tmp_path.iterdir()) == []  # neither salesops.toml nor a database file
