from datetime import timedelta

from sqlalchemy import select, text

from salesops_core import outbox
from salesops_core.db.engine import is_postgres
from salesops_core.db.models import Outbox, OutboxStatus
from tests.support.lead_helpers import MONDAY_10_UTC, a_notice

T0 = MONDAY_10_UTC


def put(session, key="k1", **kw):
    return outbox.enqueue(session, a_notice(), dedupe_key=key, recipient="U1", now=T0, **kw)


def test_enqueue_ignores_a_second_row_with_the_same_key(session):
    assert put(session) is True
    assert put(session) is False
    session.commit()
    assert len(session.scalars(select(Outbox)).all()) == 1


def test_claim_leases_due_rows_once(session):
    put(session, "a")
    put(session, "b")
    put(session, "later", not_before=T0 + timedelta(minutes=5))
    first = outbox.claim(session, "w1", now=T0)
    second = outbox.claim(session, "w2", now=T0)
    assert [m.dedupe_key for m in first] == ["a", "b"]
    assert all(m.attempts == 1 and m.claim_token == "w1" for m in first)
    assert second == []


def test_expired_lease_is_taken_over_and_old_owner_cannot_mark_it(session):
    put(session)
    [stale] = outbox.claim(session, "dead-worker", lease_seconds=30, now=T0)
    assert outbox.claim(session, "w2", now=T0 + timedelta(seconds=29)) == []
    [fresh] = outbox.claim(session, "w2", now=T0 + timedelta(seconds=31))
    assert fresh.attempts == 2
    assert not outbox.mark_sent(session, stale, slack_ts="1", slack_channel="D1")
    assert outbox.mark_sent(session, fresh, slack_ts="2", slack_channel="D1")
    row = session.scalars(select(Outbox)).one()
    assert (row.status, row.slack_ts) == (OutboxStatus.SENT, "2")


def test_retry_waits_and_dead_letters_after_max_attempts(session):
    put(session)
    now = T0
    for attempt in range(1, 4):
        [message] = outbox.claim(session, "w", now=now)
        assert message.attempts == attempt
        status = outbox.mark_retry(
            session, message, error="boom", delay_seconds=10, max_attempts=3, now=now
        )
        now += timedelta(seconds=11)
    assert status == OutboxStatus.DEAD
    row = session.scalars(select(Outbox)).one()
    assert row.status == OutboxStatus.DEAD
    assert "gave up after 3 attempts: boom" in row.last_error


def test_rate_limited_retry_gives_the_attempt_back(session):
    put(session)
    [message] = outbox.claim(session, "w", now=T0)
    outbox.mark_retry(
        session, message, error="429", delay_seconds=5, counts_as_attempt=False, now=T0
    )
    assert outbox.claim(session, "w", now=T0 + timedelta(seconds=4)) == []
    [again] = outbox.claim(session, "w", now=T0 + timedelta(seconds=5))
    assert again.attempts == 1


def test_a_send_is_stamped_at_its_first_utc_time_whatever_the_session_time_zone(session):
    if is_postgres(session):  # a positive offset would put the stamp after the message
        session.execute(text("SET LOCAL TimeZone = 'Asia/Tokyo'"))
    put(session)
    [message] = outbox.claim(session, "w", now=T0)
    assert outbox.begin_send(session, message, now=T0)
    assert outbox.begin_send(session, message, now=T0 + timedelta(seconds=5))
    assert session.scalars(select(Outbox.ambiguous_since)).one() == T0


def test_dead_message_can_be_requeued(session):
    put(session)
    [message] = outbox.claim(session, "w", now=T0)
    outbox.mark_dead(session, message, error="channel_not_found")
    assert outbox.outbox_counts(session) == {"pending": 0, "sending": 0, "sent": 0, "dead": 1}
    assert outbox.requeue(session, message.id, now=T0)
    assert outbox.outbox_counts(session)["pending"] == 1
    assert [m.status for m in outbox.list_messages(session)] == [OutboxStatus.PENDING]


def test_backoff_grows_and_is_capped():
    assert 0.25 <= outbox.backoff_seconds(1) <= 0.5
    assert 2 <= outbox.backoff_seconds(4) <= 4
    assert outbox.backoff_seconds(40) <= outbox.MAX_BACKOFF_SECONDS
