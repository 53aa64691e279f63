"""Over real HTTP: nothing from a request is used before it is verified.

Forged Slack requests get 401 and reach no listener (no Web API call, nothing posted to their
response_url); bodies over the caps get 413 before they are read; the ingest token is checked
before the body; /metrics and the OpenAPI pages answer loopback clients unless opened.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.guards import API_BODY_LIMIT, SLACK_BODY_LIMIT
from salesops_core.db.models import Rep
from tests.support.bot_harness import (
    SIGNING_SECRET,
    RunningBot,
    sign,
    slash_command_body,
    start_bot,
)
from tests.support.slack_server import FakeSlack

INGEST_TOKEN = "ingest-secret"


@pytest.fixture
def bot(
    database_url: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> Iterator[RunningBot]:
    with sessions.begin() as session:
        session.add(Rep(name="Ann Lee", email="ann@acme.test", slack_user_id="UANN"))
    running = start_bot(database_url, fake_slack.base_url, ingest_token=INGEST_TOKEN)
    yield running
    running.stop()


def _command(fake_slack: FakeSlack) -> str:
    return slash_command_body(
        "/kpi", "", user_id="UANN", response_url=fake_slack.response_url("forged")
    )


def _signed(body: str, **overrides: str) -> dict[str, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
    headers.update(overrides)
    return headers


def _post_slack(bot: RunningBot, body: bytes | str, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=10)


def _nothing_reached_slack(fake_slack: FakeSlack) -> bool:
    time.sleep(0.5)  # a listener, had one run, would have answered by now (acks take ms)
    return fake_slack.calls == [] and fake_slack.responses == []


@pytest.mark.parametrize(
    "timestamp",
    ["abc", "", "-1", "1e9", "99999999999999999999999", "١٧٠٠٠٠٠٠٠٠", "0x10", "+1700000000"],
    ids=["letters", "empty", "negative", "float", "huge", "arabic-digits", "hex", "plus-sign"],
)
def test_a_malformed_timestamp_gets_401_and_nothing_is_called(
    bot: RunningBot, fake_slack: FakeSlack, timestamp: str
) -> None:
    body = _command(fake_slack)
    headers = _signed(body)
    headers["X-Slack-Request-Timestamp"] = timestamp
    encoded = {k: v.encode() for k, v in headers.items()}  # non-ASCII goes out as UTF-8 bytes
    response = httpx.post(f"{bot.url}/slack/events", content=body, headers=encoded, timeout=10)
    assert response.status_code == 401
    assert _nothing_reached_slack(fake_slack)


@pytest.mark.parametrize(
    "drop_or_set",
    [
        {"X-Slack-Signature": None},
        {"X-Slack-Request-Timestamp": None},
        {"X-Slack-Signature": "v0=zz"},
        {"X-Slack-Signature": "v1=" + "0" * 64},
        {"X-Slack-Signature": "v0=" + "é" * 64},
    ],
    ids=["no-signature", "no-timestamp", "short-signature", "wrong-version", "non-ascii"],
)
def test_a_missing_or_malformed_signature_gets_401_and_nothing_is_called(
    bot: RunningBot, fake_slack: FakeSlack, drop_or_set: dict[str, str | None]
) -> None:
    body = _command(fake_slack)
    headers = _signed(body)
    for name, value in drop_or_set.items():
        headers.pop(name)
        if value is not None:
            headers[name] = value
    encoded = {k: v.encode() for k, v in headers.items()}
    response = httpx.post(f"{bot.url}/slack/events", content=body, headers=encoded, timeout=10)
    assert response.status_code == 401
    assert _nothing_reached_slack(fake_slack)


def test_a_stale_or_future_timestamp_gets_401(bot: RunningBot, fake_slack: FakeSlack) -> None:
    body = _command(fake_slack)
    for when in (int(time.time()) - 400, int(time.time()) + 400):
        assert _post_slack(bot, body, _signed(body) | sign(body, when)).status_code == 401
    assert _nothing_reached_slack(fake_slack)


def test_a_body_that_is_not_utf8_gets_400_signed_or_not(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    raw = _command(fake_slack).encode() + b"&text=%FF\xff\xfe"
    ts = str(int(time.time()))
    # Signed exactly as Slack would sign these bytes (HMAC over the raw body).
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + raw, hashlib.sha256)
    signed = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}
    unsigned = {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + "0" * 64}
    for headers in (signed, unsigned):
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        assert _post_slack(bot, raw, headers).status_code == 400
    assert _nothing_reached_slack(fake_slack)


def test_a_forged_request_never_makes_the_server_call_out(bot: RunningBot) -> None:
    """The response_url of a forged request is a listening socket that must see no connection."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(1.5)
    port = listener.getsockname()[1]
    body = slash_command_body(
        "/kpi", "", user_id="UANN", response_url=f"http://127.0.0.1:{port}/hook"
    )
    for timestamp in ("abc", "-5", "", "1" * 40):
        headers = _signed(body, **{"X-Slack-Request-Timestamp": timestamp})
        assert _post_slack(bot, body, headers).status_code == 401
    with pytest.raises(TimeoutError):
        listener.accept()
    listener.close()


def test_a_signed_request_still_runs(bot: RunningBot, fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    assert bot.post_command("/kpi", "", user_id="UANN", response_url=url).status_code == 200
    assert fake_slack.wait_for(lambda: fake_slack.responses, timeout=30)


def test_a_slack_body_over_the_cap_gets_413(bot: RunningBot, fake_slack: FakeSlack) -> None:
    body = "text=" + "x" * SLACK_BODY_LIMIT
    assert _post_slack(bot, body, _signed(body)).status_code == 413
    assert _nothing_reached_slack(fake_slack)


def test_a_chunked_body_over_the_cap_is_refused_while_it_streams(bot: RunningBot) -> None:
    """No Content-Length: the server counts the chunks and answers 413 once past the cap."""
    host, port = bot.url.removeprefix("http://").split(":")
    head = (
        "POST /api/v1/leads HTTP/1.1\r\nHost: bot\r\nTransfer-Encoding: chunked\r\n"
        f"Authorization: Bearer {INGEST_TOKEN}\r\nContent-Type: application/json\r\n\r\n"
    )
    chunk = 64 * 1024
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(head.encode())
        try:
            for _ in range(4 * API_BODY_LIMIT // chunk):  # four times the cap, never finished
                sock.sendall(f"{chunk:x}\r\n".encode() + b"x" * chunk + b"\r\n")
        except OSError:
            pass  # the server answered and closed while we were still sending
        answer = sock.recv(64).decode("latin-1")
    assert answer.startswith("HTTP/1.1 413")


def test_an_ingest_body_over_the_cap_gets_413(bot: RunningBot) -> None:
    headers = {"Authorization": f"Bearer {INGEST_TOKEN}", "Content-Length": str(API_BODY_LIMIT + 1)}
    response = httpx.post(
        f"{bot.url}/api/v1/leads", content=b"{" * (API_BODY_LIMIT + 1), headers=headers
    )
    assert response.status_code == 413


def test_the_ingest_token_is_checked_before_the_body(bot: RunningBot) -> None:
    """A wrong token gets 401 even for a body over the cap, or one that is not JSON.

    Only the status line is read: the server answers without reading the body and then closes
    the connection, and the unread body can make the client's side drop the rest of the answer."""
    for body in (b"{" * (API_BODY_LIMIT + 1), b"not json"):
        with httpx.stream(
            "POST",
            f"{bot.url}/api/v1/leads",
            content=body,
            headers={"Authorization": "Bearer wrong"},
        ) as response:
            assert response.status_code == 401


def test_metrics_and_api_docs_answer_a_loopback_client(bot: RunningBot) -> None:
    assert bot.get("/metrics").status_code == 200
    assert bot.get("/api/v1/openapi.json").json()["info"]["title"] == "salesops"
    assert bot.get("/api/v1/docs").status_code == 200
