"""Removing records a CRM deleted, merged away or archived: by external id, with what
points at them (a deal's stage history goes with it; its activities stay, unlinked)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from salesops_core.db.models import Activity, Deal, DealStageChange, Lead, LeadAssignment
from salesops_core.importers.bulk import chunks

REMOVABLE = ("deals", "leads", "activities")


def remove_records(session: Session, kind: str, external_ids: Iterable[str]) -> int:
    """Delete the rows of `kind` with these external ids; returns how many were here."""
    if kind not in REMOVABLE:
        raise ValueError(f"cannot remove {kind}; only {', '.join(REMOVABLE)}")
    removed = 0
    for part in chunks(sorted(set(external_ids))):
        if kind == "activities":
            removed += _delete(session, Activity, part)
            continue
        table = Deal if kind == "deals" else Lead
        ids = list(session.scalars(select(table.id).where(table.external_id.in_(part))))
        if not ids:
            continue
        link = Activity.deal_id if kind == "deals" else Activity.lead_id
        session.execute(update(Activity).where(link.in_(ids)).values({link: None}))
        if kind == "deals":
            session.execute(delete(DealStageChange).where(DealStageChange.deal_id.in_(ids)))
        else:
            session.execute(delete(LeadAssignment).where(LeadAssignment.lead_id.in_(ids)))
        session.execute(delete(table).where(table.id.in_(ids)))
        removed += len(ids)
    return removed


def _delete(session: Session, table: type[Activity], external_ids: Iterable[str]) -> int:
    result = session.execute(delete(table).where(table.external_id.in_(list(external_ids))))
    return int(getattr(result, "rowcount", 0) or 0)
