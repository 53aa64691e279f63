"""Nudges end to end: the real scheduler job and dispatcher against the local Slack, then a
signed button press through the real HTTP server, then the job again."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select

from bot.jobs.delivery import make_sync_client
from bot.jobs.scheduler import start_background
from salesops_core.config import NudgeConfig, NudgeRule
from salesops_core.db.models import NudgeLog, Outbox
from salesops_core.timeutil import utcnow
from tests.support.bot_harness import button_press_body, sign, start_bot
from tests.support.nudge_org import make_nudge_org

# cooldown 0: what keeps a snoozed nudge back below is its snooze alone
NUDGES = NudgeConfig(rules=[NudgeRule.STALE_DEAL], cooldown_days=0)


def midday_zone(now: datetime) -> str:
    """A fixed-offset zone in which `now` is between 11:00 and 13:00, so a run at the real
    time is working time whenever the test runs (the people work every day)."""
    offset = 12 - now.astimezone(UTC).hour  # hours east of UTC; within -11 .. +12
    return f"Etc/GMT{-offset:+d}" if offset else "Etc/GMT"


class Clock:
    """The nudge job's time, moved by the test; counts the job's runs."""

    def __init__(self, at: datetime) -> None:
        self.at, self.reads = at, 0

    def __call__(self) -> datetime:
        self.reads += 1
        return self.at

    def move_to(self, at: datetime, runs: int = 3, timeout: float = 20) -> None:
        """Set the time, then wait until the job has run `runs` times at it."""
        self.at, start = at, self.reads
        deadline = time.monotonic() + timeout
        while self.reads < start + runs:
            assert time.monotonic() < deadline, "the nudge job did not run"
            time.sleep(0.02)


def nudges_posted(fake_slack) -> list[dict]:
    """The nudges Slack accepted, in order: the chat.postMessage params of each."""
    posted = []
    for call in fake_slack.calls_to("chat.postMessage"):
        metadata = call.params.get("metadata") or {}
        metadata = json.loads(metadata) if isinstance(metadata, str) else metadata
        if metadata.get("event_payload", {}).get("dedupe_key", "").startswith("nudge:"):
            posted.append(call.params)
    return posted


def action_ids(params: dict) -> list[str]:
    blocks = params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    return [e["action_id"] for b in blocks if b["type"] == "actions" for e in b["elements"]]


@pytest.fixture
def bot(database_url, fake_slack):
    running = start_bot(database_url, fake_slack.base_url, nudges=NUDGES)
    yield running
    running.stop()


def test_nudges_reach_each_rep_once_and_a_snooze_holds_one_until_it_ends(bot, sessions, fake_slack):
    start = utcnow().replace(microsecond=0)
    with sessions.begin() as session:
        org = make_nudge_org(
            session, start, east=midday_zone(start), berlin=midday_zone(start), workdays="1234567"
        )
    clock = Clock(start)
    background = start_background(
        bot.deps,
        client=make_sync_client(bot.deps.settings),
        sweep_seconds=60,
        digest_seconds=3600,
        nudge_seconds=0.2,
        idle_seconds=0.05,
        clock=clock,
    )
    for dispatcher in background.dispatchers:  # rows queued at the job's time are due then
        dispatcher.clock = lambda: max(utcnow(), clock.at)
    try:
        assert fake_slack.wait_for(lambda: len(nudges_posted(fake_slack)) >= 2, timeout=20)
        clock.move_to(start)  # more runs at the same moment
        time.sleep(0.3)  # and time for the dispatcher to send anything they queued
        first = nudges_posted(fake_slack)
        assert sorted(p["channel"] for p in first) == ["U1", "U2"]
        for params in first:
            assert action_ids(params) == [
                "nudge_log_activity",
                "nudge_snooze_day",
                "nudge_snooze_week",
                "nudge_not_relevant",
            ]
        with sessions() as session:
            jane = session.scalars(select(NudgeLog).where(NudgeLog.rep_id == org.jane)).one()
            message = session.scalars(
                select(Outbox).where(Outbox.dedupe_key == jane.dedupe_key)
            ).one()
        body = button_press_body(
            "nudge_snooze_day",
            str(jane.id),
            user_id="U1",
            channel_id=message.slack_channel,
            message_ts=message.slack_ts,
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        pressed = httpx.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=10)
        assert pressed.status_code == 200
        assert fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"), timeout=10)
        [update] = fake_slack.calls_to("chat.update")
        assert (update.params["channel"], update.params["ts"]) == (
            message.slack_channel,
            message.slack_ts,
        )
        assert "Snoozed until" in update.params["text"]
        with sessions() as session:
            snoozed_until = session.get(NudgeLog, jane.id).snoozed_until
        assert snoozed_until is not None

        clock.move_to(snoozed_until - timedelta(minutes=1))  # the next day, still snoozed
        time.sleep(0.3)
        assert fake_slack.wait_for(lambda: len(nudges_posted(fake_slack)) >= 3, timeout=10)
        time.sleep(0.3)
        next_day = nudges_posted(fake_slack)[2:]
        assert [p["channel"] for p in next_day] == ["U2"]  # Kai hears again; Jane is snoozed

        clock.move_to(snoozed_until + timedelta(minutes=1))  # the snooze is over
        assert fake_slack.wait_for(lambda: len(nudges_posted(fake_slack)) >= 4, timeout=10)
        clock.move_to(snoozed_until + timedelta(minutes=1))
        time.sleep(0.3)
        after = nudges_posted(fake_slack)[3:]
        assert [p["channel"] for p in after] == ["U1"]  # once, and only Jane
    finally:
        background.stop()
