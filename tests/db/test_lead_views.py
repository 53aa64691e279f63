"""Open leads: status open and no first response; counted in full, the oldest listed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from salesops_core.db.models import Lead, LeadStatus, Rep
from salesops_core.leads.views import waiting_leads
from salesops_core.org.scopes import ORG_SCOPE, rep_scope
from salesops_core.periods import parse_period

NOV_1 = datetime(2026, 11, 1, 9, tzinfo=UTC)


def add_leads(session: Session) -> Rep:
    ann, bo = Rep(name="Ann"), Rep(name="Bo")
    session.add_all([ann, bo])
    session.flush()
    answered = NOV_1 + timedelta(hours=1)
    session.add_all(
        [
            Lead(external_id="oct", owner_id=ann.id, created_at=NOV_1 - timedelta(days=3)),
            Lead(external_id="new", owner_id=ann.id, created_at=NOV_1 + timedelta(days=2)),
            Lead(external_id="old", owner_id=ann.id, created_at=NOV_1),
            Lead(external_id="bo", owner_id=bo.id, created_at=NOV_1),
            Lead(external_id="none", created_at=NOV_1 + timedelta(days=1)),
            Lead(
                external_id="answered",
                owner_id=ann.id,
                created_at=NOV_1,
                first_response_at=answered,
                status=LeadStatus.RESPONDED,
            ),
            Lead(
                external_id="closed",
                owner_id=ann.id,
                created_at=NOV_1,
                status=LeadStatus.CLOSED,
            ),
        ]
    )
    session.flush()
    return ann


def test_a_reps_open_leads_leave_out_answered_and_closed_ones(session: Session) -> None:
    ann = add_leads(session)
    waiting = waiting_leads(session, rep_scope(ann), limit=2)
    assert waiting.total == 3
    assert [lead.external_id for lead in waiting.oldest] == ["oct", "old"]
    assert waiting.oldest[0].owner == "Ann"


def test_open_leads_created_in_a_period_include_unassigned_ones(session: Session) -> None:
    add_leads(session)
    november = parse_period("2026-11", tz=ZoneInfo("UTC"))
    waiting = waiting_leads(session, ORG_SCOPE, limit=10, created_in=november)
    assert [(lead.external_id, lead.owner) for lead in waiting.oldest] == [
        ("old", "Ann"),
        ("bo", "Bo"),
        ("none", None),
        ("new", "Ann"),
    ]
    assert waiting.total == 4


def test_no_open_leads_is_zero_and_an_empty_list(session: Session) -> None:
    ann = Rep(name="Ann")
    session.add(ann)
    session.flush()
    waiting = waiting_leads(session, rep_scope(ann), limit=5)
    assert (waiting.total, waiting.oldest) == (0, [])
