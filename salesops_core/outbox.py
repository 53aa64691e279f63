"""The outbox: every message the bot sends on its own is a row first, then delivered once.

Lifecycle: pending -> (claim) sending -> sent | pending again (retry) | dead.
A claim is a lease: if the sender dies, the lease expires and another dispatcher takes the
row over. Claiming is one atomic statement: `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE
SKIP LOCKED) RETURNING` on PostgreSQL; on SQLite the same UPDATE runs under SQLite's single
writer lock, so two dispatchers can never claim the same row. Marking a row checks the
claim token, so a sender whose lease was taken over cannot overwrite the new owner's result.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from salesops_core.db.models import Outbox, OutboxStatus
from salesops_core.timeutil import utcnow

DEFAULT_LEASE_SECONDS = 60.0
MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300.0


@dataclass(frozen=True)
class ClaimedMessage:
    """A snapshot of a claimed row: what the dispatcher needs to send it."""

    id: int
    dedupe_key: str
    kind: str
    channel: str | None
    payload: dict[str, Any]
    attempts: int
    lead_id: int | None
    claim_token: str


def enqueue(
    session: Session,
    *,
    dedupe_key: str,
    kind: str,
    channel: str | None,
    payload: dict[str, Any],
    lead_id: int | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Add a message unless one with the same dedupe key exists; True when it was added."""
    now = now or utcnow()
    values = {
        "dedupe_key": dedupe_key,
        "kind": kind,
        "channel": channel,
        "payload": payload,
        "lead_id": lead_id,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    dialect = session.get_bind().dialect.name
    builder = pg_insert if dialect == "postgresql" else sqlite_insert
    stmt = (
        builder(Outbox)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Outbox.id)
    )
    return session.execute(stmt).scalar_one_or_none() is not None


def claim(
    session: Session,
    worker: str,
    *,
    limit: int = 10,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    now: datetime | None = None,
) -> list[ClaimedMessage]:
    """Lease up to `limit` due rows (pending and due, or sending with an expired lease).

    `worker` becomes the claim token; make it unique per claiming process or thread.
    The caller commits right after, before sending anything.
    """
    now = now or utcnow()
    due = or_(
        and_(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now),
        and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_expires_at < now),
    )
    ids = (
        select(Outbox.id)
        .where(due)
        .order_by(Outbox.next_attempt_at, Outbox.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Outbox)
        .where(Outbox.id.in_(ids.scalar_subquery()), due)
        .values(
            status=OutboxStatus.SENDING,
            claimed_by=worker,
            lease_expires_at=now + timedelta(seconds=lease_seconds),
            attempts=Outbox.attempts + 1,
        )
        .returning(
            Outbox.id,
            Outbox.dedupe_key,
            Outbox.kind,
            Outbox.channel,
            Outbox.payload,
            Outbox.attempts,
            Outbox.lead_id,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(stmt).all()
    claimed = [ClaimedMessage(*row, claim_token=worker) for row in rows]
    return sorted(claimed, key=lambda message: message.id)


def _owned(message_id: int, claim_token: str) -> Any:
    return and_(
        Outbox.id == message_id,
        Outbox.status == OutboxStatus.SENDING,
        Outbox.claimed_by == claim_token,
    )


def mark_sent(
    session: Session,
    message: ClaimedMessage,
    *,
    slack_ts: str | None,
    slack_channel: str | None,
    now: datetime | None = None,
) -> bool:
    """Record a delivered message and Slack's `ts`; False if the claim was lost meanwhile."""
    result = session.execute(
        update(Outbox)
        .where(_owned(message.id, message.claim_token))
        .values(
            status=OutboxStatus.SENT,
            slack_ts=slack_ts,
            slack_channel=slack_channel,
            sent_at=now or utcnow(),
            lease_expires_at=None,
            last_error=None,
        )
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def backoff_seconds(attempts: int) -> float:
    """Exponential backoff with jitter: about 0.5, 1, 2, 4 ... seconds, at most five minutes."""
    base = min(MAX_BACKOFF_SECONDS, 0.5 * 2.0 ** max(0, attempts - 1))
    return base * (0.5 + random.random() / 2)


def mark_retry(
    session: Session,
    message: ClaimedMessage,
    *,
    error: str,
    delay_seconds: float,
    counts_as_attempt: bool = True,
    max_attempts: int = MAX_ATTEMPTS,
    now: datetime | None = None,
) -> OutboxStatus | None:
    """Put the row back for a later try, or dead-letter it after `max_attempts` failures.

    Rate limiting (429) is not a failure of the message: pass `counts_as_attempt=False`
    and the attempt is given back. Returns the new status (None if the claim was lost).
    """
    now = now or utcnow()
    attempts = message.attempts if counts_as_attempt else message.attempts - 1
    if counts_as_attempt and attempts >= max_attempts:
        return (
            OutboxStatus.DEAD
            if mark_dead(session, message, error=f"gave up after {attempts} attempts: {error}")
            else None
        )
    result = session.execute(
        update(Outbox)
        .where(_owned(message.id, message.claim_token))
        .values(
            status=OutboxStatus.PENDING,
            attempts=attempts,
            next_attempt_at=now + timedelta(seconds=delay_seconds),
            lease_expires_at=None,
            last_error=error,
        )
        .execution_options(synchronize_session=False)
    )
    return OutboxStatus.PENDING if result.rowcount else None


def mark_dead(session: Session, message: ClaimedMessage, *, error: str) -> bool:
    """Dead-letter a message that can never be delivered, keeping the reason."""
    result = session.execute(
        update(Outbox)
        .where(_owned(message.id, message.claim_token))
        .values(status=OutboxStatus.DEAD, lease_expires_at=None, last_error=error)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def requeue(session: Session, message_id: int, *, now: datetime | None = None) -> bool:
    """Send a dead-lettered message again (after the cause was fixed)."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.id == message_id, Outbox.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


def outbox_counts(session: Session) -> dict[str, int]:
    """Rows per status (every status present, zero when empty), for /metrics and the CLI."""
    counts = {status.value: 0 for status in OutboxStatus}
    rows = session.execute(select(Outbox.status, func.count()).group_by(Outbox.status))
    for status, count in rows:
        counts[OutboxStatus(status).value] = count
    return counts


def list_messages(
    session: Session, *, status: OutboxStatus | None = None, limit: int = 50
) -> list[Outbox]:
    """The newest outbox rows, optionally of one status."""
    stmt = select(Outbox).order_by(Outbox.id.desc()).limit(limit)
    if status is not None:
        stmt = stmt.where(Outbox.status == status)
    return list(session.scalars(stmt))
