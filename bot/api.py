"""The ingest API (mounted at /api/v1): leads, first responses, deals and activities as JSON.

- `Authorization: Bearer $SALESOPS_INGEST_TOKEN`, else 401 (503 while no token is set).
- Bodies are the native CSV columns of their kind, validated by pydantic: 422 with a body
  naming each bad field (`detail[].loc` ends with the field name), unknown fields refused.
  Values meet the CSV import's checks (`salesops_core.importers.limits`: lengths of their
  columns, no control characters, finite amounts the money column holds, times 1970-2199)
  and its row rules; a value the database still refuses is a 422 too, never a 500.
- Idempotent on `external_id`: posting the same lead twice answers 200 with the first one.
- One transaction per request: an error writes nothing. A dropped database connection is
  retried once (503 if it drops again); `bot.api_batch` adds the `/{kind}/batch` routes.
- Time stamps are ISO 8601; without an offset (or a date alone) they are in the org time zone.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from bot.api_batch import add_batch_route
from bot.deps import Deps
from salesops_core.db.engine import connection_lost, transaction
from salesops_core.db.models import ActivityType, Lead, Rep
from salesops_core.importers import limits
from salesops_core.importers.ingest import (
    IngestError,
    check_response,
    ingest_stage_map,
    owner_rep,
    upsert_activity,
    upsert_deal,
)
from salesops_core.leads.engine import (
    create_lead,
    find_lead,
    lock_lead,
    record_response,
    update_lead_dm,
)
from salesops_core.leads.routing import how_routed
from salesops_core.timeutil import utcnow

log = logging.getLogger("salesops.api")


def _refuse(problem: Callable[[Any], str | None]) -> AfterValidator:
    """A pydantic check from one of `limits`' problem functions (ValueError with its reason)."""

    def check(value: Any) -> Any:
        reason = problem(value)
        if reason is not None:
            raise ValueError(reason)
        return value

    return AfterValidator(check)


def _column_text(field: str) -> Any:
    """A non-empty string the field's column stores (its length, no control characters)."""
    plain = _refuse(lambda value: limits.text_problem(value, None))
    return Annotated[str, Field(min_length=1, max_length=limits.TEXT_LENGTHS[field]), plain]


ExternalId = _column_text("external_id")
RepRef = _column_text("owner")
Source = _column_text("source")
Company = _column_text("company")
StageName = _column_text("stage")
DealName = _column_text("name")
Account = _column_text("account")
Product = _column_text("product")
ForecastCategory = _column_text("forecast_category")
DealRef = _column_text("deal_external_id")
LeadRef = _column_text("lead_external_id")
When = Annotated[datetime, _refuse(limits.moment_problem)]  # a date alone is midnight
Currency = Annotated[
    str, AfterValidator(str.upper), _refuse(limits.currency_problem), Field(examples=["USD"])
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, allow_inf_nan=False)


class LeadIn(_Body):
    """A new lead (native lead columns). Without `owner` it is routed by round-robin."""

    external_id: ExternalId
    owner: RepRef | None = None
    source: Source | None = None
    company: Company | None = None
    created_at: When | None = None
    first_response_at: When | None = None


class ResponseIn(_Body):
    """The first response to a lead: who answered (default: its owner) and when (default now)."""

    owner: RepRef | None = None
    at: When | None = None


class DealIn(_Body):
    """A deal (native deal columns); probability is 0-1 or 0-100."""

    external_id: ExternalId
    owner: RepRef
    stage: StageName
    created_at: When
    name: DealName | None = None
    account: Account | None = None
    amount: float | None = Field(None, ge=0, lt=limits.MONEY_LIMIT)
    currency: Currency | None = None
    probability: float | None = Field(None, ge=0, le=100)
    expected_close: When | None = None
    closed_at: When | None = None
    outcome: Literal["open", "won", "lost"] | None = None
    product: Product | None = None
    forecast_category: ForecastCategory | None = None


class ActivityIn(_Body):
    """An activity (native activity columns)."""

    external_id: ExternalId
    owner: RepRef
    type: ActivityType
    started_at: When
    minutes: float | None = Field(None, ge=0)
    deal_external_id: DealRef | None = None
    lead_external_id: LeadRef | None = None
    external_attendee: bool | None = None


class RoutedOut(BaseModel):
    """Why the lead went to someone other than the owner posted (or no owner was posted)."""

    to: str | None  # who has it: email, else name; None when nobody was available
    reason: str  # "round_robin" (no owner posted) or "owner_inactive" (the owner has left)
    message: str


class LeadOut(BaseModel):
    id: int
    external_id: str
    created: bool
    owner: str | None
    routed: RoutedOut | None = None  # set when the round-robin chose the owner
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


def _json_safe(value: Any) -> Any:
    """`value` with what JSON cannot carry written out: NaN and infinities as text, lone
    surrogates as `\\udxxx` escapes."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, str):
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, list):
        return [_json_safe(item) for item in value]
    if isinstance(value, dict):
        return {_json_safe(key): _json_safe(item) for key, item in value.items()}
    return value


class _IngestRoute(APIRoute):
    """A route whose 422 is always a JSON answer, also when the refused input (echoed in
    `detail[].input`) is NaN, an infinity or a lone surrogate, which would otherwise end in
    a 500 while the answer is encoded."""

    def get_route_handler(self) -> Callable[[Request], Any]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except RequestValidationError as exc:
                detail = _json_safe(jsonable_encoder(exc.errors()))
                return JSONResponse({"detail": detail}, status.HTTP_422_UNPROCESSABLE_CONTENT)
            return response

        return route


def _database_unavailable() -> HTTPException:
    """A connection that dropped twice in a row: the database is down or failing over."""
    log.warning("ingest: the database connection dropped again", exc_info=True)
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        "The database is not answering; nothing was written. Send the request again later.",
        headers={"Retry-After": "5"},
    )


def _database_refusal() -> HTTPException:
    """The last net: a value the models let through but the database refused is a 422."""
    log.warning("ingest: the database refused a request's values", exc_info=True)
    message = "the database refused a value; check each field against /api/v1/openapi.json"
    detail = [{"loc": ["body"], "msg": message, "type": "value_error"}]
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


def bearer_token_matches(authorization: str | None, expected: str) -> bool:
    """True when an `Authorization` header value is `Bearer <expected>` (constant-time)."""
    scheme, _, token = (authorization or "").partition(" ")
    return scheme.lower() == "bearer" and secrets.compare_digest(
        token.strip().encode(), expected.encode()
    )


def ingest_token_refusal(expected: str | None, authorization: str | None) -> HTTPException | None:
    """Why a request to the ingest API is refused (503 no token set, 401 wrong), or None.

    `bot.guards` asks this before the body is read; the routes ask it again as a dependency
    (so a router mounted without the guard is still closed, and OpenAPI shows the header).
    """
    if not expected:
        return HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "The ingest API is disabled: set SALESOPS_INGEST_TOKEN on the server.",
        )
    if not bearer_token_matches(authorization, expected):
        return HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "Missing or wrong bearer token (Authorization: Bearer $SALESOPS_INGEST_TOKEN).",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return None


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
        refusal = ingest_token_refusal(settings.ingest_token, authorization)
        if refusal is not None:
            raise refusal

    router = APIRouter(
        dependencies=[Depends(require_token)], tags=["ingest"], route_class=_IngestRoute
    )

    def write(work: Any) -> Any:
        """Run `work(session)` in one transaction.

        A lost insert race, or a connection that dropped (a terminated backend, a failover),
        is retried once: every write is idempotent on external_id, so a retry after a commit
        that did land finds the row instead of writing it twice.
        """
        for attempt in (1, 2):
            try:
                with transaction(deps.sessions) as session:
                    return work(session)
            except IngestError as exc:
                raise _field_error(exc.field, exc.message, exc.kind) from None
            except DataError:
                raise _database_refusal() from None
            except IntegrityError:
                if attempt == 2:
                    raise _database_refusal() from None
            except DBAPIError as exc:
                if not connection_lost(exc):
                    raise
                if attempt == 2:
                    raise _database_unavailable() from None
                log.warning("ingest: the database connection dropped; retrying once")
        raise AssertionError("unreachable")  # pragma: no cover

    def lead_work(session: Session, body: LeadIn, owners: dict[str, Rep] | None = None) -> LeadOut:
        """Create one lead (the single route and each record of a batch; a batch passes the
        `owners` it has found, see `owner_rep`)."""
        owner = owner_rep(session, body.owner, found=owners) if body.owner else None
        created_at = moment(body.created_at) or utcnow()
        first_response_at = moment(body.first_response_at)
        check_response(created_at, first_response_at)
        lead, created = create_lead(
            session,
            rules,
            external_id=body.external_id,
            created_at=created_at,
            source=body.source,
            company=body.company,
            owner=owner,
            first_response_at=first_response_at,
        )
        out = _lead_out(lead, created)
        if (routed := how_routed(session, lead)) is not None:
            to = (routed.owner.email or routed.owner.name) if routed.owner else None
            out.routed = RoutedOut(to=to, reason=routed.reason, message=routed.message)
        return out

    @router.post(
        "/leads",
        response_model=LeadOut,
        status_code=status.HTTP_201_CREATED,
        responses={200: {"model": LeadOut, "description": "The lead existed already"}},
    )
    def post_lead(body: LeadIn, response: Response) -> LeadOut:
        """Create a lead, start its response clock and DM its owner; idempotent on external_id."""
        out = write(lambda session: lead_work(session, body))
        if not out.created:
            response.status_code = status.HTTP_200_OK
        return out

    @router.post("/leads/{external_id}/response", response_model=LeadOut)
    def post_response(external_id: ExternalId, body: ResponseIn) -> LeadOut:
        """Record the first response to a lead (stops its ladder); a later one is ignored."""

        def work(session: Any) -> LeadOut:
            found = find_lead(session, external_id)
            lead = lock_lead(session, found.id) if found is not None else None
            if lead is None:
                raise HTTPException(status.HTTP_404_NOT_FOUND, f"No lead {external_id!r}.")
            rep = owner_rep(session, body.owner) if body.owner else None
            at = moment(body.at) or utcnow()
            check_response(lead.created_at, at, "at")
            if record_response(session, lead, rep=rep, at=at):
                who = f" by {rep.name}" if rep else ""
                note = f"Response recorded{who} at {at:%Y-%m-%d %H:%M %Z} (from the CRM)."
                update_lead_dm(session, lead, note, key="response")
            return _lead_out(lead, False)

        return write(work)

    def fields_of(body: BaseModel) -> dict[str, Any]:
        """A record's values for the upserts, naive times in the org time zone."""
        fields = body.model_dump()
        for name, value in fields.items():
            if isinstance(value, datetime):
                fields[name] = moment(value)
        return fields

    def upsert(body: BaseModel, response: Response, upsert_one: Any) -> UpsertOut:
        fields = fields_of(body)
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

    def upserted(upsert_one: Any) -> Any:
        """A batch's record writer from an upsert: each owner looked up once per batch (and
        for deals the stage map read once)."""

        def prepare(session: Session) -> Any:
            shared: dict[str, Any] = {"owners": {}}
            if upsert_one is upsert_deal:
                shared["stages"] = ingest_stage_map(session)
            return lambda body: UpsertOut(**upsert_one(session, fields_of(body), **shared).__dict__)

        return prepare

    add_batch_route(
        router,
        "leads",
        LeadIn,
        LeadOut,
        write,
        lambda session: partial(lead_work, session, owners={}),
    )
    add_batch_route(router, "deals", DealIn, UpsertOut, write, upserted(upsert_deal))
    add_batch_route(router, "activities", ActivityIn, UpsertOut, write, upserted(upsert_activity))
    return router
