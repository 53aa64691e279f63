"""The whole speed-to-lead path over real HTTP: ingest API -> outbox -> local Slack -> buttons."""

import json

import httpx
import pytest
from sqlalchemy import select

from bot.jobs.delivery import make_sync_client
from bot.jobs.scheduler import run_sweep, start_background
from salesops_core.config import SlaPolicy
from salesops_core.db.models import Lead, LeadStatus, Outbox, OutboxStatus
from tests.support.bot_harness import start_bot
from tests.support.lead_helpers import make_team

TOKEN = "ingest-token"


@pytest.fixture
def bot(database_url, fake_slack):
    fast = SlaPolicy(
        source="*",
        first_response_minutes=0.01,  # 0.6 s
        remind_rep_after_minutes=0.01,
        alert_manager_after_minutes=0.02,
        reassign_after_minutes=None,
        business_hours=False,
    )
    running = start_bot(database_url, fake_slack.base_url, ingest_token=TOKEN, sla=[fast])
    yield running
    running.stop()


def button_press(bot, action_id, lead_id, user, channel, ts):
    return bot.press_button(
        action_id,
        str(lead_id),
        user_id=user,
        channel_id=channel,
        message_ts=ts,
        response_url="http://127.0.0.1:9/response/none",
    )


def test_curl_lead_reaches_the_owner_escalates_and_stops_on_contacted(bot, sessions, fake_slack):
    with sessions.begin() as session:
        make_team(session, reps=1)
    answer = httpx.post(
        f"{bot.url}/api/v1/leads",
        json={"external_id": "web-42", "company": "Acme", "source": "demo-request"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    assert answer.status_code == 201, answer.text
    background = start_background(
        bot.deps, client=make_sync_client(bot.deps.settings), sweep_seconds=0.2, idle_seconds=0.05
    )
    try:
        posts = lambda: fake_slack.calls_to("chat.postMessage")  # noqa: E731
        assert fake_slack.wait_for(lambda: len(posts()) >= 3, timeout=20)
        channels = [call.params["channel"] for call in posts()]
        assert channels[:3] == ["U1", "U1", "M1"]  # DM, reminder, manager alert
        with sessions() as session:
            lead = session.scalars(select(Lead)).one()
            dm = session.scalars(select(Outbox).where(Outbox.kind == "lead_dm")).one()
            assert lead.ladder_step == 2 and dm.slack_channel == "D1"
            dm_channel, dm_ts, lead_id = dm.slack_channel, dm.slack_ts, lead.id
        pressed = button_press(bot, "lead_contacted", lead_id, "U1", dm_channel, dm_ts)
        assert pressed.status_code == 200
        assert fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"), timeout=10)
        [update] = fake_slack.calls_to("chat.update")
        assert (update.params["channel"], update.params["ts"]) == (dm_channel, dm_ts)
        assert "Contacted by <@U1>" in update.params["text"]
    finally:
        background.stop()
    with sessions() as session:
        lead = session.scalars(select(Lead)).one()
        assert lead.status == LeadStatus.RESPONDED and lead.next_due_at is None
        statuses = set(session.scalars(select(Outbox.status)))
        assert statuses == {OutboxStatus.SENT}
    assert run_sweep(bot.deps).steps_fired == {}


def test_snooze_and_reassign_buttons_update_the_message(bot, sessions, fake_slack):
    with sessions.begin() as session:
        make_team(session, reps=2)
    httpx.post(
        f"{bot.url}/api/v1/leads",
        json={"external_id": "web-7", "owner": "rep1@x.test"},
        headers={"Authorization": f"Bearer {TOKEN}"},
    )
    with sessions() as session:
        lead_id = session.scalars(select(Lead.id)).one()
    button_press(bot, "lead_snooze", lead_id, "U1", "D1", "1.0")
    assert fake_slack.wait_for(lambda: len(fake_slack.calls_to("chat.update")) == 1, timeout=10)
    snoozed = fake_slack.calls_to("chat.update")[0].params
    assert "Snoozed by <@U1>" in json.dumps(snoozed["blocks"])
    assert snoozed["blocks"][-1]["type"] == "actions"  # still answerable
    button_press(bot, "lead_reassign", lead_id, "U1", "D1", "1.0")
    assert fake_slack.wait_for(lambda: len(fake_slack.calls_to("chat.update")) == 2, timeout=10)
    assert "Reassigned to Rep 2" in fake_slack.calls_to("chat.update")[1].params["text"]
    with sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead.owner.slack_user_id == "U2"
        assert lead.next_due_at is None
        dms = session.scalars(select(Outbox.channel).where(Outbox.kind == "lead_dm")).all()
        assert sorted(dms) == ["U1", "U2"]
