import json
import threading
from collections import Counter
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import select, update

from bot.jobs.delivery import Dispatcher
from salesops_core import outbox
from salesops_core.db.models import Outbox, OutboxStatus
from salesops_core.leads.engine import create_lead
from salesops_core.leads.notices import LeadDmUpdate
from salesops_core.timeutil import utcnow
from tests.support.lead_helpers import (
    WALL_CLOCK,
    a_notice,
    make_team,
    put_notices,
    rows_by_key,
    track_deliveries,
)


def test_message_is_sent_to_the_user_dm_and_ts_recorded(sessions, fake_slack):
    put_notices(sessions)
    stats = Dispatcher(sessions, fake_slack.web_client()).run_once()
    assert (stats.claimed, stats.sent) == (1, 1)
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.params["channel"] == "U1"
    assert call.params["metadata"]["event_payload"] == {"dedupe_key": "m0"}
    row = rows_by_key(sessions)["m0"]
    assert (row.status, row.slack_channel) == (OutboxStatus.SENT, "D1")
    assert row.slack_ts and row.sent_at is not None


def test_a_notice_is_rendered_when_it_is_sent(sessions, fake_slack):
    with sessions.begin() as session:
        _, (rep, _) = make_team(session)
        create_lead(session, WALL_CLOCK, external_id="L1", company="Acme", owner=rep)
    Dispatcher(sessions, fake_slack.web_client()).run_once()
    [call] = fake_slack.calls_to("chat.postMessage")
    assert call.params["text"].startswith("New lead: Acme")
    blocks = call.params["blocks"]
    blocks = json.loads(blocks) if isinstance(blocks, str) else blocks
    assert blocks[-1]["elements"][0]["action_id"] == "lead_contacted"
    dm = rows_by_key(sessions)["lead:1:assign:1"]
    assert (dm.status, dm.slack_channel) == (OutboxStatus.SENT, "D1")
    assert "blocks" not in dm.payload  # the row keeps the facts, not the message


def test_unreadable_notice_is_dead_lettered_without_a_call(sessions, fake_slack):
    put_notices(sessions)
    with sessions.begin() as session:
        session.execute(update(Outbox).values(payload={"lead": {"external_id": 7}}))
    assert Dispatcher(sessions, fake_slack.web_client()).run_once().dead == 1
    assert rows_by_key(sessions)["m0"].last_error.startswith("unreadable_notice:")
    assert fake_slack.calls_to("chat.postMessage") == []


def test_429_waits_for_retry_after_without_spending_an_attempt(sessions, fake_slack):
    put_notices(sessions, n=3)
    fake_slack.fail("chat.postMessage", status=429, retry_after=30)
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    stats = dispatcher.run_once()
    assert stats.rate_limited and stats.sent == 0
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # the rest of the batch held back
    after = rows_by_key(sessions)
    assert {r.status for r in after.values()} == {OutboxStatus.PENDING}
    assert {r.attempts for r in after.values()} == {0}
    assert min(r.next_attempt_at for r in after.values()) >= utcnow() + timedelta(seconds=25)
    later = dispatcher.run_once(now=utcnow() + timedelta(seconds=31))
    assert later.sent == 3


def test_500_is_retried_with_backoff_then_sent(sessions, fake_slack):
    put_notices(sessions)
    fake_slack.fail("chat.postMessage", status=500, times=2)
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    assert dispatcher.run_once().retried == 1
    row = rows_by_key(sessions)["m0"]
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 1)
    assert "HTTP 500" in row.last_error
    assert dispatcher.run_once(now=utcnow() + timedelta(minutes=1)).retried == 1
    assert dispatcher.run_once(now=utcnow() + timedelta(minutes=2)).sent == 1
    assert rows_by_key(sessions)["m0"].attempts == 3


def test_permanent_errors_are_dead_lettered_with_the_reason(sessions, fake_slack):
    put_notices(sessions, n=2)
    fake_slack.fail("chat.postMessage", error="channel_not_found", times=1)
    stats = Dispatcher(sessions, fake_slack.web_client()).run_once()
    assert (stats.dead, stats.sent) == (1, 1)
    dead = [r for r in rows_by_key(sessions).values() if r.status == OutboxStatus.DEAD]
    assert [r.last_error for r in dead] == ["channel_not_found"]


def test_invalid_token_dead_letters(sessions, fake_slack):
    put_notices(sessions)
    Dispatcher(sessions, fake_slack.web_client(token="xoxb-invalid")).run_once()
    assert rows_by_key(sessions)["m0"].last_error == "invalid_auth"


def test_message_without_recipient_is_dead_lettered_without_a_call(sessions, fake_slack):
    put_notices(sessions, channel=None)
    Dispatcher(sessions, fake_slack.web_client()).run_once()
    assert rows_by_key(sessions)["m0"].status == OutboxStatus.DEAD
    assert fake_slack.calls_to("chat.postMessage") == []


def test_unreachable_slack_is_retried(sessions):
    put_notices(sessions)
    dead_end = WebClient(token="x", base_url="http://127.0.0.1:9/api/", retry_handlers=[])
    assert Dispatcher(sessions, dead_end).run_once().retried == 1
    assert rows_by_key(sessions)["m0"].last_error.startswith("network:")


def test_two_dispatchers_send_each_message_exactly_once(sessions, fake_slack):
    put_notices(sessions, n=120)
    delivered = track_deliveries(fake_slack)
    fake_slack.fail_share(share=0.2, status=500, seed=3)
    stop = threading.Event()
    dispatchers = [
        Dispatcher(sessions, fake_slack.web_client(), batch_size=5),
        Dispatcher(sessions, fake_slack.web_client(), batch_size=5),
    ]
    # retries are due at once so the test does not wait for backoff
    for d in dispatchers:
        d.run_once = _no_backoff(d)
    threads = [threading.Thread(target=d.run_forever, args=(stop, 0.01)) for d in dispatchers]
    for thread in threads:
        thread.start()
    assert fake_slack.wait_for(lambda: len({k for k, _, _ in delivered}) >= 120, timeout=60)
    stop.set()
    for thread in threads:
        thread.join()
    counts = Counter(key for key, _, _ in delivered)
    assert len(counts) == 120
    assert max(counts.values()) == 1
    assert {r.status for r in rows_by_key(sessions).values()} == {OutboxStatus.SENT}
    senders = {r.claimed_by for r in rows_by_key(sessions).values()}
    assert senders == {d.worker for d in dispatchers}


def _no_backoff(dispatcher):
    original = dispatcher.run_once

    def run_once(now=None):
        return original(now=(now or utcnow()) + timedelta(seconds=600))

    return run_once


def test_dispatcher_killed_after_claim_loses_and_duplicates_nothing(sessions, fake_slack):
    put_notices(sessions, n=5)
    delivered = track_deliveries(fake_slack)
    crashed = Dispatcher(sessions, fake_slack.web_client(), lease_seconds=30)
    claimed = crashed.claim()  # committed lease, then the process dies before sending
    assert len(claimed) == 5
    restarted = Dispatcher(sessions, fake_slack.web_client())
    assert restarted.run_once().claimed == 0  # leases still held
    stats = restarted.run_once(now=utcnow() + timedelta(seconds=31))
    assert stats.sent == 5
    assert sorted(k for k, _, _ in delivered) == [f"m{i}" for i in range(5)]


def test_crash_after_slack_accepted_is_found_in_slack_and_not_sent_again(sessions, fake_slack):
    # Slack accepted, the row was never marked sent: the next owner finds it by its key.
    put_notices(sessions)
    delivered = track_deliveries(fake_slack)
    crashed = Dispatcher(sessions, fake_slack.web_client(), lease_seconds=30)
    [message] = crashed.claim()
    posted = crashed.send(message)  # Slack has it; the process dies before mark_sent
    stats = Dispatcher(sessions, fake_slack.web_client()).run_once(
        now=utcnow() + timedelta(seconds=31)
    )
    assert (stats.sent, stats.reconciled) == (1, 1)
    assert [k for k, _, _ in delivered] == ["m0"]
    assert (rows_by_key(sessions)["m0"].slack_channel, rows_by_key(sessions)["m0"].slack_ts) == (
        posted["channel"],
        posted["ts"],
    )
    assert not outbox_mark_by_stale_owner(sessions, message)


def outbox_mark_by_stale_owner(sessions, message):
    with sessions.begin() as session:
        return outbox.mark_sent(session, message, slack_ts="x", slack_channel="D1")


def _edit_of(sessions, key):
    with sessions.begin() as session:
        target = session.scalars(select(Outbox).where(Outbox.dedupe_key == key)).one()
        update_notice = LeadDmUpdate(a_notice().lead, "Answered.")
        outbox.enqueue(session, update_notice, dedupe_key="u1", recipient="U1", edits=target.id)


def test_an_edit_updates_the_message_its_target_row_recorded(sessions, fake_slack):
    put_notices(sessions)
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    dispatcher.run_once()
    _edit_of(sessions, "m0")
    assert dispatcher.run_once().sent == 1
    [call] = fake_slack.calls_to("chat.update")
    target = rows_by_key(sessions)["m0"]
    assert (call.params["channel"], call.params["ts"]) == (target.slack_channel, target.slack_ts)
    assert call.params["text"] == "Company 0: Answered."
    assert len(fake_slack.calls_to("chat.postMessage")) == 1  # only the original message


def test_an_edit_of_a_message_never_delivered_is_dead_lettered(sessions, fake_slack):
    put_notices(sessions, channel=None)  # dead: no recipient, so it has no location
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    dispatcher.run_once()
    _edit_of(sessions, "m0")
    assert dispatcher.run_once().dead == 1
    assert rows_by_key(sessions)["u1"].last_error.startswith("edit_target_missing")
    assert fake_slack.calls_to("chat.update") == []
