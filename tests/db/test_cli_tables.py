"""CLI tables read whole at 80 columns when piped: no value cut to "Bianc…", no line wider
than the terminal; a column left out to fit is named."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.cli.tables import Column, fitted_table
from salesops_core.db.models import Deal, Lead, Outbox, OutboxStatus, Outcome, Rep, Team
from tests.support.command_org import NOW, build_org, t

LONG_NAME = "Bianca Rossi-Fernández"
LONG_COMPANY = "Northwind Traders International"
DEAD_REASON = "channel_not_found: the channel #na-west-sales-leadership does not exist"


@pytest.fixture
def org(sessions: sessionmaker[Session]) -> None:
    """The command org, plus a rep with a long name who has won, lost and open deals and an
    open lead, and a dead outbox row with a long reason."""
    with sessions() as session:
        build_org(session)  # commits
        west = session.scalars(select(Team).where(Team.name == "West")).one()
        bianca = Rep(name=LONG_NAME, email="bianca@example.com", team=west)
        session.add(bianca)
        session.flush()
        for n, (amount, outcome) in enumerate(
            [(278_600, Outcome.WON), (12_000, Outcome.LOST), (805_700, Outcome.OPEN)]
        ):
            closed = t(11, 2) if outcome != Outcome.OPEN else None
            session.add(
                Deal(external_id=f"B{n}", owner_id=bianca.id, amount=amount, stage="Proposal",
                     outcome=outcome, probability=0.5, created_at=t(9, 1), closed_at=closed,
                     expected_close=t(12, 20))
            )  # fmt: skip
        session.add(
            Lead(external_id="LEAD-000123", owner_id=bianca.id, source="web_demo_request",
                 company=LONG_COMPANY, created_at=NOW - timedelta(minutes=426.8))
        )  # fmt: skip
        session.add(
            Outbox(dedupe_key="dead-1", kind="lead_alert", channel="#na-west-sales-leadership",
                   payload={}, status=OutboxStatus.DEAD, attempts=1, next_attempt_at=NOW,
                   created_at=NOW, last_error=DEAD_REASON)
        )  # fmt: skip
        session.commit()


def piped(args: list[str], database_url: str, cwd: Path) -> str:
    """The command's stdout at COLUMNS=80 through a pipe."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("SALESOPS_", "SLACK_"))}
    environment.update(DATABASE_URL=database_url, COLUMNS="80")
    done = subprocess.run(
        [sys.executable, "-c", "from bot.cli.main import main; main()", *args],
        capture_output=True, text=True, cwd=cwd, env=environment, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def assert_readable(text: str, *whole: str) -> None:
    assert "…" not in text
    assert max(len(line) for line in text.splitlines()) <= 80
    words = text.split()
    for value in whole:  # each word of the value on one line, uncut
        assert all(word in words for word in value.split()), value


NOW_ARG = ["--now", NOW.isoformat()]


def test_kpi_team_leaderboard_fits_80_columns(org: None, database_url: str, tmp_path: Path) -> None:
    text = piped(["kpi", "--team", "West", *NOW_ARG], database_url, tmp_path)
    assert_readable(text, LONG_NAME, "$278,600", "$805,700")


def test_org_leaderboard_fits_80_columns(org: None, database_url: str, tmp_path: Path) -> None:
    text = piped(["kpi", *NOW_ARG], database_url, tmp_path)
    assert_readable(text, LONG_NAME, "$278,600")


def test_leads_table_fits_80_columns_with_human_waits(
    org: None, database_url: str, tmp_path: Path
) -> None:
    text = piped(["leads", *NOW_ARG], database_url, tmp_path)
    assert_readable(text, LONG_COMPANY, LONG_NAME, "LEAD-000123")
    assert "3 h" in text  # business minutes since 09:00


def test_outbox_table_fits_80_columns(org: None, database_url: str, tmp_path: Path) -> None:
    text = piped(["outbox"], database_url, tmp_path)
    assert_readable(text, DEAD_REASON)


def test_an_empty_outbox_says_so_in_one_line(
    sessions: sessionmaker[Session], database_url: str, tmp_path: Path
) -> None:
    text = piped(["outbox"], database_url, tmp_path)
    assert text == "The outbox is empty: nothing queued, sent or failed.\n"


def test_nudges_dry_run_fits_80_columns(org: None, database_url: str, tmp_path: Path) -> None:
    text = piped(["nudges", "--dry-run", *NOW_ARG], database_url, tmp_path)
    assert_readable(text, "Jane Doe")


def test_columns_that_cannot_fit_are_left_out_lowest_rank_first_and_named() -> None:
    console = Console(width=50, record=True)
    columns = [
        Column("rep"),
        Column("won", number=True),
        Column("team", drop=0),
        Column("meetings", number=True, drop=1),
    ]
    rows = [[LONG_NAME, "$278,600", "NA West Enterprise", "12.5"]]
    console.print(fitted_table(console, columns, rows, hint="use --format json"))
    text = console.export_text()
    assert "team" not in text.split("Not shown")[0]
    assert "meetings" in text.split("Not shown")[0]
    assert "Not shown, to fit the width: team; use --format json" in " ".join(text.split())
    assert_readable(text, LONG_NAME, "$278,600", "12.5")
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 50
