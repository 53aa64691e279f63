"""The outbox: every notice the bot sends on its own is a row first, then delivered once.

A row holds a typed notice: its kind (`NoticeKind`) and its facts (a dataclass, stored as
JSON), the recipient (a Slack user or channel id), and once sent, where the message landed
(`slack_channel`, `slack_ts`). What the notice looks like in Slack is decided when it is sent
(`commands.notices`), not here. An edit of an earlier message is its own notice whose row
points at the row of the message to edit (`edits_id`): a message's location is stored once.
A follow-up (a digest's chart) points at the row it follows (`follows_id`): it is not claimed
before that row is sent (or dead), and then goes into the same conversation.

A recipient is a Slack user or channel id, or a mailbox (`mailbox(name, email)`) for a person
whose Slack id is not known: the dispatcher looks the email up when it sends.

Lifecycle: pending -> (claim) sending -> sent | pending again (retry) | dead.
A claim is a short lease that the sender renews while it works (`renew_leases`): if the sender
dies, the lease expires within seconds and another dispatcher takes the row over. Claiming is
one atomic statement: `UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP LOCKED) RETURNING`
on PostgreSQL; on SQLite the same UPDATE runs under SQLite's single writer lock, so two
dispatchers can never claim the same row. Marking a row checks the claim token, so a sender
whose lease was taken over cannot overwrite the new owner's result.

Exactly once: `begin_send` re-checks the claim right before a message goes to Slack and stamps
the row `ambiguous_since`. The stamp stays until Slack's answer says what happened (`mark_sent`,
or `mark_retry(settled=True)` for an answer that posted nothing). A row claimed with the stamp
set (a timeout, a dropped connection, a 5xx, a sender that died mid-send) may already be in
Slack: the dispatcher looks for it by its dedupe key before it sends it again.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import formataddr, parseaddr
from typing import Any, ClassVar, Protocol, TypeVar

from pydantic import TypeAdapter
from sqlalchemy import and_, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from salesops_core.db.engine import rows_changed, upsert_insert
from salesops_core.db.models import Outbox, OutboxStatus
from salesops_core.timeutil import utcnow

DEFAULT_LEASE_SECONDS = 15.0
MAX_ATTEMPTS = 8
MAX_BACKOFF_SECONDS = 300.0


class NoticeKind(enum.StrEnum):
    """Every kind of notice the bot sends on its own (the values are stored in `outbox.kind`)."""

    NEW_LEAD = "lead_dm"  # a lead for its (new) owner, with its buttons
    LEAD_REMINDER = "remind_rep"  # ladder step 1: the owner, again
    MANAGER_ALERT = "alert_manager"  # ladder step 2: the owner's manager
    LEAD_REASSIGNED = "lead_reassigned"  # the previous owner: where the lead went
    LEAD_DM_UPDATE = "lead_dm_update"  # an edit of a delivered lead DM (the lead was answered)
    DIGEST = "digest"  # a team's weekly digest for a manager (or a team channel)
    DIGEST_CHART = "digest_chart"  # the digest's chart, posted after the digest message
    NUDGE = "nudge"  # an accountability nudge for one person, with its buttons
    NUDGE_ROLLUP = "nudge_rollup"  # a manager's daily roll-up of their team's nudges
    FORECAST_SCORECARD = "forecast_scorecard"  # after a quarter: a rep's or a team's scorecard


class Notice(Protocol):
    """A notice's facts: a dataclass that names its kind."""

    kind: ClassVar[NoticeKind]


N = TypeVar("N")


_ADAPTERS: dict[type[Any], TypeAdapter[Any]] = {}


def _adapter(notice_type: type[Any]) -> TypeAdapter[Any]:
    """The (de)serialiser of one notice type, built once."""
    if notice_type not in _ADAPTERS:
        _ADAPTERS[notice_type] = TypeAdapter(notice_type)
    return _ADAPTERS[notice_type]


def notice_payload(notice: Notice) -> dict[str, Any]:
    """A notice's facts as JSON (time stamps as ISO 8601 strings)."""
    payload: dict[str, Any] = _adapter(type(notice)).dump_python(notice, mode="json")
    return payload


def read_notice(notice_type: type[N], payload: dict[str, Any]) -> N:
    """The notice of `notice_type` stored as `payload`."""
    notice: N = _adapter(notice_type).validate_python(payload)
    return notice


@dataclass(frozen=True)
class SlackLocation:
    """Where a delivered message is in Slack."""

    channel: str
    ts: str


@dataclass(frozen=True)
class ClaimedMessage:
    """A snapshot of a claimed row: what the dispatcher needs to send it."""

    id: int
    dedupe_key: str
    kind: str  # a NoticeKind value
    channel: str | None  # the recipient: a Slack user or channel id
    payload: dict[str, Any]
    attempts: int
    claim_token: str
    edits: SlackLocation | None = None  # an edit: the message to change
    edits_missing: bool = False  # an edit whose message was never delivered
    follows: SlackLocation | None = None  # a follow-up: the delivered message it goes after
    follows_failed: str | None = None  # a follow-up whose message is dead: that row's error
    ambiguous_since: datetime | None = None  # a send began then and may be in Slack already


def mailbox(name: str, email: str | None) -> str:
    """A recipient to look up by email when sent: "Name <email>" ("Name <>" without one)."""
    return formataddr((name, email or "")) if email else f"{name} <>"


def person_recipient(slack_user_id: str | None, name: str, email: str | None) -> str:
    """A person's recipient: their Slack user id, else their mailbox (looked up when sent)."""
    return slack_user_id or mailbox(name, email)


def mailbox_parts(recipient: str) -> tuple[str, str] | None:
    """(name, email) of a mailbox recipient (email "" when unknown); None for a Slack id."""
    if "<" not in recipient:
        return None
    name, email = parseaddr(recipient)
    return (name or recipient.split("<", 1)[0].strip(), email)


def enqueue(
    session: Session,
    notice: Notice,
    *,
    dedupe_key: str,
    recipient: str | None,
    edits: int | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> bool:
    """Add a notice unless one with the same dedupe key exists; True when it was added.

    `edits`: the outbox id of a delivered message this notice rewrites (see `latest_sent`).
    """
    added = enqueue_row(
        session,
        notice,
        dedupe_key=dedupe_key,
        recipient=recipient,
        edits=edits,
        not_before=not_before,
        now=now,
    )
    return added is not None


def enqueue_row(
    session: Session,
    notice: Notice,
    *,
    dedupe_key: str,
    recipient: str | None,
    edits: int | None = None,
    follows: int | None = None,
    not_before: datetime | None = None,
    now: datetime | None = None,
) -> int | None:
    """`enqueue`, returning the new row's id (None when the key exists).

    `follows`: the outbox id of the message this notice goes after, in its conversation.
    """
    now = now or utcnow()
    values = {
        "dedupe_key": dedupe_key,
        "kind": notice.kind,
        "channel": recipient,
        "payload": notice_payload(notice),
        "edits_id": edits,
        "follows_id": follows,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "created_at": now,
    }
    stmt = (
        upsert_insert(session, Outbox)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(Outbox.id)
    )
    added: int | None = session.execute(stmt).scalar_one_or_none()
    return added


def latest_sent(session: Session, dedupe_keys: Sequence[str]) -> Outbox | None:
    """The row of the most recently delivered of these messages; None if none was."""
    if not dedupe_keys:
        return None
    return session.scalar(
        select(Outbox)
        .where(Outbox.dedupe_key.in_(dedupe_keys), Outbox.status == OutboxStatus.SENT)
        .order_by(Outbox.sent_at.desc(), Outbox.id.desc())
        .limit(1)
    )


def _targets(session: Session, ids: set[int]) -> tuple[dict[int, SlackLocation], dict[int, str]]:
    """The rows edits and follow-ups point at, in one read: where each delivered one is in
    Slack, and the error of each dead one."""
    located: dict[int, SlackLocation] = {}
    failed: dict[int, str] = {}
    if not ids:
        return located, failed
    rows = session.execute(
        select(
            Outbox.id, Outbox.status, Outbox.slack_channel, Outbox.slack_ts, Outbox.last_error
        ).where(Outbox.id.in_(ids))
    )
    for row_id, status, channel, ts, error in rows:
        if channel is not None and ts is not None:
            located[row_id] = SlackLocation(str(channel), str(ts))
        if status == OutboxStatus.DEAD:
            failed[row_id] = error or "dead"
    return located, failed


def _follow_up_blocked(
    follows_id: int | None, located: dict[int, SlackLocation], failed: dict[int, str]
) -> str | None:
    """Why a claimed follow-up cannot go after its message (None: it can, or follows none)."""
    if follows_id is None or (follows_id in located and follows_id not in failed):
        return None
    return failed.get(follows_id, "it was delivered without a Slack location")


def _followed_is_done() -> Any:
    """A row follows nothing, or the row it follows is sent or dead (its outcome is known)."""
    followed = aliased(Outbox)
    done = (
        select(followed.id)
        .where(
            followed.id == Outbox.follows_id,
            followed.status.in_((OutboxStatus.SENT, OutboxStatus.DEAD)),
        )
        .exists()
    )
    return or_(Outbox.follows_id.is_(None), done)


def claim(
    session: Session,
    worker: str,
    *,
    limit: int = 10,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    now: datetime | None = None,
) -> list[ClaimedMessage]:
    """Lease up to `limit` due rows (pending and due, or sending with an expired lease).

    `worker` becomes the claim token; make it unique per claiming process or thread. An edit
    comes with the location of the message it rewrites, read from that message's row; a
    follow-up is claimed only once its message is sent (with that message's location) or
    dead (with its error). The caller commits right after, before sending anything.
    """
    now = now or utcnow()
    due = and_(
        or_(
            and_(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now),
            and_(Outbox.status == OutboxStatus.SENDING, Outbox.lease_expires_at < now),
        ),
        _followed_is_done(),
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
            Outbox.edits_id,
            Outbox.follows_id,
            Outbox.ambiguous_since,
        )
        .execution_options(synchronize_session=False)
    )
    rows = session.execute(stmt).all()
    targets = {row.edits_id for row in rows if row.edits_id is not None}
    targets |= {row.follows_id for row in rows if row.follows_id is not None}
    located, failed = _targets(session, targets)
    claimed = [
        ClaimedMessage(
            id=row.id,
            dedupe_key=row.dedupe_key,
            kind=row.kind,
            channel=row.channel,
            payload=row.payload,
            attempts=row.attempts,
            claim_token=worker,
            edits=located.get(row.edits_id) if row.edits_id is not None else None,
            edits_missing=row.edits_id is not None and row.edits_id not in located,
            follows=located.get(row.follows_id) if row.follows_id is not None else None,
            follows_failed=_follow_up_blocked(row.follows_id, located, failed),
            ambiguous_since=row.ambiguous_since,
        )
        for row in rows
    ]
    return sorted(claimed, key=lambda message: message.id)


def _held_by(worker: str) -> Any:
    """Rows whose claim `worker` still holds: claimed by it and still being sent."""
    return and_(Outbox.status == OutboxStatus.SENDING, Outbox.claimed_by == worker)


def _update_held(session: Session, message: ClaimedMessage, **values: Any) -> bool:
    """Set `values` on the message's row if its claim is still held; False if it was lost."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.id == message.id, _held_by(message.claim_token))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


def renew_leases(
    session: Session,
    worker: str,
    ids: Sequence[int],
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    now: datetime | None = None,
) -> int:
    """Extend the leases `worker` still holds among `ids` (the heartbeat); how many."""
    if not ids:
        return 0
    now = now or utcnow()
    result = session.execute(
        update(Outbox)
        .where(Outbox.id.in_(ids), _held_by(worker))
        .values(lease_expires_at=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    return rows_changed(result)


def begin_send(
    session: Session,
    message: ClaimedMessage,
    *,
    lease_seconds: float = DEFAULT_LEASE_SECONDS,
    posts: bool = True,
    now: datetime | None = None,
) -> bool:
    """Check the claim right before a send and renew its lease; False if it was lost.

    `posts`: the send creates a message (chat.postMessage), so the row is stamped
    `ambiguous_since` (kept at the first unconfirmed send) until Slack's answer is recorded.
    The caller commits before sending."""
    now = now or utcnow()
    values: dict[str, Any] = {"lease_expires_at": now + timedelta(seconds=lease_seconds)}
    if posts:
        # typed as the column: a bare datetime inside a function is bound as timestamptz,
        # which PostgreSQL would store in the session's time zone, not UTC
        stamp = literal(now, Outbox.__table__.c.ambiguous_since.type)
        values["ambiguous_since"] = func.coalesce(Outbox.ambiguous_since, stamp)
    return _update_held(session, message, **values)


def mark_sent(
    session: Session,
    message: ClaimedMessage,
    *,
    slack_ts: str | None,
    slack_channel: str | None,
    now: datetime | None = None,
) -> bool:
    """Record a delivered message and where it is (channel, `ts`); False if the claim was lost."""
    return _update_held(
        session,
        message,
        status=OutboxStatus.SENT,
        slack_ts=slack_ts,
        slack_channel=slack_channel,
        sent_at=now or utcnow(),
        lease_expires_at=None,
        ambiguous_since=None,
        last_error=None,
    )


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
    settled: bool = False,
    max_attempts: int = MAX_ATTEMPTS,
    now: datetime | None = None,
) -> OutboxStatus | None:
    """Put the row back for a later try, or dead-letter it after `max_attempts` failures.

    Rate limiting (429) is not a failure of the message: pass `counts_as_attempt=False`
    and the attempt is given back. `settled`: Slack answered that nothing was posted, so the
    `ambiguous_since` stamp is cleared; otherwise it stays and the next sender looks in Slack
    first. Returns the new status (None if the claim was lost).
    """
    now = now or utcnow()
    attempts = message.attempts if counts_as_attempt else message.attempts - 1
    if counts_as_attempt and attempts >= max_attempts:
        return (
            OutboxStatus.DEAD
            if mark_dead(session, message, error=f"gave up after {attempts} attempts: {error}")
            else None
        )
    retried = _update_held(
        session,
        message,
        status=OutboxStatus.PENDING,
        attempts=attempts,
        next_attempt_at=now + timedelta(seconds=delay_seconds),
        lease_expires_at=None,
        last_error=error,
        **({"ambiguous_since": None} if settled else {}),
    )
    return OutboxStatus.PENDING if retried else None


def mark_dead(session: Session, message: ClaimedMessage, *, error: str) -> bool:
    """Dead-letter a message that can never be delivered, keeping the reason."""
    return _update_held(
        session, message, status=OutboxStatus.DEAD, lease_expires_at=None, last_error=error
    )


def requeue(session: Session, message_id: int, *, now: datetime | None = None) -> bool:
    """Send a dead-lettered message again (after the cause was fixed)."""
    result = session.execute(
        update(Outbox)
        .where(Outbox.id == message_id, Outbox.status == OutboxStatus.DEAD)
        .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now or utcnow())
        .execution_options(synchronize_session=False)
    )
    return bool(rows_changed(result))


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
