"""Leads that arrive in bulk get the same business-hours deadline as leads from the API."""

from datetime import UTC, datetime, time

from sqlalchemy import select

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Lead, Rep
from salesops_core.leads.deadlines import fill_sla_deadlines

POLICIES = [
    SlaPolicy(source="chat", first_response_minutes=2, business_hours=False),
    SlaPolicy(source="*", first_response_minutes=5),
]


def _rep(session):
    rep = Rep(
        name="Ana",
        email="ana@example.com",
        timezone="America/New_York",
        work_start=time(9),
        work_end=time(17),
        workdays="12345",
    )
    session.add(rep)
    session.flush()
    return rep


def test_a_saturday_lead_is_due_five_business_minutes_after_monday_opens_across_dst(session):
    rep = _rep(session)
    # Saturday 2026-03-07 15:00 EST (20:00 UTC). DST starts Sunday 8 March, so the clock
    # starts Monday 09:00 EDT (13:00 UTC) and the lead is due at 09:05 EDT = 13:05 UTC.
    session.add(
        Lead(external_id="L1", owner_id=rep.id, created_at=datetime(2026, 3, 7, 20, 0, tzinfo=UTC))
    )
    assert fill_sla_deadlines(session, OrgConfig(), POLICIES) == 1
    lead = session.scalars(select(Lead)).one()
    assert lead.sla_due_at == datetime(2026, 3, 9, 13, 5, tzinfo=UTC)


def test_the_first_matching_policy_decides_and_wall_clock_policies_ignore_hours(session):
    rep = _rep(session)
    saturday_night = datetime(2026, 3, 8, 2, 0, tzinfo=UTC)
    session.add(Lead(external_id="C1", source="chat", owner_id=rep.id, created_at=saturday_night))
    fill_sla_deadlines(session, OrgConfig(), POLICIES)
    lead = session.scalars(select(Lead)).one()
    assert lead.sla_due_at == datetime(2026, 3, 8, 2, 2, tzinfo=UTC)


def test_leads_that_have_a_deadline_keep_it_and_batches_cover_every_lead(session):
    rep = _rep(session)
    kept = datetime(2030, 1, 1, tzinfo=UTC)
    session.add(Lead(external_id="K", owner_id=rep.id, created_at=kept, sla_due_at=kept))
    for n in range(7):
        session.add(
            Lead(
                external_id=f"N{n}",
                source="chat",
                owner_id=rep.id,
                created_at=datetime(2026, 5, 4, 12, n, tzinfo=UTC),
            )
        )
    assert fill_sla_deadlines(session, OrgConfig(), POLICIES, batch=3) == 7
    leads = {lead.external_id: lead for lead in session.scalars(select(Lead))}
    assert leads["K"].sla_due_at == kept
    assert leads["N6"].sla_due_at == datetime(2026, 5, 4, 12, 8, tzinfo=UTC)
