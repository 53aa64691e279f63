"""Finding a message the bot may already have posted, by the dedupe key it carries.

Every chat.postMessage from the outbox carries its row's dedupe key in Slack message metadata
(`outbox_metadata`). When a send's outcome is unknown (a timeout, a dropped connection, a 5xx,
a dispatcher that died mid-send), the conversation's recent history says whether it landed:
conversations.history with `include_all_metadata` (scopes im:history, channels:history,
groups:history), from a little before the first unconfirmed send.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient

OUTBOX_EVENT = "salesops_outbox"
CLOCK_MARGIN = timedelta(seconds=60)  # our clock vs Slack's: look a little further back
PAGE_SIZE = 200  # Slack's recommended page size for conversations.history


def outbox_metadata(dedupe_key: str) -> dict[str, Any]:
    """The message metadata that names the outbox row a message was sent for."""
    return {"event_type": OUTBOX_EVENT, "event_payload": {"dedupe_key": dedupe_key}}


def dedupe_key_of(message: dict[str, Any]) -> str | None:
    """The outbox dedupe key a message from conversations.history carries, if any."""
    metadata = message.get("metadata") or {}
    if metadata.get("event_type") != OUTBOX_EVENT:
        return None
    key = (metadata.get("event_payload") or {}).get("dedupe_key")
    return str(key) if key is not None else None


def posted_keys(
    client: WebClient,
    channel: str,
    *,
    since: datetime,
    before_call: Callable[[], None] = lambda: None,
) -> dict[str, str]:
    """The outbox messages in `channel` posted after `since` (less the clock margin): dedupe
    key -> `ts`. `before_call` paces each page's call."""
    oldest = f"{(since - CLOCK_MARGIN).timestamp():.6f}"
    found: dict[str, str] = {}
    cursor: str | None = None
    while True:
        before_call()
        page = client.conversations_history(
            channel=channel,
            oldest=oldest,
            include_all_metadata=True,
            limit=PAGE_SIZE,
            cursor=cursor,
        )
        for message in page.get("messages") or []:
            key = dedupe_key_of(message)
            if key is not None:
                found.setdefault(key, str(message["ts"]))
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not page.get("has_more") or cursor is None:
            return found
