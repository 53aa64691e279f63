"""Run work as the rep behind a Slack user, in a worker thread with its own transaction.

The common case (a Slack id the bot has stored) costs one worker-thread hop and no Slack call.
A user seen for the first time costs one `users.info` call (scopes users:read and
users:read.email) to learn their email; the rep found by email is linked to the Slack id so
the next request takes the fast path.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from salesops_core.db.engine import transaction
from salesops_core.org.access import Viewer, viewer_for_rep
from salesops_core.org.identity import (
    UnknownSlackUser,
    link_slack_user_by_email,
    rep_for_slack_user,
)

T = TypeVar("T")
Work = Callable[[Session, Viewer], T]


async def slack_email(client: AsyncWebClient, slack_user_id: str) -> str | None:
    """The email on the user's Slack profile (None when Slack has none or no such user)."""
    try:
        response = await client.users_info(user=slack_user_id)
    except SlackApiError as exc:
        if exc.response.get("error") == "user_not_found":
            return None
        raise
    user = response.get("user") or {}
    return (user.get("profile") or {}).get("email") or None


def _link_by_email(deps: Deps, slack_user_id: str, email: str) -> bool:
    """Link the rep with this email to the Slack id; False when no active rep has it."""
    with transaction(deps.sessions) as session:
        return link_slack_user_by_email(session, slack_user_id, email) is not None


def _run_as_linked(deps: Deps, slack_user_id: str, work: Work[T]) -> T:
    with transaction(deps.sessions) as session:
        rep = rep_for_slack_user(session, slack_user_id)
        if rep is None:
            raise UnknownSlackUser(None)
        return work(session, viewer_for_rep(rep))


async def run_as_slack_user(
    deps: Deps, client: AsyncWebClient, slack_user_id: str, work: Work[T]
) -> T:
    """Call `work(session, viewer)` on `deps.workers` as the rep behind `slack_user_id`.

    Raises UnknownSlackUser (a friendly SalesopsError) when no active rep matches.
    """
    try:
        return await deps.workers.run(_run_as_linked, deps, slack_user_id, work)
    except UnknownSlackUser:
        email = await slack_email(client, slack_user_id)
        if not email or not await deps.workers.run(_link_by_email, deps, slack_user_id, email):
            raise UnknownSlackUser(email) from None
    return await deps.workers.run(_run_as_linked, deps, slack_user_id, work)
