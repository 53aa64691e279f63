"""First-response deadlines for leads that arrived without one (CSV imports, the demo).

Leads posted to the ingest API get `sla_due_at` when they are created (`leads.create_lead`).
Leads that come in bulk get the same deadline here, with the same business-hours clock, so
`lead_sla_met_share` means the same thing whatever way a lead arrived.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy, policy_for
from salesops_core.db.models import Lead, Rep
from salesops_core.leads.business_hours import WorkCalendar, calendar_for, sla_deadline

BATCH = 5_000


def fill_sla_deadlines(
    session: Session, org: OrgConfig, policies: Sequence[SlaPolicy], *, batch: int = BATCH
) -> int:
    """Set `sla_due_at` on every lead that has none; returns how many leads got one.

    The business-hours arithmetic has no SQL form, so this walks the leads in id order, a
    batch at a time, with one calendar per (owner, policy) built once.
    """
    policies = list(policies)
    reps = {rep.id: rep for rep in session.scalars(select(Rep))}
    calendars: dict[tuple[int | None, int], WorkCalendar] = {}

    def calendar(owner_id: int | None, policy: SlaPolicy) -> WorkCalendar:
        key = (owner_id, id(policy))
        if key not in calendars:
            calendars[key] = calendar_for(reps.get(owner_id) if owner_id else None, org, policy)
        return calendars[key]

    filled, after = 0, 0
    while True:
        rows = session.execute(
            select(Lead.id, Lead.created_at, Lead.source, Lead.owner_id)
            .where(Lead.sla_due_at.is_(None), Lead.id > after)
            .order_by(Lead.id)
            .limit(batch)
        ).all()
        if not rows:
            return filled
        changes = []
        for lead_id, created_at, source, owner_id in rows:
            policy = policy_for(policies, source)
            clock = calendar(owner_id, policy)
            due = sla_deadline(created_at, policy.first_response_minutes, clock)
            changes.append({"pk": lead_id, "sla_due_at": due})
        # Core executemany: the ORM's bulk update by primary key costs several times more.
        session.execute(
            update(Lead.__table__).where(Lead.__table__.c.id == bindparam("pk")), changes
        )
        filled += len(changes)
        after = rows[-1].id
