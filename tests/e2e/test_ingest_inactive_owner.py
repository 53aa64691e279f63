"""POST /api/v1/leads for an owner who has left: routed by round-robin, never DM'd to the leaver,
and the answer says who has it and why (also when the same lead is posted again)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from bot.jobs.delivery import Dispatcher, make_sync_client
from salesops_core.db.models import Rep
from tests.support.bot_harness import RunningBot, start_bot
from tests.support.lead_helpers import make_team
from tests.support.slack_server import FakeSlack

TOKEN = "ingest-token"


@pytest.fixture
def bot(database_url: str, fake_slack: FakeSlack) -> Iterator[RunningBot]:
    running = start_bot(database_url, fake_slack.base_url, ingest_token=TOKEN)
    yield running
    running.stop()


def post(bot: RunningBot, body: dict[str, str]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return httpx.post(f"{bot.url}/api/v1/leads", json=body, headers=headers, timeout=10)


def test_a_lead_posted_for_a_leaver_is_routed_and_the_answer_says_so(
    bot: RunningBot, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    with sessions.begin() as session:
        make_team(session, reps=1)
        session.add(Rep(name="Gus Gone", email="gus@x.test", slack_user_id="UGUS", active=False))
    body = {"external_id": "web-1", "company": "Acme", "owner": "gus@x.test"}
    first = post(bot, body)
    assert first.status_code == 201, first.text
    routed = {
        "to": "rep1@x.test",
        "reason": "owner_inactive",
        "message": "Gus Gone is inactive (has left), so the lead was routed by round-robin to "
        "Rep 1.",
    }
    assert (first.json()["owner"], first.json()["routed"]) == ("rep1@x.test", routed)
    again = post(bot, body)
    assert again.status_code == 200 and again.json()["routed"] == routed
    Dispatcher(bot.deps.sessions, make_sync_client(bot.deps.settings)).drain()
    assert [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")] == ["U1"]


def test_a_lead_for_an_active_owner_has_no_routing_note(
    bot: RunningBot, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        make_team(session, reps=2)
    answer = post(bot, {"external_id": "web-2", "owner": "rep2@x.test"})
    assert answer.status_code == 201, answer.text
    assert (answer.json()["owner"], answer.json()["routed"]) == ("rep2@x.test", None)
    unowned = post(bot, {"external_id": "web-3"}).json()
    assert unowned["routed"]["reason"] == "round_robin"
    assert unowned["routed"]["to"] == unowned["owner"]
