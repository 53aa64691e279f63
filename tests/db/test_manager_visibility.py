"""A manager with a direct report on another team sees that person, one by one, but not the
team they sit in: /team, /kpi, /pipeline in the app's command code and `salesops ask`."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli.main import app
from commands.base import run_command
from commands.kit.text import reply_as_text
from salesops_core.db.models import Rep, Team
from salesops_core.errors import NotAllowed
from tests.support.command_org import NOW, Org, build_org, context


@pytest.fixture
def org(session: Session) -> Org:
    """The command org, with Eve (team East) reporting to Mia (manager of West), and Sam, a
    rep on East who reports to nobody Mia knows."""
    org = build_org(session)
    eve = session.scalars(select(Rep).where(Rep.name == "Eve Park")).one()
    eve.manager_id = org.manager.rep_id
    east = session.scalars(select(Team).where(Team.name == "East")).one()
    session.add(Rep(name="Sam Stone", email="sam@example.com", team_id=east.id))
    session.commit()
    return org


def answer(session: Session, org: Org, line: str) -> str:
    command, _, text = line.partition(" ")
    return reply_as_text(run_command(session, org.manager, command, text, context()))


@pytest.mark.parametrize(
    ("line", "refusal"),
    [
        ("/team East", "East is not your team"),
        ("/kpi East", "East is not your team"),
        ("/pipeline East", "East is not your team"),
        ("/kpi Sam Stone", "Sam Stone is not on your team"),
        ("/pipeline sam@example.com", "Sam Stone is not on your team"),
    ],
)
def test_a_managers_direct_report_does_not_open_their_team(
    session: Session, org: Org, line: str, refusal: str
) -> None:
    with pytest.raises(NotAllowed, match=refusal):
        answer(session, org, line)


def test_the_manager_sees_the_direct_report_and_their_own_team(session: Session, org: Org) -> None:
    assert "Eve Park: KPIs" in answer(session, org, "/kpi Eve Park")
    assert "Eve Park" in answer(session, org, "/pipeline eve@example.com")
    own_team = answer(session, org, "/team")
    assert "West · this-quarter" in own_team
    assert "Sam Stone" not in own_team and "Eve Park" not in own_team


def test_ask_as_the_manager_is_refused_the_reports_team(
    session: Session, org: Org, database_url: str
) -> None:
    def ask(line: str):  # type: ignore[no-untyped-def]
        args = ["ask", line, "--as", "mia@example.com", "--no-charts", "--now", NOW.isoformat()]
        return CliRunner().invoke(app, args, env={"DATABASE_URL": database_url})

    refused = ask("/team East")
    assert refused.exit_code != 0
    assert "East is not your team" in str(refused.exception)
    allowed = ask("/kpi Eve Park")
    assert allowed.exit_code == 0, allowed.output
    assert "Eve Park: KPIs" in allowed.output
