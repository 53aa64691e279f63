"""The Salesforce source: SOQL over the REST API, incremental on SystemModstamp, each page a
Batch shaped like a Salesforce Data Export CSV of the same object."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from simple_salesforce.exceptions import SalesforceMalformedRequest

from salesops_core.db.models import Outcome
from salesops_core.importers.stagemap import StageDef
from salesops_core.sync.salesforce_api import SalesforceApi, SalesforceCredentials
from salesops_core.sync.source import Batch, FieldMap, Removed, SyncError

__all__ = ["SalesforceCredentials", "SalesforceSource"]

_FIELDS: dict[str, tuple[str, str, tuple[str, ...]]] = {  # object -> (kind, format, fields)
    "User": ("reps", "salesforce", (
        "Id", "Name", "Email", "ManagerId", "UserRole.Name", "Department", "Division",
        "TimeZoneSidKey", "IsActive")),
    "Opportunity": ("deals", "salesforce", (
        "Id", "Name", "AccountId", "Account.Name", "OwnerId", "Amount", "StageName",
        "Probability", "CreatedDate", "CloseDate", "IsClosed", "IsWon", "ForecastCategoryName")),
    "OpportunityHistory": ("stage_changes", "salesforce", (
        "OpportunityId", "StageName", "CreatedDate", "Amount", "Probability")),
    "Lead": ("leads", "salesforce", ("Id", "OwnerId", "LeadSource", "Company", "CreatedDate")),
    "Task": ("activities", "salesforce", (
        "Id", "OwnerId", "Type", "TaskSubtype", "ActivityDate", "CreatedDate",
        "CallDurationInSeconds", "WhatId", "WhoId", "Status")),
    "Event": ("activities", "salesforce", (
        "Id", "OwnerId", "Type", "EventSubtype", "StartDateTime", "ActivityDateTime",
        "DurationInMinutes", "WhatId", "WhoId")),
    "ForecastingQuota": ("quotas", "native", (
        "QuotaOwnerId", "StartDate", "Period.EndDate", "QuotaAmount")),
}  # fmt: skip
_WHERE = {"User": "UserType = 'Standard'"}
_FIRST_RESPONSE = (
    "(SELECT CompletedDateTime FROM Tasks WHERE Status = 'Completed' "
    "ORDER BY CompletedDateTime ASC LIMIT 1)"
)
_SUBTYPE = {"Task": "TaskSubtype", "Event": "EventSubtype"}  # the type when Type is empty
_DELETABLE = ("Opportunity", "Lead", "Task", "Event")
_QUOTA_HEADER = ["owner", "period_start", "period_end", "amount"]
_IN_CHUNK = 200  # ids per EventRelation IN (...) query


def soql_datetime(modstamp: str) -> str:
    """A record's SystemModstamp (`2024-01-22T16:14:25.000+0000`) as a SOQL literal, to the
    millisecond (`2024-01-22T16:14:25.000Z`) so a resumed pull repeats as little as it can."""
    stamp = datetime.strptime(modstamp, "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(UTC)
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


def cell(value: Any) -> str:
    """A JSON value as a Salesforce Data Export CSV writes it (booleans 1/empty, 10.0 -> 10)."""
    if value is None or value is False:
        return ""
    if value is True:
        return "1"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def field_value(record: dict[str, Any], name: str) -> Any:
    """A field of a record, following relationship paths such as `Account.Name`."""
    value: Any = record
    for part in name.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _first_child(record: dict[str, Any], relationship: str, name: str) -> Any:
    children = record.get(relationship) or {}
    rows = children.get("records") or []
    return rows[0].get(name) if rows else None


class SalesforceSource:
    """A Salesforce org as a sync source (see `sync.source.Source`)."""

    name = "salesforce"
    objects = ("User", "Opportunity", "OpportunityHistory", "Lead", "Task", "Event",
               "ForecastingQuota")  # fmt: skip

    def __init__(
        self,
        credentials: SalesforceCredentials,
        fields: FieldMap | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._api = SalesforceApi(credentials, sleep)
        self._fields = fields or {}
        self._org_domains: set[str] | None = None

    @property
    def requests(self) -> int:
        return self._api.requests

    def check(self) -> str:
        """The org's name and id, its URL and the API version in use."""
        org = next(self._api.records("SELECT Id, Name FROM Organization"), None)
        if org is None:
            raise SyncError("Salesforce returned no Organization record")
        version = self._api.credentials.api_version
        where = self._api.instance_url
        return f"Salesforce org {org['Name']} ({org['Id']}) at {where}, API v{version}"

    def _select(self, obj: str) -> tuple[list[str], str]:
        """The header (field names) and the SELECT list for `obj`."""
        header = list(_FIELDS[obj][2])
        mapped = dict(self._fields.get(obj, {}))
        header += [f for f in mapped.values() if f not in header]
        select = list(header)
        if obj == "Lead" and "first_response_at" not in mapped:
            header.append("first_response_at")
            select.append(_FIRST_RESPONSE)
        return header, ", ".join(select)

    def _query(self, obj: str, select: str, position: str | None) -> str:
        where = [w for w in (_WHERE.get(obj), position and f"SystemModstamp >= {position}") if w]
        clause = f" WHERE {' AND '.join(where)}" if where else ""
        keys = "SystemModstamp" if select.split(", ", 1)[0] == "Id" else "Id, SystemModstamp"
        return f"SELECT {select}, {keys} FROM {obj}{clause} ORDER BY SystemModstamp, Id"

    def pull(self, obj: str, position: str | None) -> Iterator[Batch]:
        """The object's records changed at or after `position`, a Batch per REST page
        (every changed User in one Batch, so managers resolve)."""
        header, select = self._select(obj)
        pages = self._api.pages(self._query(obj, select, position))
        if obj == "User":
            records = [r for page in pages for r in page["records"]]
            if records:
                yield self._batch(obj, header, records)
            return
        if obj == "ForecastingQuota":
            pages = self._optional(pages)
        stages = self._stages() if obj == "Opportunity" else ()
        for page in pages:
            if page["records"]:
                yield self._batch(obj, header, page["records"], stages)
                stages = ()
                if obj == "Task":  # a completed task is the first response of its lead
                    yield from self._answered_leads(page["records"])

    def refetch(self, obj: str, ids: Sequence[str]) -> Iterator[Batch]:
        """These records as they are now, moving no cursor (200 ids a query); ids the org
        no longer has are simply not there."""
        header, select = self._select(obj)
        keys = "" if select.split(", ", 1)[0] == "Id" else "Id, "
        for start in range(0, len(ids), _IN_CHUNK):
            quoted = ", ".join(f"'{i}'" for i in ids[start : start + _IN_CHUNK])
            soql = f"SELECT {select}, {keys}SystemModstamp FROM {obj} WHERE Id IN ({quoted})"
            records = [r for page in self._api.pages(soql) for r in page["records"]]
            if records:
                yield replace(self._batch(obj, header, records), position=None)

    def _answered_leads(self, tasks: Sequence[dict[str, Any]]) -> Iterator[Batch]:
        """The leads these completed tasks answer, read again with their first response (a
        task does not touch its lead's SystemModstamp, so the Lead pull would not see it)."""
        if "first_response_at" in self._fields.get("Lead", {}):
            return  # the org keeps its own first-response field on the lead
        ids = sorted(
            {
                str(t["WhoId"])
                for t in tasks
                if str(t.get("WhoId") or "").startswith("00Q") and t.get("Status") == "Completed"
            }
        )
        yield from self.refetch("Lead", ids)

    def _optional(self, pages: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The pages, or none when the org does not have the object (INVALID_TYPE)."""
        try:
            yield from pages
        except SyncError as exc:
            cause = exc.__cause__
            if isinstance(cause, SalesforceMalformedRequest) and "INVALID_TYPE" in str(
                cause.content
            ):
                return
            raise

    def _batch(
        self,
        obj: str,
        header: list[str],
        records: Sequence[dict[str, Any]],
        stages: tuple[StageDef, ...] = (),
    ) -> Batch:
        kind, fmt, _ = _FIELDS[obj]
        rows = []
        for record in records:
            values = [field_value(record, name) for name in header]
            if obj == "Lead" and header[-1] == "first_response_at":
                values[-1] = _first_child(record, "Tasks", "CompletedDateTime")
            if obj in _SUBTYPE and "Type" in header and not record.get("Type"):
                values[header.index("Type")] = record.get(_SUBTYPE[obj])  # Call, Email, Task
            rows.append((str(record.get("Id") or ""), [cell(v) for v in values]))
        column_map = dict(self._fields.get(obj, {}))  # the user's field map, as --map
        if obj == "Event":
            header = [*header, "external_attendee"]
            attendees = self._external_attendees(records)
            rows = [(rid, [*cells, attendees.get(rid, "")]) for rid, cells in rows]
            column_map["external_attendee"] = "external_attendee"
        if obj == "ForecastingQuota":
            header = list(_QUOTA_HEADER)
            rows = [(f"{c[0]}:{c[1]}", c) for _, c in rows]
        position = soql_datetime(records[-1]["SystemModstamp"])
        return Batch(obj, kind, fmt, header, rows, position, stages, column_map)

    def _stages(self) -> tuple[StageDef, ...]:
        """The org's opportunity stages, in their sort order."""
        soql = (
            "SELECT ApiName, MasterLabel, SortOrder, DefaultProbability, IsClosed, IsWon, "
            "IsActive FROM OpportunityStage ORDER BY SortOrder"
        )
        stages = []
        for r in self._api.records(soql):
            won = Outcome.WON if r["IsWon"] else Outcome.LOST
            outcome = won if r["IsClosed"] else Outcome.OPEN
            probability = r["DefaultProbability"]
            aliases = (r["ApiName"],) if r["ApiName"] != r["MasterLabel"] else ()
            stages.append(StageDef(
                r["MasterLabel"], int(r["SortOrder"] or 0),
                None if probability is None else probability / 100, outcome, aliases,
            ))  # fmt: skip
        return tuple(stages)

    def _domains(self) -> set[str]:
        """The org's own email domains (those of its users)."""
        if self._org_domains is None:
            emails = self._api.records("SELECT Email FROM User WHERE UserType = 'Standard'")
            self._org_domains = {
                r["Email"].rsplit("@", 1)[-1].lower() for r in emails if r.get("Email")
            }
        return self._org_domains

    def _external_attendees(self, events: Sequence[dict[str, Any]]) -> dict[str, str]:
        """Event id -> "1" when a WhoId or any invitee from outside the org attends."""
        found = {str(e["Id"]): "1" for e in events if e.get("WhoId")}
        ids = [str(e["Id"]) for e in events if str(e["Id"]) not in found]
        domains = self._domains() if ids else set()
        for start in range(0, len(ids), _IN_CHUNK):
            quoted = ", ".join(f"'{i}'" for i in ids[start : start + _IN_CHUNK])
            soql = f"SELECT EventId, Relation.Email FROM EventRelation WHERE EventId IN ({quoted})"
            for r in self._api.records(soql):
                email = field_value(r, "Relation.Email") or ""
                if email and email.rsplit("@", 1)[-1].lower() not in domains:
                    found[str(r["EventId"])] = "1"
        return found

    def removed(self, obj: str, position: str | None) -> Iterator[Removed]:
        """Records deleted (or merged away) at or after `position`, through queryAll (a
        removal seen twice removes nothing more)."""
        if obj not in _DELETABLE:
            return
        where = "IsDeleted = true" + (f" AND SystemModstamp >= {position}" if position else "")
        soql = f"SELECT Id, SystemModstamp FROM {obj} WHERE {where} ORDER BY SystemModstamp, Id"
        for page in self._api.pages(soql, include_deleted=True):
            records = page["records"]
            if records:
                ids = [str(r["Id"]) for r in records]
                position = soql_datetime(records[-1]["SystemModstamp"])
                yield Removed(obj, _FIELDS[obj][0], ids, position)
