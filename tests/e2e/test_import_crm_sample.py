"""The public "CRM Sales Opportunities" sample (Maven Analytics / Kaggle) through the console
script: its sales-team file lists agents with their manager's name and region only, and its
pipeline file uses its own column names and stages (fixture rows copied in its shape)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased, sessionmaker

from salesops_core.db.models import Deal, Outcome, Rep, Role, Team
from tests.support.import_helpers import FIXTURES

SAMPLE = FIXTURES / "crm-sales-opportunities"
TEAM_MAP = ("--map", "name=sales_agent", "--map", "manager=manager")
TEAM_MAP += ("--map", "region=regional_office")
PIPELINE_MAP = ("--map", "external_id=opportunity_id", "--map", "owner=sales_agent")
PIPELINE_MAP += ("--map", "stage=deal_stage", "--map", "created_at=engage_date")
PIPELINE_MAP += ("--map", "close_date=close_date", "--map", "amount=close_value")
MANAGERS = {
    "Dustin Brinkmann": "Central",
    "Melvin Marxen": "Central",
    "Cara Losch": "East",
    "Rocco Neubert": "East",
    "Summer Sewald": "West",
    "Celia Rouche": "West",
}


def salesops(database_url: str, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script's entry point in a fresh process."""
    env = {**os.environ, "DATABASE_URL": database_url, "SALESOPS_TIMEZONE": "UTC"}
    env.pop("SALESOPS_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-c", "from bot.cli.main import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )


def day(year: int, month: int, date: int) -> datetime:
    """Midnight UTC (the org time zone of these tests)."""
    return datetime(year, month, date, tzinfo=UTC)


def org_chart(sessions: sessionmaker[Session]) -> dict[str, tuple[Role, str, str | None, str]]:
    """{rep name: (role, team, team region, manager name or "")}."""
    manager = aliased(Rep)
    with sessions() as session:
        rows = session.execute(
            select(Rep.name, Rep.role, Team.name, Team.region, manager.name)
            .outerjoin(Team, Rep.team_id == Team.id)
            .outerjoin(manager, Rep.manager_id == manager.id)
        ).all()
    return {name: (role, team, region, boss or "") for name, role, team, region, boss in rows}


def test_sales_team_file_without_create_missing_names_the_flag_and_writes_nothing(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    result = salesops(
        database_url,
        tmp_path,
        "import",
        "--kind",
        "reps",
        *TEAM_MAP,
        str(SAMPLE / "sales_teams.csv"),
    )
    assert result.returncode == 1
    assert (
        "sales_teams.csv lines 2-5 (4 rows), column manager: unknown manager 'Dustin Brinkmann'; "
        "list them in this file, import them first, or pass --create-missing to create them"
    ) in result.stderr
    assert "Traceback" not in result.stderr
    assert org_chart(sessions) == {}


def test_sales_team_file_with_create_missing_creates_the_managers_and_their_teams(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    args = ("import", "--kind", "reps", *TEAM_MAP, "--create-missing")
    result = salesops(database_url, tmp_path, *args, str(SAMPLE / "sales_teams.csv"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "reps: 14 created, 0 updated, 0 unchanged",
        "note: 6 team(s) created",
        "note: 6 manager(s) created (--create-missing): " + ", ".join(MANAGERS),
    ]
    chart = org_chart(sessions)
    assert len(chart) == 20
    for manager, region in MANAGERS.items():
        assert chart[manager] == (Role.MANAGER, f"Team {manager}", region, "")
    assert chart["Anna Snelling"] == (
        Role.REP,
        "Team Dustin Brinkmann",
        "Central",
        "Dustin Brinkmann",
    )
    assert chart["Hayden Neloms"] == (Role.REP, "Team Celia Rouche", "West", "Celia Rouche")
    agents = [name for name in chart if name not in MANAGERS]
    assert all(chart[a][0] == Role.REP and chart[a][3] in MANAGERS for a in agents)

    again = salesops(database_url, tmp_path, *args, str(SAMPLE / "sales_teams.csv"))
    assert again.returncode == 0, again.stderr
    assert again.stdout == "reps: 0 created, 0 updated, 14 unchanged\n"
    assert org_chart(sessions) == chart


def test_pipeline_file_imports_onto_the_agents_with_its_stage_map(
    database_url: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    teams = ("import", "--kind", "reps", *TEAM_MAP, "--create-missing")
    assert salesops(database_url, tmp_path, *teams, str(SAMPLE / "sales_teams.csv")).returncode == 0
    pipeline = tmp_path / "sales_pipeline.csv"
    pipeline.write_bytes((SAMPLE / "sales_pipeline.csv").read_bytes())
    args = (
        "import",
        "--kind",
        "deals",
        *PIPELINE_MAP,
        "--stage-map",
        str(SAMPLE / "stage_map.csv"),
    )
    result = salesops(database_url, tmp_path, *args, "--skip-invalid", str(pipeline))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(
        "deals: 8 created, 0 updated, 0 unchanged, 2 rejected; "
        "4 stage(s) saved to the stage map; 8 stage change(s) recorded\n"
    )
    rejected = (tmp_path / "sales_pipeline.rejected.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in rejected[1:]] == ["6CVQ7U6K", "RCQHBWRX"]
    assert all("created_at is required but empty" in line for line in rejected[1:])
    with sessions() as session:
        deals = {
            d.external_id: (d.owner.name, d.stage, d.outcome, d.amount, d.created_at, d.closed_at)
            for d in session.scalars(select(Deal))
        }
    assert deals["1C1I7A6R"] == (
        "Moses Frase", "Won", Outcome.WON, 1054, day(2016, 10, 20), day(2017, 3, 1)
    )  # fmt: skip
    assert deals["PE84CX4O"] == (
        "Boris Faz", "Lost", Outcome.LOST, 0, day(2016, 10, 30), day(2017, 3, 2)
    )  # fmt: skip
    assert deals["HAXMC4IX"] == (
        "James Ascencio", "Engaging", Outcome.OPEN, None, day(2017, 10, 19), None
    )  # fmt: skip
    assert len(deals) == 8
