"""The ingest API (mounted at /api/v1): leads, first responses, deals and activities as JSON.

- `Authorization: Bearer $SALESOPS_INGEST_TOKEN`, else 401 (503 while no token is set).
- Bodies are the native CSV columns of their kind, validated by pydantic: 422 with a body
  naming each bad field (`detail[].loc` ends with the field name), unknown fields refused.
- Idempotent on `external_id`: posting the same lead twice answers 200 with the first one.
- One transaction per request: an error writes nothing.
- Time stamps are ISO 8601; without an offset (or a date alone) they are in the org time zone.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, HTTPException, Response, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.exc import IntegrityError

from bot.deps import Deps
from salesops_core.db.engine import transaction
from salesops_core.db.models import ActivityType, Lead
from salesops_core.importers.ingest import IngestError, owner_rep, upsert_activity, upsert_deal
from salesops_core.leads.engine import (
    create_lead,
    find_lead,
    lock_lead,
    record_response,
    update_lead_dm,
)
from salesops_core.timeutil import utcnow

Text = Annotated[str, Field(min_length=1, max_length=300)]
ExternalId = Annotated[str, Field(min_length=1, max_length=128)]
When = datetime  # a date alone is accepted too (midnight)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LeadIn(_Body):
    """A new lead (native lead columns). Without `owner` it is routed by round-robin."""

    external_id: ExternalId
    owner: Text | None = None
    source: Text | None = None
    company: Text | None = None
    created_at: When | None = None
    first_response_at: When | None = None


class ResponseIn(_Body):
    """The first response to a lead: who answered (default: its owner) and when (default now)."""

    owner: Text | None = None
    at: When | None = None


class DealIn(_Body):
    """A deal (native deal columns); probability is 0-1 or 0-100."""

    external_id: ExternalId
    owner: Text
    stage: Text
    created_at: When
    name: Text | None = None
    account: Text | None = None
    amount: float | None = Field(None, ge=0)
    currency: Annotated[str, Field(min_length=3, max_length=3)] | None = None
    probability: float | None = Field(None, ge=0, le=100)
    expected_close: When | None = None
    closed_at: When | None = None
    outcome: Literal["open", "won", "lost"] | None = None
    product: Text | None = None
    forecast_category: Annotated[str, Field(max_length=64)] | None = None


class ActivityIn(_Body):
    """An activity (native activity columns)."""

    external_id: ExternalId
    owner: Text
    type: ActivityType
    started_at: When
    minutes: float | None = Field(None, ge=0)
    deal_external_id: ExternalId | None = None
    lead_external_id: ExternalId | None = None
    external_attendee: bool | None = None


class LeadOut(BaseModel):
    id: int
    external_id: str
    created: bool
    owner: str | None
    status: str
    created_at: datetime
    sla_due_at: datetime | None
    first_response_at: datetime | None


class UpsertOut(BaseModel):
    id: int
    external_id: str
    created: bool
    changed: bool


def _field_error(field: str, message: str, kind: str = "value_error") -> HTTPException:
    detail = [{"loc": ["body", field], "msg": message, "type": kind}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=detail)


def _lead_out(lead: Lead, created: bool) -> LeadOut:
    return LeadOut(
        id=lead.id,
        external_id=lead.external_id,
        created=created,
        owner=(lead.owner.email or lead.owner.name) if lead.owner else None,
        status=lead.status.value,
        created_at=lead.created_at,
        sla_due_at=lead.sla_due_at,
        first_response_at=lead.first_response_at,
    )


def build_ingest_router(deps: Deps) -> APIRouter:
    """The /api/v1 routes, bound to the process's settings and database."""
    settings = deps.settings
    rules = deps.lead_rules()
    org_tz = ZoneInfo(settings.org.timezone)

    def moment(value: When | None) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=org_tz) if value.tzinfo is None else value

    def require_token(authorization: Annotated[str | None, Header()] = None) -> None:
        expected = settings.ingest_token
        if not expected:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "The ingest API is disabled: set SALESOPS_INGEST_TOKEN on the server.",
            )
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not secrets.compare_digest(
            token.strip().encode(), expected.encode()
        ):
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                "Missing or wrong bearer token (Authorization: Bearer $SALESOPS_INGEST_TOKEN).",
                headers={"WWW-Authenticate": "Bearer"},
            )

    router = APIRouter(dependencies=[Depends(require_token)], tags=["ingest"])

    def write(work: Any) -> Any:
        """Run `work(session)` in one transaction; a lost insert race is retried once."""
        for attempt in (1, 2):
            try:
                with transaction(deps.sessions) as session:
                    return work(session)
            except IngestError as exc:
                raise _field_error(exc.field, exc.message, "not_found") from None
            except IntegrityError:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    @router.post(
        "/leads",
        response_model=LeadOut,
        status_code=status.HTTP_201_CREATED,
        responses={200: {"model": LeadOut, "description": "The lead existed already"}},
    )
    def post_lead(body: LeadIn, response: Response) -> LeadOut:
        """Create a lead, start its response clock and DM its owner; idempotent on external_id."""

        def work(session: Any) -> LeadOut:
            owner = owner_rep(session, body.owner) if body.owner else None
            lead, created = create_lead(
                session,
                rules,
                external_id=body.external_id,
                created_at=moment(body.created_at) or utcnow(),
                source=body.source,
                company=body.company,
                owner=owner,
                first_response_at=moment(body.first_response_at),
            )
            return _lead_out(lead, created)

        out = write(work)
        if not out.created:
            response.status_code = status.HTTP_200_OK
        return out

    @router.post("/leads/{external_id}/response", response_model=LeadOut)
    def post_response(external_id: str, body: ResponseIn) -> LeadOut:
        """Record the first response to a lead (stops its ladder); a later one is ignored."""

        def work(session: Any) -> LeadOut:
            found = find_lead(session, external_id)
            lead = lock_lead(session, found.id) if found is not None else None
            if lead is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"No lead {external_id!r}.")
            rep = owner_rep(session, body.owner) if body.owner else None
            at = moment(body.at) or utcnow()
            if record_response(session, lead, rep=rep, at=at):
                who = f" by {rep.name}" if rep else ""
                note = f"Response recorded{who} at {at:%Y-%m-%d %H:%M %Z} (from the CRM)."
                update_lead_dm(session, lead, note, key="response")
            return _lead_out(lead, False)

        return write(work)

    def upsert(body: BaseModel, response: Response, upsert_one: Any) -> UpsertOut:
        fields = body.model_dump()
        for name, value in fields.items():
            if isinstance(value, datetime):
                fields[name] = moment(value)
        result = write(lambda session: upsert_one(session, fields))
        if not result.created:
            response.status_code = status.HTTP_200_OK
        return UpsertOut(**result.__dict__)

    @router.post("/deals", response_model=UpsertOut, status_code=status.HTTP_201_CREATED)
    def post_deal(body: DealIn, response: Response) -> UpsertOut:
        """Create or update a deal by external_id."""
        return upsert(body, response, upsert_deal)

    @router.post("/activities", response_model=UpsertOut, status_code=status.HTTP_201_CREATED)
    def post_activity(body: ActivityIn, response: Response) -> UpsertOut:
        """Create or update an activity by external_id."""
        return upsert(body, response, upsert_activity)

    return router
