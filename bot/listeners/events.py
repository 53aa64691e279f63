"""Events API: the App Home tab, and skipping the events Slack sends twice.

Slack retries an event it did not see acked within 3 s (`X-Slack-Retry-Num`), with the same
`event_id`. A middleware remembers the event ids this process has seen for an hour and acks a
repeat without running any listener. That is enough for one process; with several replicas
behind a load balancer a retry may reach another replica, and a shared store would be needed
(a table with a unique event id, written with INSERT ... ON CONFLICT DO NOTHING). The one event
handled today, `app_home_opened`, is idempotent (views.publish replaces the whole view), so a
repeat on another replica costs a query, not a wrong answer.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.kwargs_injection.async_args import AsyncArgs
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot.deps import Deps
from bot.listeners.errors import guarded
from bot.slack_users import run_as_slack_user
from commands.home import home_view

HANDLED_EVENTS = ("app_home_opened",)


class SeenEvents:
    """Event ids seen in the last `ttl_seconds` (at most `max_size` kept; oldest go first)."""

    def __init__(self, ttl_seconds: float = 3600, max_size: int = 100_000) -> None:
        self.ttl = ttl_seconds
        self.max_size = max_size
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def first_time(self, event_id: str, now: float | None = None) -> bool:
        """Record `event_id`; True unless it was already seen within the TTL."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._seen and (
                len(self._seen) >= self.max_size or next(iter(self._seen.values())) < now - self.ttl
            ):
                self._seen.popitem(last=False)
            if event_id in self._seen:
                return False
            self._seen[event_id] = now
            return True


async def skip_repeated_events(
    deps: Deps, seen: SeenEvents, body: dict[str, Any], next: Callable[[], Awaitable[None]]
) -> BoltResponse | None:
    """A Bolt middleware: ack an already-seen event_id with 200 and run nothing."""
    event_id = body.get("event_id") if body.get("type") == "event_callback" else None
    if event_id:
        event_type = str((body.get("event") or {}).get("type"))
        repeat = not seen.first_time(str(event_id))
        deps.metrics.events.labels(event_type, "yes" if repeat else "no").inc()
        if repeat:
            return BoltResponse(status=200, body="")
    await next()
    return None


def _notice_view(text: str) -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
    }


async def publish_notice(args: AsyncArgs, text: str) -> None:
    """Show `text` on the user's Home tab (how App Home tells a user what went wrong)."""
    await args.client.views_publish(user_id=args.body["event"]["user"], view=_notice_view(text))


async def publish_home(deps: Deps, event: dict[str, Any], client: AsyncWebClient) -> None:
    """Publish the viewer's dashboard on their Home tab (the other tabs are left alone)."""
    if event.get("tab", "home") != "home":
        return
    context = deps.command_context()
    view = await run_as_slack_user(
        deps, client, event["user"], lambda session, viewer: home_view(session, viewer, context)
    )
    await client.views_publish(user_id=event["user"], view=view)


def register(app: AsyncApp, deps: Deps) -> None:
    """The repeat-event guard (one memory of event ids per app) and the App Home tab."""
    app.middleware(partial(skip_repeated_events, deps, SeenEvents()))
    app.event("app_home_opened")(guarded(publish_home, deps, present=publish_notice))
