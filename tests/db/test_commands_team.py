"""/team, /salesops, App Home and access through the commands: who gets what, who is refused."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.orm import Session

from commands.base import COMMANDS, run_command
from commands.home import home_view
from commands.kit.text import blocks_as_text
from salesops_core.errors import BadArguments, NotAllowed
from tests.support.command_org import Org, build_org, context, text_of


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


def test_manager_gets_the_team_leaderboard_and_who_is_behind(session: Session, org: Org) -> None:
    text = text_of(session, org.manager, "/team")
    assert "West · this-quarter (2026-Q4)" in text
    assert "  1 Bob Stone            $120,000   120%  100%       $0" in text
    assert "  2 Jane Doe              $40,000    40%   50%  $60,000 !" in text
    assert "Behind pace (1 of 2), 50% expected by now: Jane Doe (40%)" in text


def test_manager_sees_a_rep_of_the_team(session: Session, org: Org) -> None:
    assert "Jane Doe: KPIs" in text_of(session, org.manager, "/kpi <@U0JANE|jane>")


def test_rep_asking_about_another_rep_is_refused_politely(
    session: Session, org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING), pytest.raises(NotAllowed) as refused:
        text_of(session, org.jane, "/quota Bob")
    assert str(refused.value).startswith("Sorry, you can only see your own numbers, not Bob")
    assert "access refused" in caplog.text


def test_rep_asking_for_team_is_refused(session: Session, org: Org) -> None:
    with pytest.raises(NotAllowed, match="`/team` is for managers and admins"):
        text_of(session, org.jane, "/team")
    with pytest.raises(NotAllowed, match="team numbers \\(West\\) are for managers and admins"):
        text_of(session, org.jane, "/kpi West")


def test_manager_is_refused_another_team_and_its_reps(session: Session, org: Org) -> None:
    with pytest.raises(NotAllowed, match="East is not your team"):
        text_of(session, org.manager, "/team East")
    with pytest.raises(NotAllowed, match="Eve Park is not on your team"):
        text_of(session, org.manager, "/leads eve@example.com")


def test_admin_sees_every_team_rep_and_the_org(session: Session, org: Org) -> None:
    assert "East · this-quarter (2026-Q4)" in text_of(session, org.admin, "/team East")
    assert "Eve Park: quota" in text_of(session, org.admin, "/quota Eve")
    org_text = text_of(session, org.admin, "/kpi org")
    assert "Won: $170,000" in org_text


def test_team_with_a_rep_name_says_to_use_kpi(session: Session, org: Org) -> None:
    with pytest.raises(BadArguments, match="Jane Doe is a rep, not a team"):
        text_of(session, org.manager, "/team Jane")


def test_salesops_help_lists_every_command(session: Session, org: Org) -> None:
    text = text_of(session, org.jane, "/salesops help")
    for command in COMMANDS:
        assert command in text


def test_whoami_shows_rep_role_team_and_manager(session: Session, org: Org) -> None:
    text = text_of(session, org.jane, "/salesops whoami")
    assert "Name: Jane Doe" in text and "Role: rep" in text
    assert "Team: West (Americas)" in text and "Manager: Mia Manager" in text


def test_org_settings_are_for_admins_only_and_everyone_sees_their_nudges(
    session: Session, org: Org
) -> None:
    text = text_of(session, org.admin, "/salesops settings")
    assert "Time zone: UTC" in text and "Fiscal year starts: January" in text
    assert "*                 5 min    5 min   15 min    never business" in text
    assert "Your nudges" in text
    rep = text_of(session, org.jane, "/salesops settings")
    assert "Quiet hours: 18:00-09:00 (the default), and days off" in rep
    assert "Fiscal year starts" not in rep and "Lead SLA policies" not in rep
    assert "The org's settings (time zone, lead SLAs) are for sales-ops admins." in rep


def test_salesops_unknown_subcommand_is_a_bad_argument(session: Session, org: Org) -> None:
    with pytest.raises(BadArguments, match='I don\'t understand "whois"'):
        text_of(session, org.jane, "/salesops whois")


def test_unknown_command_lists_the_commands(session: Session, org: Org) -> None:
    with pytest.raises(BadArguments, match="There is no command /kpis; the commands are /kpi"):
        run_command(session, org.jane, "/kpis", "", context())


def test_home_is_my_dashboard_with_nudges_within_100_blocks(session: Session, org: Org) -> None:
    view = home_view(session, org.jane, context())
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = blocks_as_text(view["blocks"])
    assert "Hi Jane: this-quarter (2026-Q4)" in text
    assert "Won: $40,000 of $100,000" in text
    assert "Open leads waiting for you: 1" in text and "• Acme (web)" in text
    assert "Nudges\n• D4 ($10,000) has had no activity for 107 days\n" in text
    assert "• You are at 40% of quota with 50% of the quarter gone" in text


def test_home_of_a_manager_adds_the_team_line(session: Session, org: Org) -> None:
    text = blocks_as_text(home_view(session, org.manager, context())["blocks"])
    assert "To chase\n• Behind pace (1 of 2), 50% expected by now: Jane Doe (40%)" in text


def test_team_query_count_does_not_grow_with_the_number_of_reps(session: Session, org: Org) -> None:
    from sqlalchemy import event

    from salesops_core.db.models import Rep, Team

    def count_queries() -> int:
        statements: list[str] = []
        engine = session.get_bind()
        listener = lambda *args: statements.append(args[2][:80])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            run_command(session, org.manager, "/team", "", context())
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    # Keep the team loaded: the identity map holds objects weakly, and a garbage-collected
    # team would be fetched again by session.get, one query more by chance.
    team = session.get(Team, org.manager.team_id)
    count_queries()  # warm up: objects expired by the commit are reloaded once
    before = count_queries()
    session.add_all([Rep(name=f"New Rep {i}", team_id=org.manager.team_id) for i in range(25)])
    session.commit()
    count_queries()  # the same warm-up after this commit
    after = count_queries()
    assert after == before, (before, after)
    assert before <= 15
    assert team is not None


def test_team_of_a_closed_period_lists_who_ended_below_quota(session: Session, org: Org) -> None:
    text = text_of(session, org.manager, "/team last-quarter")
    assert "Below quota (1 of 2): Jane Doe (20%)" in text
