"""Slack user -> rep: lookups by stored id and email, linking, and the unknown-user message."""

from __future__ import annotations

from sqlalchemy.orm import Session

from salesops_core.db.models import Rep
from salesops_core.org.identity import (
    UnknownSlackUser,
    link_slack_user,
    link_slack_user_by_email,
    rep_for_slack_user,
)


def add_rep(session: Session, name: str, email: str | None, **values: object) -> Rep:
    rep = Rep(name=name, email=email, **values)
    session.add(rep)
    session.flush()
    return rep


def test_rep_for_slack_user_finds_the_active_rep_with_that_id(session: Session) -> None:
    ann = add_rep(session, "Ann", "ann@acme.test", slack_user_id="UANN")
    add_rep(session, "Bob", "bob@acme.test", slack_user_id="UBOB")
    assert rep_for_slack_user(session, "UANN") is ann
    assert rep_for_slack_user(session, "UNOBODY") is None


def test_rep_for_slack_user_matches_the_id_only_not_a_name(session: Session) -> None:
    add_rep(session, "UANN", "ann@acme.test")
    assert rep_for_slack_user(session, "UANN") is None


def test_inactive_reps_are_not_found_by_slack_id_or_email(session: Session) -> None:
    gone = add_rep(session, "Gone", "gone@acme.test", slack_user_id="UGONE", active=False)
    assert rep_for_slack_user(session, "UGONE") is None
    assert link_slack_user_by_email(session, "UNEW", "gone@acme.test") is None
    assert gone.slack_user_id == "UGONE"


def test_linking_by_email_ignores_case_and_surrounding_spaces(session: Session) -> None:
    ann = add_rep(session, "Ann", "Ann.Lee@Acme.test")
    assert link_slack_user_by_email(session, "UANN", " ann.lee@acme.TEST ") is ann
    assert ann.slack_user_id == "UANN"
    assert link_slack_user_by_email(session, "UZOE", "someone@acme.test") is None


def test_link_slack_user_stores_the_id_so_the_next_lookup_is_by_id(session: Session) -> None:
    ann = add_rep(session, "Ann", "ann@acme.test")
    link_slack_user(session, ann, "UANN")
    session.commit()
    assert rep_for_slack_user(session, "UANN") is ann


def test_link_slack_user_moves_an_id_held_by_a_stale_row(session: Session) -> None:
    old = add_rep(session, "Ann (old)", "ann.old@acme.test", slack_user_id="UANN")
    new = add_rep(session, "Ann", "ann@acme.test")
    link_slack_user(session, new, "UANN")
    session.commit()
    session.refresh(old)
    assert old.slack_user_id is None
    assert rep_for_slack_user(session, "UANN") is new


def test_unknown_slack_user_message_names_the_email_and_whom_to_ask() -> None:
    message = str(UnknownSlackUser("zoe@acme.test"))
    assert message == (
        "I don't know you yet - ask your sales-ops admin to add you "
        "(your Slack email: zoe@acme.test)."
    )
    assert "none on your Slack profile" in str(UnknownSlackUser(None))
