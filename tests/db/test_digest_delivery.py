"""Scheduled and on-demand digests: into the outbox once, to the manager's DM, chart after."""

import json
import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

import bot.jobs.digest as digest_job
from bot.deps import Deps
from bot.jobs.delivery import Dispatcher
from bot.jobs.digest import (
    CHART_NOTE,
    due_digests,
    run_digests,
    send_now,
    unknown_channel_teams,
)
from bot.settings import Settings
from salesops_core import outbox
from salesops_core.config import DigestConfig
from salesops_core.db.models import Outbox, OutboxStatus, Team
from salesops_core.outbox import NoticeKind
from salesops_core.periods import parse_period
from tests.support.digest_fixture import NOW, ORG, SLA, build_digest_org

PARIS_NINE = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)  # Freya (Europe/Paris), Monday 9:00
NO_FREYA = (
    "no Slack user for Freya Moreau <freya@example.com>: set slack_user_id or the Slack email"
)


def settings(**digest) -> Settings:
    return Settings(org=ORG, sla=SLA, digest=DigestConfig(**digest))


def deps_for(sessions, **digest) -> Deps:
    return Deps(settings=settings(**digest), engine=sessions.kw["bind"], sessions=sessions)


def rows(sessions) -> list[Outbox]:
    with sessions() as session:
        return list(session.scalars(select(Outbox).order_by(Outbox.id)))


def build_org(sessions) -> None:
    with sessions() as session:
        build_digest_org(session)  # commits


def east(session) -> Team:
    return session.scalars(select(Team).where(Team.name == "NA East")).one()


def last_week():
    return parse_period("last-week", tz=ORG.tz, now=NOW)


def test_a_digest_is_due_at_nine_in_the_managers_zone_and_enqueued_once(sessions):
    build_org(sessions)
    with sessions() as session:
        assert due_digests(session, settings(), PARIS_NINE - timedelta(minutes=1)) == []
        [due] = due_digests(session, settings(), PARIS_NINE)
    assert (due.team.name, due.timezone, due.due_at) == ("NA East", "Europe/Paris", PARIS_NINE)
    assert [t.key for t in due.targets] == ["rep:1"]  # West has no manager and no channel
    deps = deps_for(sessions)
    first = run_digests(deps, now=PARIS_NINE)
    assert [r.enqueued for r in first.results] == [True]
    assert run_digests(deps, now=PARIS_NINE + timedelta(minutes=1)).due == 0
    digest, chart = rows(sessions)
    assert digest.dedupe_key == "digest:1:rep:1:2026-11-16..2026-11-23"
    assert digest.channel == "Freya Moreau <freya@example.com>"  # no Slack id: looked up
    assert digest.payload["digest"]["recipient"]["timezone"] == "Europe/Paris"
    assert (chart.kind, chart.follows_id, chart.dedupe_key) == (
        NoticeKind.DIGEST_CHART,
        digest.id,
        f"{digest.dedupe_key}:chart",
    )


def test_send_now_twice_sends_once_and_says_so(sessions, fake_slack):
    build_org(sessions)
    fake_slack.add_user("U0FREYA", "freya@example.com", "Freya Moreau", tz="Europe/Paris")
    for expected in (True, False):
        with sessions.begin() as session:
            [result] = send_now(session, settings(), [east(session)], last_week(), NOW)
        assert (result.team, result.recipient, result.enqueued) == (
            "NA East",
            "Freya Moreau",
            expected,
        )
        Dispatcher(sessions, fake_slack.web_client()).drain()
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 1


def test_the_digest_reaches_the_manager_found_by_email_and_the_chart_follows_in_that_dm(
    sessions, fake_slack
):
    build_org(sessions)
    with sessions.begin() as session:
        send_now(session, settings(), [east(session)], last_week(), NOW)
    fake_slack.add_user("U0FREYA", "freya@example.com", "Freya Moreau")
    stats = Dispatcher(sessions, fake_slack.web_client()).drain()
    assert (stats.sent, stats.dead) == (2, 0)
    [post] = fake_slack.calls_to("chat.postMessage")
    [complete] = fake_slack.calls_to("files.completeUploadExternal")
    assert post.params["channel"] == "U0FREYA"
    assert complete.params["channel_id"] == "D0FREYA"  # the DM the digest landed in
    assert complete.at > post.at
    [upload] = fake_slack.uploads.values()
    assert upload.startswith(b"\x89PNG")
    digest, chart = rows(sessions)
    assert (digest.status, digest.slack_channel) == (OutboxStatus.SENT, "D0FREYA")
    assert (chart.status, chart.slack_channel) == (OutboxStatus.SENT, "D0FREYA")


def test_the_chart_waits_until_its_digest_is_sent(sessions):
    build_org(sessions)
    with sessions.begin() as session:
        send_now(session, settings(), [east(session)], last_week(), NOW)
    with sessions.begin() as session:
        [claimed] = outbox.claim(session, "w1")
        assert claimed.kind == NoticeKind.DIGEST
        assert outbox.claim(session, "w2") == []  # the chart is not claimable yet
        outbox.mark_sent(session, claimed, slack_ts="1.0", slack_channel="D0FREYA")
        [chart] = outbox.claim(session, "w2")
    assert chart.kind == NoticeKind.DIGEST_CHART
    assert (chart.follows.channel, chart.follows_failed) == ("D0FREYA", None)


def test_a_manager_without_a_slack_user_is_dead_lettered_once_with_the_reason(sessions, fake_slack):
    build_org(sessions)
    with sessions.begin() as session:
        send_now(session, settings(), [east(session)], last_week(), NOW)
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    stats = dispatcher.drain()
    assert (stats.sent, stats.dead) == (0, 2)
    digest, chart = rows(sessions)
    assert (digest.status, digest.last_error) == (OutboxStatus.DEAD, NO_FREYA)
    assert chart.status == OutboxStatus.DEAD
    assert chart.last_error.startswith("followed_undelivered") and NO_FREYA in chart.last_error
    assert dispatcher.drain(max_batches=3).claimed == 0  # never retried
    assert len(fake_slack.calls_to("users.lookupByEmail")) == 1
    assert fake_slack.calls_to("chat.postMessage") == []
    assert fake_slack.calls_to("files.getUploadURLExternal") == []


def test_a_chart_that_cannot_be_drawn_leaves_a_digest_that_says_so_and_no_chart_row(
    sessions, fake_slack, monkeypatch
):
    def broken(chart):
        raise ValueError("no figure today")

    monkeypatch.setattr(digest_job, "digest_chart", broken)
    build_org(sessions)
    deps = deps_for(sessions)
    run_digests(deps, now=PARIS_NINE)
    [digest] = rows(sessions)
    assert digest.payload["chart_note"] == CHART_NOTE
    assert deps.metrics.digest_chart_failures._value.get() == 1
    fake_slack.add_user("U0FREYA", "freya@example.com")
    Dispatcher(sessions, fake_slack.web_client()).drain()
    [post] = fake_slack.calls_to("chat.postMessage")
    blocks = post.params["blocks"]
    assert CHART_NOTE in (blocks if isinstance(blocks, str) else json.dumps(blocks))
    assert fake_slack.calls_to("files.getUploadURLExternal") == []


def test_a_429_on_the_upload_neither_loses_nor_duplicates_the_chart(sessions, fake_slack):
    build_org(sessions)
    with sessions.begin() as session:
        send_now(session, settings(), [east(session)], last_week(), NOW)
    fake_slack.add_user("U0FREYA", "freya@example.com")
    fake_slack.fail("files.completeUploadExternal", status=429, retry_after=1)
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    stats = dispatcher.drain()
    assert stats.rate_limited and stats.sent == 1
    chart = rows(sessions)[1]
    assert (chart.status, chart.attempts) == (OutboxStatus.PENDING, 0)
    later = datetime.now(UTC) + timedelta(seconds=2)
    assert dispatcher.run_once(now=later).sent == 1
    assert len(fake_slack.calls_to("files.getUploadURLExternal")) == 2
    [shared] = [c for c in fake_slack.calls_to("files.completeUploadExternal")[1:]]
    assert shared.params["channel_id"] == "D0FREYA"
    assert rows(sessions)[1].status == OutboxStatus.SENT


def test_a_team_channel_gets_the_same_digest_as_a_row_of_its_own(sessions, fake_slack):
    build_org(sessions)
    deps = deps_for(sessions, channels={"na east": "C0EAST", "Nobody": "C0NONE"})
    results = run_digests(deps, now=PARIS_NINE).results
    assert [(r.recipient, r.enqueued) for r in results] == [
        ("Freya Moreau", True),
        ("C0EAST", True),
    ]
    keys = [row.dedupe_key for row in rows(sessions)]
    assert "digest:1:C0EAST:2026-11-16..2026-11-23" in keys and len(keys) == 4
    with sessions() as session:
        assert unknown_channel_teams(session, deps.settings) == ["Nobody"]
    fake_slack.add_user("U0FREYA", "freya@example.com")
    Dispatcher(sessions, fake_slack.web_client()).drain()
    assert {c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")} == {
        "U0FREYA",
        "C0EAST",
    }
    assert {
        c.params["channel_id"] for c in fake_slack.calls_to("files.completeUploadExternal")
    } == {
        "D0FREYA",
        "C0EAST",
    }


def test_two_schedulers_with_their_dispatchers_send_each_digest_once(sessions, fake_slack):
    build_org(sessions)
    fake_slack.add_user("U0FREYA", "freya@example.com")
    deps = deps_for(sessions, channels={"West": "C0WEST"})
    start = threading.Barrier(2)
    errors = []

    def scheduler() -> None:
        dispatcher = Dispatcher(sessions, fake_slack.web_client())
        try:
            start.wait()
            for minute in range(3):
                run_digests(deps, now=NOW + timedelta(minutes=minute))
                dispatcher.drain()
        except Exception as exc:  # surfaced below: a thread's exception would be lost
            errors.append(exc)

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    Dispatcher(sessions, fake_slack.web_client()).drain()
    posts = sorted(c.params["channel"] for c in fake_slack.calls_to("chat.postMessage"))
    assert posts == ["C0WEST", "U0FREYA"]
    assert len(fake_slack.calls_to("files.completeUploadExternal")) == 2
    assert {row.status for row in rows(sessions)} == {OutboxStatus.SENT}


def test_doctor_warns_about_a_digest_channel_that_names_no_team(sessions, database_url, tmp_path):
    from typer.testing import CliRunner

    from bot.cli.main import app

    build_org(sessions)
    config = tmp_path / "salesops.toml"
    config.write_text('[digest]\nchannels = { "NA East" = "#na-east", "Nobody" = "#void" }\n')
    env = {"DATABASE_URL": database_url, "SALESOPS_CONFIG": str(config), "SLACK_BOT_TOKEN": ""}
    result = CliRunner().invoke(app, ["doctor"], env=env)
    assert result.exit_code == 0, result.output  # a warning, not a failure
    assert "warn digest channels: no team named 'Nobody'; its channel #void" in result.output
    assert "NA East" not in result.output
