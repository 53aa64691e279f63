"""A rep who left (active = false) is marked "(left)" wherever reps are listed, and the demo
summary counts a team's reps as /team does: the reps still with the team, leavers named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.text import reply_as_text
from salesops_core.db.models import Activity, ActivityType, Deal, Outcome, Quota, Rep, Role, Team
from salesops_core.demo import demo_summary, load_demo
from salesops_core.org.access import viewer_for_rep
from tests.support.command_org import Q4, Org, build_org, context, t, text_of


@pytest.fixture
def org(session: Session) -> Org:
    org = build_org(session)
    west = session.scalars(select(Team).where(Team.name == "West")).one()
    lee = Rep(name="Lee Gone", email="lee@example.com", team=west, active=False)
    session.add(lee)
    session.flush()
    session.add(Quota(rep_id=lee.id, period_start=Q4[0], period_end=Q4[1], amount=100_000))
    session.add(
        Deal(external_id="D-lee", owner=lee, amount=10_000, stage="Closed Won",
             outcome=Outcome.WON, created_at=t(9, 1), closed_at=t(10, 2))
    )  # fmt: skip
    session.commit()
    return org


def test_team_marks_the_rep_who_left_and_counts_them_apart(session: Session, org: Org) -> None:
    text = text_of(session, org.manager, "/team")
    assert "  3 Lee Gone (left)       $10,000    10%  100%       $0 !" in text
    assert "Reps: 2 + 1 who left" in text
    assert "Lee Gone (left) (10%)" in text


def test_who_to_chase_marks_the_rep_who_left_in_kpi_and_app_home(
    session: Session, org: Org
) -> None:
    from commands.home import home_view
    from commands.kit.text import blocks_as_text

    chase = "• Behind pace (2 of 3), 50% expected by now: Lee Gone (left) (10%), Jane Doe (40%)"
    assert chase in text_of(session, org.manager, "/kpi")
    assert chase in blocks_as_text(home_view(session, org.manager, context())["blocks"])


def test_quota_team_view_marks_the_rep_who_left(session: Session, org: Org) -> None:
    text = text_of(session, org.manager, "/quota West")
    assert (
        "Behind pace (2 of 3), 50% expected by now: Lee Gone (left) (10%), Jane Doe (40%)" in text
    )


def test_quota_of_a_closed_period_says_below_quota_as_team_does(session: Session, org: Org) -> None:
    line = "Below quota (1 of 3): Jane Doe (20%)"
    assert line in text_of(session, org.manager, "/team last-quarter")
    assert line in text_of(session, org.manager, "/quota last-quarter West")


NOW = datetime(2026, 5, 14, 15, 30, tzinfo=UTC)


def test_demo_summary_counts_a_teams_reps_as_team_does(session: Session) -> None:
    load_demo(session.get_bind(), now=NOW, scale=0.2, seed=5)  # one team, one rep who left
    summary = demo_summary(session, "test")
    (team,) = summary.teams
    reps = session.scalars(select(Rep).where(Rep.role == Role.REP)).all()
    assert team.left == [r.name for r in reps if not r.active] and len(team.left) == 1
    assert team.reps == sum(r.active for r in reps)
    manager = session.scalars(select(Rep).where(Rep.role == Role.MANAGER)).one()
    ctx = context()
    ctx = type(ctx)(org=ctx.org, sla=ctx.sla, now=NOW, charts=False)
    shown = reply_as_text(run_command(session, viewer_for_rep(manager), "/team", "", ctx))
    assert f"Reps: {team.reps}" in shown


def test_the_cli_leaderboard_and_meetings_mark_the_rep_who_left(
    session: Session, org: Org, database_url: str
) -> None:
    from typer.testing import CliRunner

    from bot.cli.main import app
    from tests.support.command_org import NOW

    result = CliRunner().invoke(
        app,
        ["kpi", "--team", "West", "--now", NOW.isoformat()],
        env={"DATABASE_URL": database_url, "COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "Lee Gone (left)" in result.output
    # /meetings lists whom its per-rep rate counts: Lee only once he logged an activity in Q4
    assert "Lee Gone" not in text_of(session, org.manager, "/meetings West")
    lee = session.scalars(select(Rep).where(Rep.name == "Lee Gone")).one()
    session.add(Activity(external_id="A-lee", rep_id=lee.id, type=ActivityType.CALL,
                         started_at=t(10, 1), minutes=30))  # fmt: skip
    session.commit()
    assert "Lee Gone (left)" in text_of(session, org.manager, "/meetings West")


def test_the_team_digest_leaderboard_marks_the_rep_who_left(session: Session, org: Org) -> None:
    from salesops_core.digest.content import build_team_digest
    from salesops_core.periods import parse_period
    from tests.support.command_org import NOW

    ctx = context()
    west = session.scalars(select(Team).where(Team.name == "West")).one()
    quarter = parse_period("this-quarter", tz=ctx.org.tz, now=NOW)
    digest = build_team_digest(session, west, quarter, ctx.org, ctx.sla, NOW)
    assert "Lee Gone (left)" in [line.name for line in digest.leaderboard]
