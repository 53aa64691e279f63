"""Upserts behind the ingest API: one deal or activity at a time, idempotent on external_id.

Values arrive validated and typed (the API's pydantic models, within `limits`); this module
resolves references (owner, stage, deal, lead), applies the row rules a CSV row meets
(`records`: a stage the stage map knows, a closed deal's close time, a response after its
lead) and writes. A problem raises `IngestError` naming the field, so the caller can answer
422 without writing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import (
    Activity,
    ActivityType,
    Deal,
    DealStageChange,
    Lead,
    Outcome,
    Rep,
)
from salesops_core.errors import SalesopsError, UnknownRep
from salesops_core.importers import records
from salesops_core.importers.formats import format_spec
from salesops_core.importers.stagemap import StageMap, build_stage_map
from salesops_core.org.lookup import find_rep
from salesops_core.timeutil import utcnow


class IngestError(SalesopsError):
    """A value that passed validation but names nothing that exists (`kind` "not_found") or
    breaks a row rule ("value_error")."""

    def __init__(self, field: str, message: str, kind: str = "not_found") -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
        self.kind = kind


@dataclass(frozen=True)
class Upserted:
    """The row written and whether it was new."""

    id: int
    external_id: str
    created: bool
    changed: bool


def owner_rep(
    session: Session, who: str, field: str = "owner", *, found: dict[str, Rep] | None = None
) -> Rep:
    """The rep named exactly (email, Slack id or full name; one who left too), or IngestError.

    `found`: the reps a batch has found so far, by the text that named them (read and filled
    here), so a batch looks each owner up once."""
    if found is not None and who in found:
        return found[who]
    try:
        rep = find_rep(session, who, exact=True)
    except UnknownRep as exc:
        raise IngestError(field, str(exc)) from None
    if found is not None:
        found[who] = rep
    return rep


def check_response(
    created_at: datetime, responded_at: datetime | None, field: str = "first_response_at"
) -> None:
    """IngestError when a first response is before its lead was created (the CSV rule)."""
    problem = records.response_problem(created_at, responded_at)
    if problem is not None:
        raise IngestError(field, problem, "value_error")


def ingest_stage_map(session: Session) -> StageMap:
    """The stage map a native deal import uses (the stage table), for the API's deals."""
    return build_stage_map(session, format_spec("native", "deals").stages, ())


def _apply(row: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    return changed


def upsert_deal(
    session: Session,
    fields: dict[str, Any],
    *,
    now: datetime | None = None,
    stages: StageMap | None = None,
    owners: dict[str, Rep] | None = None,
) -> Upserted:
    """Create or update a deal by external_id; a stage change is recorded in its history.

    The stage and outcome follow the CSV import's rules (`records.deal_stage`); pass
    `stages` (from `ingest_stage_map`) to reuse one stage map for many deals, and `owners`
    (see `owner_rep`) to look each owner up once."""
    now = now or utcnow()
    owner = owner_rep(session, fields["owner"], found=owners)
    explicit = Outcome(fields["outcome"]) if fields.get("outcome") else None
    state = records.deal_stage(stages or ingest_stage_map(session), fields["stage"], explicit)
    if state.problem is not None:
        raise IngestError("stage", state.problem, "value_error")
    closed_at = None if state.outcome == Outcome.OPEN else fields.get("closed_at")
    problem = records.closed_at_problem(state.outcome, closed_at)
    if problem is not None:
        raise IngestError("closed_at", problem, "value_error")
    probability = fields.get("probability")
    if probability is not None and probability > 1:
        probability = probability / 100.0
    values = {
        "name": fields.get("name"),
        "account": fields.get("account"),
        "owner_id": owner.id,
        "amount": fields.get("amount"),
        "currency": fields.get("currency"),
        "stage": state.stage,
        "probability": probability,
        "created_at": fields["created_at"],
        "expected_close": fields.get("expected_close"),
        "closed_at": closed_at,
        "outcome": state.outcome,
        "product": fields.get("product"),
        "forecast_category": fields.get("forecast_category"),
    }
    deal = session.scalars(
        select(Deal).where(Deal.external_id == fields["external_id"])
    ).one_or_none()
    created = deal is None
    if deal is None:
        deal = Deal(external_id=fields["external_id"], **values)
        session.add(deal)
        session.flush()
        entered: datetime | None = fields["created_at"]
        changed = True
    else:
        before = [getattr(deal, name) for name in records.HISTORY_FIELDS]
        changed = _apply(deal, values)
        history = before != [getattr(deal, name) for name in records.HISTORY_FIELDS]
        entered = now if history else None
    if entered is not None:
        session.add(DealStageChange(**records.stage_change(deal.id, values, entered)))
    session.flush()
    return Upserted(deal.id, deal.external_id, created, changed)


def upsert_activity(
    session: Session,
    fields: dict[str, Any],
    *,
    now: datetime | None = None,
    owners: dict[str, Rep] | None = None,
) -> Upserted:
    """Create or update an activity by external_id, linking its deal and lead if named
    (`owners`: see `owner_rep`)."""
    rep = owner_rep(session, fields["owner"], found=owners)
    deal_id = lead_id = None
    if fields.get("deal_external_id"):
        deal_id = session.scalar(
            select(Deal.id).where(Deal.external_id == fields["deal_external_id"])
        )
        if deal_id is None:
            raise IngestError("deal_external_id", f"no deal {fields['deal_external_id']!r}")
    if fields.get("lead_external_id"):
        lead_id = session.scalar(
            select(Lead.id).where(Lead.external_id == fields["lead_external_id"])
        )
        if lead_id is None:
            raise IngestError("lead_external_id", f"no lead {fields['lead_external_id']!r}")
    values = {
        "rep_id": rep.id,
        "type": ActivityType(fields["type"]),
        "started_at": fields["started_at"],
        "minutes": fields.get("minutes"),
        "deal_id": deal_id,
        "lead_id": lead_id,
        "external_attendee": bool(fields.get("external_attendee") or False),
    }
    activity = session.scalars(
        select(Activity).where(Activity.external_id == fields["external_id"])
    ).one_or_none()
    if activity is None:
        activity = Activity(external_id=fields["external_id"], **values)
        session.add(activity)
        session.flush()
        return Upserted(activity.id, activity.external_id, True, True)
    changed = _apply(activity, values)
    session.flush()
    return Upserted(activity.id, activity.external_id, False, changed)
