"""Who may see whose numbers: reps themselves, managers their team, admins everyone."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Team
from salesops_core.errors import NotAllowed
from salesops_core.org.access import can_view, require_view
from salesops_core.org.scopes import ORG_SCOPE, Scope, region_scope, rep_scope, team_scope
from tests.support.command_org import Org, build_org


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


def _rep(session: Session, name: str) -> Scope:
    return rep_scope(session.scalars(select(Rep).where(Rep.name == name)).one())


def _team(session: Session, name: str) -> Scope:
    return team_scope(session.scalars(select(Team).where(Team.name == name)).one())


def test_rep_sees_own_numbers_only(session: Session, org: Org) -> None:
    assert can_view(session, org.jane, _rep(session, "Jane Doe"))
    assert not can_view(session, org.jane, _rep(session, "Bob Stone"))
    assert not can_view(session, org.jane, _team(session, "West"))
    assert not can_view(session, org.jane, ORG_SCOPE)


def test_manager_sees_own_team_and_its_reps(session: Session, org: Org) -> None:
    assert can_view(session, org.manager, _team(session, "West"))
    assert can_view(session, org.manager, _rep(session, "Jane Doe"))
    assert can_view(session, org.manager, _rep(session, "Mia Manager"))


def test_manager_does_not_see_other_teams_regions_or_the_org(session: Session, org: Org) -> None:
    assert not can_view(session, org.manager, _team(session, "East"))
    assert not can_view(session, org.manager, _rep(session, "Eve Park"))
    assert not can_view(session, org.manager, region_scope("Americas"))
    assert not can_view(session, org.manager, ORG_SCOPE)


def test_manager_sees_a_direct_report_on_another_team_but_not_that_team(
    session: Session, org: Org
) -> None:
    eve = session.scalars(select(Rep).where(Rep.name == "Eve Park")).one()
    eve.manager_id = org.manager.rep_id
    session.add(Rep(name="Sam Stone", team_id=eve.team_id))  # Eve's teammate
    session.flush()
    assert can_view(session, org.manager, rep_scope(eve))
    assert not can_view(session, org.manager, _team(session, "East"))
    assert not can_view(session, org.manager, _rep(session, "Sam Stone"))


def test_admin_sees_everything(session: Session, org: Org) -> None:
    for scope in (_rep(session, "Eve Park"), _team(session, "East"), region_scope("EMEA")):
        assert can_view(session, org.admin, scope)
    assert can_view(session, org.admin, ORG_SCOPE)


def test_refusal_is_polite_and_logged(
    session: Session, org: Org, caplog: pytest.LogCaptureFixture
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="salesops_core.org.access"),
        pytest.raises(NotAllowed) as refused,
    ):
        require_view(session, org.jane, _rep(session, "Bob Stone"))
    assert str(refused.value) == (
        "Sorry, you can only see your own numbers, not Bob Stone's. "
        "Your manager or a sales-ops admin can see the team's."
    )
    assert "access refused" in caplog.text and f"rep_id={org.jane.rep_id}" in caplog.text
