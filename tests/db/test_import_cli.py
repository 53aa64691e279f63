"""`salesops import` through the real CLI (typer's CliRunner) against the test database."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.db.models import Deal, Lead
from tests.support.import_helpers import FIXTURES, SALESFORCE


@pytest.fixture
def cli(
    database_url: str,
    sessions: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
):  # type: ignore[no-untyped-def]
    """Run `salesops ...` in tmp_path against the test database; (exit code, output)."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    env = {"DATABASE_URL": database_url, "SALESOPS_TIMEZONE": "UTC"}

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        return result.exit_code, result.output

    return run


def deal_count(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(Deal)) or 0


def test_cli_imports_salesforce_opportunities_and_a_rerun_changes_nothing(
    cli, sessions: sessionmaker[Session]
) -> None:  # type: ignore[no-untyped-def]
    assert cli("import", str(FIXTURES / "reps.csv"), "--kind", "reps") == (
        0,
        "reps: 6 created, 0 updated, 0 unchanged\nnote: 2 team(s) created\n",
    )
    args = ("import", str(SALESFORCE / "Opportunity.csv"), "--kind", "deals")
    args += ("--format", "salesforce", "--owners", str(FIXTURES / "sf_owners.csv"))
    code, out = cli(*args)
    assert code == 0
    assert out.startswith(
        "deals: 50 created, 0 updated, 0 unchanged; 3 stage(s) saved to the stage map; "
        "50 stage change(s) recorded\n"
    )
    code, out = cli(*args)
    assert (code, out.splitlines()[0]) == (0, "deals: 0 created, 0 updated, 50 unchanged")
    assert deal_count(sessions) == 50


def test_cli_bad_file_exits_1_lists_errors_and_writes_nothing(
    cli, sessions: sessionmaker[Session], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cli("import", str(FIXTURES / "reps.csv"), "--kind", "reps")
    bad = tmp_path / "deals.csv"
    bad.write_text((FIXTURES / "deals.csv").read_text().replace('"$12,500.00"', "-500"))
    code, out = cli(
        "import", str(bad), "--kind", "deals", "--stage-map", str(FIXTURES / "stage_map.csv")
    )
    assert code == 1
    assert out == (
        "error: import failed, nothing was written: 1 error(s) in 1 of 4 rows:\n"
        "  deals.csv line 2, column amount: negative amount -500; amounts must be 0 or more\n"
    )
    assert deal_count(sessions) == 0


def test_cli_skip_invalid_writes_rejected_csv_beside_the_input(
    cli, sessions: sessionmaker[Session], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cli("import", str(FIXTURES / "reps.csv"), "--kind", "reps")
    shutil.copy(FIXTURES / "deals.csv", tmp_path / "deals.csv")
    text = (tmp_path / "deals.csv").read_text().replace("Alan Turing,4000", "Nobody,4000")
    (tmp_path / "deals.csv").write_text(text)
    code, out = cli(
        "import",
        str(tmp_path / "deals.csv"),
        "--kind",
        "deals",
        "--skip-invalid",
        "--stage-map",
        str(FIXTURES / "stage_map.csv"),
    )
    rejected = tmp_path / "deals.rejected.csv"
    assert code == 0
    assert f"1 row(s) rejected, written with their reasons to {rejected}" in out
    rows = list(csv.DictReader(rejected.open(encoding="utf-8")))
    assert [(r["external_id"], r["line"]) for r in rows] == [("D-2", "3")]
    assert rows[0]["reason"].startswith("owner: unknown owner 'Nobody'")
    assert deal_count(sessions) == 3


def test_cli_dry_run_counts_but_writes_nothing(cli, sessions: sessionmaker[Session]) -> None:  # type: ignore[no-untyped-def]
    cli("import", str(FIXTURES / "reps.csv"), "--kind", "reps")
    code, out = cli(
        "import",
        str(FIXTURES / "deals.csv"),
        "--kind",
        "deals",
        "--dry-run",
        "--stage-map",
        str(FIXTURES / "stage_map.csv"),
    )
    assert code == 0
    assert out.startswith("dry run, nothing written: deals: 4 created, 0 updated, 0 unchanged")
    assert deal_count(sessions) == 0


def test_imported_leads_get_their_business_hours_sla_deadline(
    cli, sessions: sessionmaker[Session], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "salesops.toml").write_text('[[sla]]\nsource = "*"\nfirst_response_minutes = 5\n')
    assert cli("import", str(FIXTURES / "reps.csv"), "--kind", "reps")[0] == 0
    code, output = cli("import", str(FIXTURES / "leads.csv"), "--kind", "leads")
    assert code == 0, output
    with sessions() as session:
        leads = session.scalars(select(Lead)).all()
    assert leads and all(lead.sla_due_at is not None for lead in leads)
    assert all(lead.sla_due_at > lead.created_at for lead in leads)
