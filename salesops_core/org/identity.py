"""Who a Slack user is: the rep behind a Slack user id or an email address.

The bot first looks a Slack user up by the id it stored; for a user it has not seen it asks
Slack for the email (`users.info`), finds the rep by email and remembers the Slack id. Both
go through the one rep finder (`org.lookup`), active reps only: a rep who left is as unknown
as someone never added.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep
from salesops_core.errors import UnknownRep
from salesops_core.org.lookup import RepRef, find_rep


class UnknownSlackUser(UnknownRep):
    """A Slack user who is not (or no longer) an active rep: tell them whom to ask."""

    def __init__(self, email: str | None) -> None:
        self.email = email
        shown = email or "none on your Slack profile"
        super().__init__(
            "I don't know you yet - ask your sales-ops admin to add you "
            f"(your Slack email: {shown})."
        )


def rep_for_slack_user(session: Session, slack_user_id: str) -> Rep | None:
    """The active rep linked to this Slack user id; None when the bot has not linked them."""
    try:
        return find_rep(session, RepRef.slack_user(slack_user_id), active_only=True)
    except UnknownRep:
        return None


def link_slack_user_by_email(session: Session, slack_user_id: str, email: str) -> Rep | None:
    """Link the active rep with this email (from the Slack profile); None when there is none."""
    try:
        rep = find_rep(session, RepRef.email(email), active_only=True)
    except UnknownRep:  # no such rep, or (AmbiguousRep) two emails differing only in case
        return None
    link_slack_user(session, rep, slack_user_id)
    return rep


def link_slack_user(session: Session, rep: Rep, slack_user_id: str) -> None:
    """Remember that `slack_user_id` is `rep`; an old holder of the id (a stale row) loses it."""
    if rep.slack_user_id == slack_user_id:
        return
    session.execute(
        update(Rep)
        .where(Rep.slack_user_id == slack_user_id, Rep.id != rep.id)
        .values(slack_user_id=None)
    )
    rep.slack_user_id = slack_user_id
    session.flush()
