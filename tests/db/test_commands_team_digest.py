"""`/team digest`: a manager's (or an admin's) digest on demand, privately; reps are refused.

The org of tests/support/command_org.py: now is Monday 2026-11-16 12:00 UTC, so last week is
Mon Nov 9 – Sun Nov 15 (Jane's meeting, call and admin time fall in it).
"""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.digest import digest_blocks
from commands.kit.reply import Reply
from commands.kit.text import reply_as_text
from salesops_core.db.models import Team
from salesops_core.digest.content import build_team_digest
from salesops_core.errors import BadArguments, NotAllowed
from salesops_core.org.access import Viewer
from salesops_core.periods import parse_period
from tests.support.command_org import Org, build_org, context


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


def team_digest(session: Session, viewer: Viewer, text: str = "", charts: bool = False) -> Reply:
    return run_command(session, viewer, "/team", f"digest {text}".strip(), context(charts))


def header_of(reply: Reply) -> str:
    return str(reply.blocks_json()[0]["text"]["text"])


def test_manager_gets_their_teams_digest_of_last_week_privately(session: Session, org: Org) -> None:
    reply = team_digest(session, org.manager)
    assert header_of(reply) == "West · week of Nov 9"
    assert not reply.in_channel and reply.charts == []
    text = reply_as_text(reply)
    assert "Week: Mon Nov 9 – Sun Nov 15 · quarter 2026-Q4: Oct 1 – Dec 31" in text
    assert "Jane Doe" in text and "Bob Stone" in text


def test_the_reply_is_the_digest_message_the_manager_would_be_sent(
    session: Session, org: Org
) -> None:
    ctx = context()
    period = parse_period("last-week", tz=ctx.org.tz, now=ctx.current_time())
    team = session.get(Team, org.manager.team_id)
    assert team is not None
    facts = build_team_digest(session, team, period, ctx.org, ctx.sla, ctx.current_time())
    expected = [block.to_dict() for block in digest_blocks(facts)]
    assert team_digest(session, org.manager).blocks_json() == expected


def test_a_period_word_picks_another_period(session: Session, org: Org) -> None:
    assert header_of(team_digest(session, org.manager, "this-week")) == "West · week of Nov 16"
    assert header_of(team_digest(session, org.manager, "2026-10")) == "West · October 2026"


def test_share_posts_the_digest_in_the_channel(session: Session, org: Org) -> None:
    assert team_digest(session, org.manager, "share").in_channel


def test_the_chart_goes_through_the_command_chart_path(session: Session, org: Org) -> None:
    [chart] = team_digest(session, org.manager, charts=True).charts
    assert (chart.filename, chart.title) == ("team-digest.png", "West · week of Nov 9")


def test_rep_asking_for_a_digest_gets_the_access_answer(session: Session, org: Org) -> None:
    with pytest.raises(NotAllowed, match="`/team` is for managers and admins"):
        team_digest(session, org.jane)


def test_manager_is_refused_another_teams_digest(session: Session, org: Org) -> None:
    with pytest.raises(NotAllowed, match="East is not your team"):
        team_digest(session, org.manager, "East")


def test_admin_names_the_team(session: Session, org: Org) -> None:
    assert header_of(team_digest(session, org.admin, "East")) == "East · week of Nov 9"
    assert header_of(team_digest(session, org.admin, '"East" last-week')) == (
        "East · week of Nov 9"
    )
    with pytest.raises(BadArguments, match="You are not on a team, so name one"):
        team_digest(session, org.admin)


def test_a_digest_is_for_a_team_a_region_or_the_org_not_a_rep(session: Session, org: Org) -> None:
    assert header_of(team_digest(session, org.admin, "Americas")) == "Americas · week of Nov 9"
    with pytest.raises(BadArguments, match="not Jane Doe"):
        team_digest(session, org.manager, "Jane")


def test_help_shows_the_digest_usage_and_examples(session: Session, org: Org) -> None:
    text = reply_as_text(team_digest(session, org.manager, "help"))
    assert "/team [digest] [team] [period] [share]" in text
    assert "/team digest shows the team's weekly digest now (default: last-week)" in text
    assert "/team digest this-week" in text and "/team digest NA West" in text
