"""Run work as the rep behind a Slack user, in a worker thread with its own transaction.

The common case (a Slack id the bot has stored) costs one worker-thread hop and no Slack call.
A user seen for the first time costs one `users.info` call (scopes users:read and
users:read.email) to learn their email; the rep found by email is linked to the Slack id so
the next request takes the fast path.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import Session

from bot.deps import Deps
from salesops_core.db.engine import transaction
from salesops_core.org.access import Viewer, viewer_for_rep
from salesops_core.org.identity import (
    UnknownSlackUser,
    link_slack_user,
    rep_by_email,
    rep_by_slack_id,
)

T = TypeVar("T")
Work = Callable[[Session, Viewer], T]
RunBlocking = Callable[..., Awaitable[Any]]


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
        rep = rep_by_email(session, email)
        if rep is None:
            return False
        link_slack_user(session, rep, slack_user_id)
        return True


def _run_as_linked(deps: Deps, slack_user_id: str, work: Work[T]) -> T:
    with transaction(deps.sessions) as session:
        rep = rep_by_slack_id(session, slack_user_id)
        if rep is None:
            raise UnknownSlackUser(None)
        return work(session, viewer_for_rep(rep))


async def run_as_slack_user(
    deps: Deps,
    client: AsyncWebClient,
    slack_user_id: str,
    work: Work[T],
    run_blocking: RunBlocking,
) -> T:
    """Call `work(session, viewer)` in a worker thread as the rep behind `slack_user_id`.

    `run_blocking(func, *args)` runs a blocking call off the event loop (Runtime.run_blocking).
    Raises UnknownSlackUser (a friendly SalesopsError) when no active rep matches.
    """
    try:
        return await run_blocking(_run_as_linked, deps, slack_user_id, work)
    except UnknownSlackUser:
        email = await slack_email(client, slack_user_id)
        if not email or not await run_blocking(_link_by_email, deps, slack_user_id, email):
            raise UnknownSlackUser(email) from None
    return await run_blocking(_run_as_linked, deps, slack_user_id, work)
