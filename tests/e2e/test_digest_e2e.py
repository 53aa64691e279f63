"""End to end: the scheduler's digest job and a dispatcher against the local Slack server,
with Slack's rate limits on, for a demo org at Monday 9:00 in New York."""

import json
from datetime import UTC, datetime

from sqlalchemy import select

from bot.deps import Deps
from bot.jobs.delivery import make_sync_client
from bot.jobs.scheduler import start_background
from salesops_core.config import NudgeConfig
from salesops_core.db.models import Outbox, OutboxStatus, Rep, Role, Team
from salesops_core.demo import load_demo
from tests.support.bot_harness import bot_settings

MONDAY_NINE_NEW_YORK = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # 9:00 EST, 14:00 London


def test_scheduled_digests_arrive_once_at_nine_local_with_their_chart_after_them(
    engine, sessions, database_url, fake_slack
):
    load_demo(engine, now=MONDAY_NINE_NEW_YORK, scale=1, seed=42, fresh=True)
    with sessions() as session:
        managers = {
            team: (rep.slack_user_id, rep.timezone)
            for team, rep in session.execute(
                select(Team.name, Rep)
                .join(Rep, Rep.team_id == Team.id)
                .where(Rep.role == Role.MANAGER)
            )
        }
    # NA East's manager is in New York (9:00: due), EMEA's in London (14:00: due), NA West's
    # in Los Angeles (6:00: not yet)
    assert {team: zone for team, (_, zone) in managers.items()} == {
        "NA East": "America/New_York",
        "NA West": "America/Los_Angeles",
        "EMEA": "Europe/London",
    }
    settings = bot_settings(database_url, fake_slack.base_url)
    # only digests here: the nudge job runs at start as well, and has its own end-to-end test
    settings = settings.model_copy(update={"nudges": NudgeConfig(rules=[])})
    deps = Deps(settings=settings, engine=engine, sessions=sessions)
    fake_slack.enforce_rate_limits()
    background = start_background(
        deps,
        client=make_sync_client(settings),
        digest_seconds=0.2,
        idle_seconds=0.05,
        clock=lambda: MONDAY_NINE_NEW_YORK,
    )
    try:
        shared = lambda: fake_slack.calls_to("files.completeUploadExternal")  # noqa: E731
        assert fake_slack.wait_for(lambda: len(shared()) >= 2, timeout=60)
        fake_slack.wait_for(lambda: len(shared()) > 2, timeout=1.0)  # a duplicate would show
    finally:
        background.stop()
    posts = fake_slack.calls_to("chat.postMessage")
    expected = {managers["NA East"][0], managers["EMEA"][0]}
    assert sorted(post.params["channel"] for post in posts) == sorted(expected)
    for post in posts:
        blocks = post.params["blocks"]
        blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
        assert blocks and post.params["text"]
        dm = "D" + post.params["channel"][1:]
        [upload] = [call for call in shared() if call.params["channel_id"] == dm]
        assert upload.at > post.at  # the chart follows its digest, in the same DM
    assert len(shared()) == 2
    assert all(data.startswith(b"\x89PNG") for data in fake_slack.uploads.values())
    assert fake_slack.rate_limited == []  # paced under the limits, not pushed back by them
    with sessions() as session:
        statuses = session.scalars(select(Outbox.status)).all()
    assert statuses == [OutboxStatus.SENT] * 4
