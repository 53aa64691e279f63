"""Shared builders for the speed-to-lead tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core import outbox
from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Outbox, Rep, Role
from salesops_core.leads.engine import LeadRules
from salesops_core.leads.notices import LeadFacts, LeadReassigned

MONDAY_10_UTC = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)

WALL_CLOCK = LeadRules(
    org=OrgConfig(timezone="UTC"),
    policies=[
        SlaPolicy(
            source="*",
            first_response_minutes=5,
            remind_rep_after_minutes=5,
            alert_manager_after_minutes=15,
            reassign_after_minutes=30,
            business_hours=False,
        )
    ],
)


def a_notice(n: int = 0) -> LeadReassigned:
    """A notice that needs no rows in the database (for outbox and dispatcher tests)."""
    return LeadReassigned(LeadFacts(n, f"L{n}", f"Company {n}", None, None), "Rep 2")


def put_notices(sessions: sessionmaker[Session], n: int = 1, channel: str = "U1") -> None:
    """`n` notices in the outbox for `channel`, dedupe keys m0, m1, ..."""
    with sessions.begin() as session:
        for i in range(n):
            outbox.enqueue(session, a_notice(i), dedupe_key=f"m{i}", recipient=channel)


def rows_by_key(sessions: sessionmaker[Session]) -> dict[str, Outbox]:
    """The outbox rows by dedupe key."""
    with sessions() as session:
        return {row.dedupe_key: row for row in session.scalars(select(Outbox))}


def make_team(session: Session, reps: int = 2, **rep_fields) -> tuple[Rep, list[Rep]]:
    """A manager and `reps` reps reporting to them (Slack ids M1, U1, U2, ...)."""
    manager = Rep(name="Mia Manager", email="mia@x.test", slack_user_id="M1", role=Role.MANAGER)
    session.add(manager)
    session.flush()
    members = [
        Rep(
            name=f"Rep {n}",
            email=f"rep{n}@x.test",
            slack_user_id=f"U{n}",
            manager_id=manager.id,
            timezone="UTC",
            **rep_fields,
        )
        for n in range(1, reps + 1)
    ]
    session.add_all(members)
    session.flush()
    return manager, members


def track_deliveries(fake) -> list[tuple[str, str, float]]:
    """Record (dedupe key, channel, monotonic time) of every chat.postMessage Slack accepted."""
    import time

    accepted: list[tuple[str, str, float]] = []
    answer = fake._answer

    def recording(method, params, headers):
        status, extra, body = answer(method, params, headers)
        if method == "chat.postMessage" and status == 200 and body.get("ok"):
            metadata = params.get("metadata") or {}
            if isinstance(metadata, str):
                import json

                metadata = json.loads(metadata)
            key = (metadata.get("event_payload") or {}).get("dedupe_key", "")
            accepted.append((key, body["channel"], time.monotonic()))
        return status, extra, body

    fake._answer = recording
    return accepted
