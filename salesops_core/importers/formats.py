"""Import formats: where each CRM export keeps the fields of each kind.

A format is a column map (field -> candidate header names, first found wins) plus value
conventions (percent probabilities, Salesforce id prefixes) and default stages. `--map`
overrides any of it, so an export with other column names needs no code change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from salesops_core.importers.fields import FIELDS
from salesops_core.importers.stagemap import HUBSPOT_STAGES, SALESFORCE_STAGES, StageDef

Transform = Callable[[dict[str, str]], None]


@dataclass(frozen=True)
class FormatSpec:
    """Where one export format keeps each field of one kind, and its value conventions."""

    name: str
    columns: Mapping[str, tuple[str, ...]]
    probability_percent: bool = False
    stages: tuple[StageDef, ...] = ()
    transform: Transform | None = None
    owner_hint: str = "import reps first"
    notes: tuple[str, ...] = field(default_factory=tuple)


def _native(kind: str) -> dict[str, tuple[str, ...]]:
    return {f: (f,) for f in FIELDS[kind]}


def _salesforce_activity(values: dict[str, str]) -> None:
    """Task/Event WhatId and WhoId are polymorphic: keep Opportunity (006) and Lead (00Q)
    ids; any WhoId (a contact or lead) means an external attendee."""
    what = values.get("deal_external_id", "")
    if what and not what.startswith("006"):
        values["deal_external_id"] = ""
    who = values.get("lead_external_id", "")
    if who and not who.startswith("00Q"):
        values["lead_external_id"] = ""
    if values.get("external_attendee"):
        attendee = values["external_attendee"]
        if attendee.lower() not in ("0", "1", "true", "false", "yes", "no"):
            values["external_attendee"] = "1"


def _salesforce_lead(values: dict[str, str]) -> None:
    """A lead owned by a queue (OwnerId prefix 00G) has no rep owner yet."""
    if values.get("owner", "").startswith("00G"):
        values["owner"] = ""


_SF_OWNER_HINT = (
    "map Salesforce user ids to reps with --owners FILE (columns crm_user_id,email or "
    "crm_user_id,name) or --map owner=<column>"
)

_SALESFORCE: dict[str, dict[str, tuple[str, ...]]] = {
    "reps": {
        "name": ("Name",), "email": ("Email",), "crm_user_id": ("Id",),
        "manager": ("ManagerId", "Manager"), "role": ("role",),
        "team": ("UserRole.Name", "Department", "team"),
        "region": ("Division", "region"), "timezone": ("TimeZoneSidKey",),
        "active": ("IsActive",),
    },
    "deals": {
        "external_id": ("Id",), "name": ("Name",), "account": ("Account.Name", "AccountId"),
        "owner": ("OwnerId", "Owner.Email", "Owner.Name"), "amount": ("Amount",),
        "currency": ("CurrencyIsoCode",), "stage": ("StageName",),
        "probability": ("Probability",), "created_at": ("CreatedDate",),
        "close_date": ("CloseDate",), "is_closed": ("IsClosed",), "is_won": ("IsWon",),
        "product": ("Product__c", "Product2.Name"),
        "forecast_category": ("ForecastCategoryName", "ForecastCategory"),
    },
    "leads": {
        "external_id": ("Id",), "owner": ("OwnerId", "Owner.Email", "Owner.Name"),
        "source": ("LeadSource",), "company": ("Company",), "created_at": ("CreatedDate",),
    },
    "activities": {
        "external_id": ("Id",), "owner": ("OwnerId", "Owner.Email", "Owner.Name"),
        "type": ("Type", "Type__c", "TaskSubtype", "EventSubtype"),
        "started_at": ("ActivityDateTime", "StartDateTime", "ActivityDate", "CreatedDate"),
        "minutes": ("DurationInMinutes",), "duration_seconds": ("CallDurationInSeconds",),
        "deal_external_id": ("WhatId",), "lead_external_id": ("WhoId",),
        "external_attendee": ("WhoId",),
    },
    "stage_changes": {  # OpportunityHistory: one row per change; its Id is the row's own
        "deal_external_id": ("OpportunityId",), "stage": ("StageName",),
        "entered_at": ("CreatedDate",), "amount": ("Amount",), "probability": ("Probability",),
    },
}  # fmt: skip

_HUBSPOT: dict[str, dict[str, tuple[str, ...]]] = {
    "deals": {
        "external_id": ("Record ID", "Deal ID"), "name": ("Deal Name",),
        "account": ("Associated Company", "Company name", "Associated Company (Primary)"),
        "owner": ("Deal owner", "Deal Owner", "HubSpot Owner"), "amount": ("Amount",),
        "currency": ("Currency", "Deal currency code"), "stage": ("Deal Stage",),
        "probability": ("Deal probability", "Deal Probability"),
        "created_at": ("Create Date", "Created Date"), "close_date": ("Close Date",),
        "forecast_category": ("Forecast category", "Forecast Category"),
        "product": ("Product", "Deal Type"),
    },
    "leads": {
        "external_id": ("Record ID", "Contact ID"), "owner": ("Contact owner", "Lead owner"),
        "source": ("Original Source", "Lead Source"), "company": ("Company Name", "Company"),
        "created_at": ("Create Date", "Created Date"),
        "first_response_at": ("Time of First Engagement", "First response at"),
    },
}  # fmt: skip


_STAGED_KINDS = ("deals", "stage_changes")  # kinds whose rows name a stage


def format_spec(fmt: str, kind: str) -> FormatSpec:
    """The column map and conventions of `fmt` for `kind` (native columns always match)."""
    columns = _native(kind)
    if fmt == "salesforce":
        for name, extra in _SALESFORCE.get(kind, {}).items():
            columns[name] = extra + columns.get(name, ())
        return FormatSpec(
            "salesforce",
            columns,
            probability_percent=True,
            stages=SALESFORCE_STAGES if kind in _STAGED_KINDS else (),
            transform={"activities": _salesforce_activity, "leads": _salesforce_lead}.get(kind),
            owner_hint=_SF_OWNER_HINT,
        )
    if fmt == "hubspot":
        for name, extra in _HUBSPOT.get(kind, {}).items():
            columns[name] = extra + columns.get(name, ())
        stages = HUBSPOT_STAGES if kind in _STAGED_KINDS else ()
        return FormatSpec("hubspot", columns, stages=stages)
    return FormatSpec("native", columns)
