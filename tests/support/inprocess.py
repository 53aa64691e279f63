"""The real Bolt app driven in-process: signed requests go straight into `app.async_dispatch`.

The fast tier beside the HTTP end-to-end one (bolt-python's own tests/scenario_tests_async work
this way): the app is `build_app` on the test database with SLACK_API_URL pointing at the local
Slack server (the same client and retries as `salesops serve`), so everything the bot sends
(response_url posts, views.publish, chat.update, uploads) is recorded there. Each request runs
in its own event loop and returns once the work it started (lazy listeners, event listeners)
has finished, so a test asserts right after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.app import build_app
from bot.deps import Deps, build_deps
from tests.support.bot_harness import (
    SIGNING_SECRET,
    bot_settings,
    button_press_body,
    event_body,
    sign,
    slash_command_body,
    view_submission_body,
)
from tests.support.slack_server import FakeSlack

FORM = "application/x-www-form-urlencoded"
JSON = "application/json"
WORK_TIMEOUT_SECONDS = 30.0


@dataclass
class InProcessBot:
    """`build_app(deps)` on the local Slack; send it requests as Slack does."""

    deps: Deps
    app: AsyncApp

    def command(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        response_url: str,
        channel_id: str = "C0SALES",
        secret: str = SIGNING_SECRET,
    ) -> BoltResponse:
        """Send a slash command; returns the ack once the answer has been sent."""
        body = slash_command_body(
            command, text, user_id=user_id, response_url=response_url, channel_id=channel_id
        )
        return self.dispatch(body, FORM, sign(body, secret=secret))

    def event(
        self, event: dict[str, Any], event_id: str, *, retry_num: int | None = None
    ) -> BoltResponse:
        """Send an Events API event (a Slack retry when `retry_num` is given)."""
        body = event_body(event, event_id)
        headers = sign(body)
        if retry_num is not None:
            headers |= {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "timeout"}
        return self.dispatch(body, JSON, headers)

    def press_button(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        response_url: str | None = None,
    ) -> BoltResponse:
        """Press a button on the message at (`channel_id`, `message_ts`)."""
        body = button_press_body(
            action_id,
            value,
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
            response_url=response_url,
        )
        return self.dispatch(body, FORM, sign(body))

    def submit_view(
        self, callback_id: str, values: dict[str, Any], *, user_id: str, private_metadata: str
    ) -> BoltResponse:
        """Submit a modal with these input `values`; returns the ack (errors come back in it)."""
        body = view_submission_body(
            callback_id, values, user_id=user_id, private_metadata=private_metadata
        )
        return self.dispatch(body, FORM, sign(body))

    def dispatch(self, body: str, content_type: str, headers: dict[str, str]) -> BoltResponse:
        """Dispatch one raw request body; wait for the work it started, return Bolt's response."""
        request = AsyncBoltRequest(body=body, headers={"Content-Type": content_type, **headers})
        return asyncio.run(self._dispatch_and_finish(request))

    async def _dispatch_and_finish(self, request: AsyncBoltRequest) -> BoltResponse:
        response = await self.app.async_dispatch(request)
        await _finish_started_tasks()
        return response


async def _finish_started_tasks() -> None:
    """Wait for every other task of this loop: Bolt starts lazy and event listeners as tasks."""
    current = asyncio.current_task()
    async with asyncio.timeout(WORK_TIMEOUT_SECONDS):
        while started := {task for task in asyncio.all_tasks() if task is not current}:
            await asyncio.wait(started)


@contextmanager
def in_process_bot(database_url: str, slack: FakeSlack, **settings: Any) -> Iterator[InProcessBot]:
    """The app as `salesops serve` builds it, on `database_url` and the local `slack`."""
    deps = build_deps(bot_settings(database_url, slack.base_url, **settings))
    try:
        yield InProcessBot(deps=deps, app=build_app(deps))
    finally:
        deps.workers.close()
        deps.engine.dispose()
