"""A dispatcher process that dies mid-send: the restarted one loses and duplicates nothing."""

import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta

from slack_sdk import WebClient
from sqlalchemy import select

from bot.jobs.delivery import Dispatcher
from salesops_core import outbox
from salesops_core.db.models import Outbox, OutboxStatus
from salesops_core.timeutil import utcnow
from tests.support.lead_helpers import a_notice, track_deliveries

CHILD = textwrap.dedent(
    """
    import os, sys
    from slack_sdk import WebClient
    from bot.jobs.delivery import Dispatcher
    from salesops_core.db.engine import make_engine, make_session_factory

    url, base_url, die_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    client = WebClient(token="xoxb-test", base_url=base_url, retry_handlers=[])
    dispatcher = Dispatcher(
        make_session_factory(make_engine(url)), client, batch_size=5, lease_seconds=30
    )
    real_send, count = dispatcher.send, 0

    def send(message):
        global count
        count += 1
        if count == die_at:
            os._exit(137)  # killed: no mark, no rollback, no cleanup
        return real_send(message)

    dispatcher.send = send
    dispatcher.run_once()
    """
)


def test_killed_dispatcher_process_is_taken_over_after_its_lease(
    sessions, database_url, fake_slack
):
    with sessions.begin() as session:
        for n in range(5):
            outbox.enqueue(session, a_notice(n), dedupe_key=f"m{n}", recipient="U1")
    delivered = track_deliveries(fake_slack)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, database_url, fake_slack.base_url, "3"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert child.returncode == 137, child.stderr
    with sessions() as session:
        statuses = Counter(session.scalars(select(Outbox.status)))
    assert statuses == {OutboxStatus.SENT: 2, OutboxStatus.SENDING: 3}  # claimed, never marked
    restarted = Dispatcher(
        sessions, WebClient(token="xoxb-test", base_url=fake_slack.base_url, retry_handlers=[])
    )
    assert restarted.run_once().claimed == 0  # the dead process's leases still hold
    assert restarted.run_once(now=utcnow() + timedelta(seconds=31)).sent == 3
    counts = Counter(key for key, _, _ in delivered)
    assert counts == {f"m{n}": 1 for n in range(5)}
    with sessions() as session:
        assert set(session.scalars(select(Outbox.status))) == {OutboxStatus.SENT}
