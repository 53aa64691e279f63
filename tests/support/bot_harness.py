"""Run the real server over real HTTP and talk to it the way Slack does (signed requests)."""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
import uvicorn
from slack_sdk.signature import SignatureVerifier

from bot.deps import Deps, build_deps
from bot.server import create_app
from bot.settings import Settings

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test-token"


def sign(body: str, timestamp: int | None = None, secret: str = SIGNING_SECRET) -> dict[str, str]:
    """The headers Slack sends: `v0=` HMAC-SHA256 of `v0:{ts}:{body}` with the signing secret."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def slash_command_body(
    command: str, text: str, *, user_id: str, response_url: str, channel_id: str = "C0SALES"
) -> str:
    """A slash-command payload, form-encoded as Slack posts it."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": "T0TEST",
            "team_domain": "acme",
            "channel_id": channel_id,
            "channel_name": "sales",
            "user_id": user_id,
            "user_name": user_id.lower(),
            "command": command,
            "text": text,
            "api_app_id": "A0SALESOPS",
            "is_enterprise_install": "false",
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def event_body(event: dict[str, Any], event_id: str) -> str:
    """An Events API envelope around `event`."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": "T0TEST",
            "api_app_id": "A0SALESOPS",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
        }
    )


def button_press_body(
    action_id: str,
    value: str,
    *,
    user_id: str,
    channel_id: str,
    message_ts: str,
    response_url: str | None = None,
) -> str:
    """A block_actions payload for one button on a message, form-encoded as Slack posts it."""
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": "T0TEST"},
        "user": {"id": user_id},
        "api_app_id": "A0SALESOPS",
        "token": "legacy-verification-token",
        "container": {"type": "message", "channel_id": channel_id, "message_ts": message_ts},
        "channel": {"id": channel_id},
        "message": {"ts": message_ts},
        "trigger_id": "1.2.3",
        "actions": [{"action_id": action_id, "value": value, "type": "button"}],
    }
    if response_url is not None:
        payload["response_url"] = response_url
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(
    callback_id: str, values: dict[str, Any], *, user_id: str, private_metadata: str = ""
) -> str:
    """A view_submission payload for a modal whose inputs hold `values` (its `state.values`)."""
    payload = {
        "type": "view_submission",
        "team": {"id": "T0TEST"},
        "user": {"id": user_id},
        "api_app_id": "A0SALESOPS",
        "token": "legacy-verification-token",
        "trigger_id": "1.2.4",
        "view": {
            "id": "V0MODAL",
            "type": "modal",
            "callback_id": callback_id,
            "private_metadata": private_metadata,
            "state": {"values": values},
        },
    }
    return urlencode({"payload": json.dumps(payload)})


@dataclass
class RunningBot:
    """The server of `create_app`, served by uvicorn in a thread on a free port."""

    deps: Deps
    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def post_command(
        self,
        command: str,
        text: str,
        *,
        user_id: str,
        response_url: str,
        channel_id: str = "C0SALES",
        timestamp: int | None = None,
        secret: str = SIGNING_SECRET,
    ) -> httpx.Response:
        body = slash_command_body(
            command, text, user_id=user_id, response_url=response_url, channel_id=channel_id
        )
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **sign(body, timestamp, secret),
        }
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def post_event(
        self, event: dict[str, Any], event_id: str, retry_num: int | None = None
    ) -> httpx.Response:
        body = event_body(event, event_id)
        headers = {"Content-Type": "application/json", **sign(body)}
        if retry_num is not None:
            headers["X-Slack-Retry-Num"] = str(retry_num)
            headers["X-Slack-Retry-Reason"] = "http_timeout"
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def press_button(
        self,
        action_id: str,
        value: str,
        *,
        user_id: str,
        channel_id: str,
        message_ts: str,
        response_url: str | None = None,
    ) -> httpx.Response:
        """Press a button on the message at (`channel_id`, `message_ts`)."""
        body = button_press_body(
            action_id,
            value,
            user_id=user_id,
            channel_id=channel_id,
            message_ts=message_ts,
            response_url=response_url,
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        return httpx.post(f"{self.url}/slack/events", content=body, headers=headers, timeout=10)

    def get(self, path: str) -> httpx.Response:
        return httpx.get(f"{self.url}{path}", timeout=10)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=60)
        self.deps.engine.dispose()


def bot_settings(database_url: str, slack_api_url: str, **settings: Any) -> Settings:
    """The test bot's settings: the test database, the local Slack, the test token and secret;
    charts drawn in worker threads (starting chart processes per test would be slow) unless a
    test asks for `chart_processes`."""
    values: dict[str, Any] = {
        "database_url": database_url,
        "slack_bot_token": BOT_TOKEN,
        "slack_signing_secret": SIGNING_SECRET,
        "slack_api_url": slack_api_url,
        "chart_processes": 0,
        **settings,
    }
    return Settings(**values)


def start_bot(database_url: str, slack_api_url: str, **settings: Any) -> RunningBot:
    """Build the app exactly as `salesops serve` does and serve it on 127.0.0.1:<free port>."""
    deps = build_deps(bot_settings(database_url, slack_api_url, **settings))
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(deps), log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    return RunningBot(deps=deps, server=server, thread=thread, url=f"http://127.0.0.1:{port}")
