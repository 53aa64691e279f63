"""What `/kpi` (and every command with a scope) with no argument and App Home show first: a
rep's own numbers, a manager's team (with what needs chasing), the org for an admin; `me` is the
asker's own numbers."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.home import home_view
from commands.kit.text import blocks_as_text, reply_as_text
from salesops_core.db.models import Quota, Rep
from tests.support.command_org import Q4, Org, build_org, context


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


def kpi_text(session: Session, viewer, text: str = "") -> str:  # type: ignore[no-untyped-def]
    return reply_as_text(run_command(session, viewer, "/kpi", text, context()))


def home_text(session: Session, viewer) -> str:  # type: ignore[no-untyped-def]
    return blocks_as_text(home_view(session, viewer, context())["blocks"])


def test_a_managers_kpi_is_the_team_with_what_needs_chasing(session: Session, org: Org) -> None:
    text = kpi_text(session, org.manager)
    assert text.startswith("West: KPIs · this-quarter (2026-Q4)")
    assert "Quota attainment: 80%" in text
    assert "Behind pace (1 of 2), 50% expected by now: Jane Doe (40%)" in text
    assert "Leads waiting past their SLA (1): Jane Doe (1)" in text
    assert "Your team's numbers: /kpi me shows your own." in text


def test_kpi_me_is_the_askers_own_numbers(session: Session, org: Org) -> None:
    session.add(Quota(rep_id=org.manager.rep_id, period_start=Q4[0], period_end=Q4[1],
                      amount=30_000))  # fmt: skip
    session.commit()
    text = kpi_text(session, org.manager, "me")
    assert text.startswith("Your KPIs · this-quarter (2026-Q4)")
    assert "Quota attainment: 0%" in text
    assert kpi_text(session, org.jane, "me") == kpi_text(session, org.jane)


def test_an_admins_kpi_is_the_org_and_a_reps_their_own(session: Session, org: Org) -> None:
    admin = kpi_text(session, org.admin)
    assert admin.startswith("Org: KPIs · this-quarter (2026-Q4)")
    assert "Won: $170,000" in admin
    assert "Behind pace (2 of 3), 50% expected by now: Eve Park (20%), Jane Doe (40%)" in admin
    assert kpi_text(session, org.jane).startswith("Your KPIs · this-quarter (2026-Q4)")


def test_a_manager_without_a_team_keeps_their_own_numbers(session: Session, org: Org) -> None:
    lonely = session.get(Rep, org.manager.rep_id)
    assert lonely is not None
    lonely.team_id = None
    session.commit()
    from salesops_core.org.access import viewer_for_rep

    assert kpi_text(session, viewer_for_rep(lonely)).startswith("Your KPIs")


def test_a_managers_home_leads_with_the_team(session: Session, org: Org) -> None:
    text = home_text(session, org.manager)
    assert text.startswith("Hi Mia: West, this-quarter (2026-Q4)")
    assert "Won: $160,000 of $200,000" in text  # the team's, not the manager's empty quota
    assert (
        "Open leads waiting for your team: 1" in text
        and "• Acme (web) waiting 3 h · Jane Doe" in text
    )
    assert "Behind pace (1 of 2), 50% expected by now: Jane Doe (40%)" in text
    assert "/kpi me" not in text  # no quota of their own: nothing of theirs to point to


def test_a_manager_carrying_a_quota_is_pointed_to_kpi_me(session: Session, org: Org) -> None:
    session.add(Quota(rep_id=org.manager.rep_id, period_start=Q4[0], period_end=Q4[1],
                      amount=30_000))  # fmt: skip
    session.commit()
    assert "Your own quota: 0% of $30,000 · /kpi me" in home_text(session, org.manager)


def test_an_admins_home_is_the_org_and_a_reps_their_own(session: Session, org: Org) -> None:
    admin = home_text(session, org.admin)
    assert admin.startswith("Hi Ada: Org, this-quarter (2026-Q4)")
    assert "Won: $170,000 of $250,000" in admin
    rep = home_text(session, org.jane)
    assert rep.startswith("Hi Jane: this-quarter (2026-Q4)")
    assert "Won: $40,000 of $100,000" in rep and "Open leads waiting for you: 1" in rep


SCOPED = ("/pipeline", "/leads", "/forecast", "/quota", "/meetings")


@pytest.mark.parametrize("command", SCOPED)
def test_a_managers_other_commands_show_the_team_and_me_their_own(
    session: Session, org: Org, command: str
) -> None:
    text = reply_as_text(run_command(session, org.manager, command, "", context()))
    assert text.startswith("West: ")
    assert f"Your team's numbers: {command} me shows your own." in text
    own = reply_as_text(run_command(session, org.manager, command, "me", context()))
    assert own.startswith("Your ") and "shows your own" not in own


@pytest.mark.parametrize("command", SCOPED)
def test_an_admins_other_commands_show_the_org_and_a_reps_their_own(
    session: Session, org: Org, command: str
) -> None:
    admin = reply_as_text(run_command(session, org.admin, command, "", context()))
    assert admin.startswith("Org: ") and f"The org's numbers: {command} me" in admin
    rep = reply_as_text(run_command(session, org.jane, command, "", context()))
    assert rep.startswith("Your ") and "shows your own" not in rep


def test_a_teams_forecast_counts_its_one_forecaster_as_one_rep(session: Session, org: Org) -> None:
    text = reply_as_text(run_command(session, org.manager, "/forecast", "team", context()))
    assert "Forecast last submitted 2026-11-01 12:00 by 1 rep (200% of it won)." in text
