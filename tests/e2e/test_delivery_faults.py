"""Delivery exactly once when Slack is slow, answers are lost, a sender is killed mid-send, or
the database drops a connection: each fault ends in one chat.postMessage per dedupe key."""

import os
import signal
import subprocess
import sys
import textwrap
import threading
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import text

from bot.jobs.delivery import Dispatcher
from salesops_core import outbox
from salesops_core.db.engine import is_postgres
from salesops_core.db.models import OutboxStatus
from salesops_core.timeutil import utcnow
from tests.support.lead_helpers import put_notices, rows_by_key, track_deliveries


def later(seconds=60):
    return utcnow() + timedelta(seconds=seconds)


def assert_each_posted_once(fake, delivered, n):
    assert Counter(key for key, _, _ in delivered) == {f"m{i}": 1 for i in range(n)}
    assert all(len(fake.posted(f"m{i}")) == 1 for i in range(n))


def test_a_send_slower_than_the_lease_is_not_taken_over(sessions, fake_slack):
    put_notices(sessions, 6)
    delivered = track_deliveries(fake_slack)
    fake_slack.slow("chat.postMessage", 0.6)  # each send outlives the lease below
    stop = threading.Event()
    dispatchers = [
        Dispatcher(sessions, fake_slack.web_client(), batch_size=3, lease_seconds=0.4,
                   heartbeat_seconds=0.1)
        for _ in range(2)
    ]  # fmt: skip
    threads = [threading.Thread(target=d.run_forever, args=(stop, 0.01)) for d in dispatchers]
    for thread in threads:
        thread.start()
    done = fake_slack.wait_for(
        lambda: {r.status for r in rows_by_key(sessions).values()} == {OutboxStatus.SENT},
        timeout=60,
    )
    stop.set()
    for thread in threads:
        thread.join()
    assert done
    assert_each_posted_once(fake_slack, delivered, 6)


def test_an_answer_lost_after_slack_posted_is_found_not_resent(sessions, fake_slack):
    put_notices(sessions, 5)
    delivered = track_deliveries(fake_slack)
    fake_slack.drop_answer("chat.postMessage", times=3)
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    first = dispatcher.run_once()
    assert (first.sent, first.retried) == (2, 3)
    second = dispatcher.run_once(now=later())  # after the settle time
    assert (second.sent, second.reconciled) == (3, 3)
    assert_each_posted_once(fake_slack, delivered, 5)
    for i in range(5):
        row = rows_by_key(sessions)[f"m{i}"]
        assert row.status == OutboxStatus.SENT and row.ambiguous_since is None
        assert row.slack_ts == fake_slack.posted(f"m{i}")[0]["ts"]
    assert len(fake_slack.calls_to("chat.postMessage")) == 5


def test_a_timed_out_send_that_landed_is_found_not_resent(sessions, fake_slack):
    put_notices(sessions, 1)
    delivered = track_deliveries(fake_slack)
    fake_slack.slow("chat.postMessage", 1.5, times=1)
    dispatcher = Dispatcher(sessions, fake_slack.web_client(timeout=0.5))
    assert dispatcher.run_once().retried == 1
    assert rows_by_key(sessions)["m0"].ambiguous_since is not None
    assert dispatcher.run_once(now=later()).reconciled == 1
    assert_each_posted_once(fake_slack, delivered, 1)
    [history] = fake_slack.calls_to("conversations.history")
    assert history.params["channel"] == "D1"  # the DM conversations.open gave for U1


def test_a_5xx_that_posted_nothing_is_looked_for_then_sent_once(sessions, fake_slack):
    put_notices(sessions, 1)
    delivered = track_deliveries(fake_slack)
    fake_slack.fail("chat.postMessage", 503)
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    assert dispatcher.run_once().retried == 1
    stats = dispatcher.run_once(now=later())
    assert (stats.sent, stats.reconciled) == (1, 0)
    assert len(fake_slack.calls_to("conversations.history")) == 1
    assert_each_posted_once(fake_slack, delivered, 1)


def test_an_answer_saying_nothing_was_posted_is_resent_without_looking(sessions, fake_slack):
    put_notices(sessions, 1)
    fake_slack.fail("chat.postMessage", error="internal_error")  # ok: false, HTTP 200
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    assert dispatcher.run_once().retried == 1
    assert rows_by_key(sessions)["m0"].ambiguous_since is None
    assert dispatcher.run_once(now=later()).sent == 1
    assert fake_slack.calls_to("conversations.history") == []


def test_unreadable_history_falls_back_to_sending_again(sessions, fake_slack):
    put_notices(sessions, 1)
    fake_slack.drop_answer("chat.postMessage")
    fake_slack.fail("conversations.history", error="missing_scope")
    dispatcher = Dispatcher(sessions, fake_slack.web_client())
    dispatcher.run_once()
    assert dispatcher.run_once(now=later()).sent == 1
    assert len(fake_slack.posted("m0")) == 2  # at least once, never lost


KILLED_MID_SEND = textwrap.dedent(
    """
    import sys
    from slack_sdk import WebClient
    from bot.jobs.delivery import Dispatcher
    from salesops_core.db.engine import make_engine, make_session_factory

    url, base_url = sys.argv[1], sys.argv[2]
    client = WebClient(token="xoxb-test", base_url=base_url, retry_handlers=[], timeout=30)
    Dispatcher(make_session_factory(make_engine(url)), client, batch_size=3).run_once()
    """
)


def test_a_dispatcher_killed_while_its_send_is_in_flight_is_taken_over_once(
    sessions, database_url, fake_slack
):
    put_notices(sessions, 3)
    delivered = track_deliveries(fake_slack)
    fake_slack.slow("chat.postMessage", 30, times=1)  # posted, then the answer hangs
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_MID_SEND, database_url, fake_slack.base_url],
        stderr=subprocess.PIPE,
        text=True,
    )
    assert fake_slack.wait_for(lambda: fake_slack.posted("m0"), timeout=60)
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert {r.status for r in rows_by_key(sessions).values()} == {OutboxStatus.SENDING}
    restarted = Dispatcher(sessions, fake_slack.web_client())
    assert restarted.run_once().claimed == 0  # the dead process's leases still hold
    stats = restarted.run_once(now=later(16))  # one lease (15 s) on
    assert (stats.sent, stats.reconciled) == (3, 1)
    assert_each_posted_once(fake_slack, delivered, 3)


def test_a_database_connection_cut_while_recording_a_send_is_retried_once(
    sessions, fake_slack, monkeypatch
):
    if not is_postgres(sessions.kw["bind"]):
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    put_notices(sessions, 2)
    delivered = track_deliveries(fake_slack)
    real_mark_sent, cut = outbox.mark_sent, []

    def mark_sent_on_a_cut_connection(session, message, **kwargs):
        if not cut:
            cut.append(message.id)
            session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return real_mark_sent(session, message, **kwargs)

    monkeypatch.setattr(outbox, "mark_sent", mark_sent_on_a_cut_connection)
    stats = Dispatcher(sessions, fake_slack.web_client()).run_once()
    assert cut and stats.sent == 2
    assert {r.status for r in rows_by_key(sessions).values()} == {OutboxStatus.SENT}
    assert_each_posted_once(fake_slack, delivered, 2)
