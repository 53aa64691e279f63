"""The HubSpot source: owners, deals (with pipelines and stage history), contacts and
engagements through the CRM v3 APIs, as native-format batches; archived and merged records
as removals. Incremental on each object's last-modified time through the search API."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Any

from hubspot.crm.associations.v4 import (  # type: ignore[import-untyped]
    BatchInputPublicFetchAssociationsBatchRequest,
    PublicFetchAssociationsBatchRequest,
)
from hubspot.crm.objects import (  # type: ignore[import-untyped]
    BatchReadInputSimplePublicObjectId,
    Filter,
    FilterGroup,
    PublicObjectSearchRequest,
    SimplePublicObjectId,
)

from salesops_core.db.models import Outcome
from salesops_core.importers.stagemap import StageDef
from salesops_core.sync.hubspot_api import HubspotApi, HubspotCredentials
from salesops_core.sync.source import Batch, FieldMap, Removed, SyncError

__all__ = ["HubspotCredentials", "HubspotSource"]

PAGE = 200  # the search API's largest page
SEARCH_CAP = 10_000  # the search API never pages past this many results of one query
HISTORY_BATCH = 50  # batch reads with propertiesWithHistory take at most 50 ids
ENGAGEMENTS = {"calls": "call", "meetings": "meeting", "emails": "email", "tasks": "other"}
# native field -> HubSpot property, per object (the user's field map overrides any of it)
PROPERTIES: dict[str, dict[str, str]] = {
    "deals": {
        "name": "dealname", "owner": "hubspot_owner_id", "amount": "amount",
        "currency": "deal_currency_code", "created_at": "createdate", "close_date": "closedate",
        "is_closed": "hs_is_closed", "is_won": "hs_is_closed_won",
        "forecast_category": "hs_forecast_category",
    },
    "contacts": {
        "owner": "hubspot_owner_id", "source": "hs_analytics_source", "company": "company",
        "created_at": "createdate", "first_response_at": "hs_sa_first_engagement_date",
    },
    "calls": {"owner": "hubspot_owner_id", "started_at": "hs_timestamp"},
    "meetings": {"owner": "hubspot_owner_id", "started_at": "hs_meeting_start_time"},
    "emails": {"owner": "hubspot_owner_id", "started_at": "hs_timestamp"},
    "tasks": {"owner": "hubspot_owner_id", "started_at": "hs_timestamp"},
}  # fmt: skip
REFETCH_CHUNK = 100  # ids per search filter (HubSpot takes at most 100 values for IN)
KINDS = {"owners": "reps", "deals": "deals", "contacts": "leads"} | dict.fromkeys(
    ENGAGEMENTS, "activities"
)


def modified_property(obj: str) -> str:
    """The property holding an object's last-modified time."""
    return "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"


def iso(moment: datetime) -> str:
    """`2024-01-22T16:14:25.123Z`, as HubSpot writes times."""
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _millis(text: str) -> str:
    return str(int(parse_time(text).timestamp() * 1000))


def _number(value: float) -> str:
    return f"{round(value, 2):g}"


class HubspotSource:
    """One HubSpot portal (implements sync.source.Source)."""

    name = "hubspot"
    objects = ("owners", "deals", "contacts", "calls", "meetings", "emails", "tasks")

    def __init__(
        self,
        credentials: HubspotCredentials,
        fields: FieldMap | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api = HubspotApi(credentials, sleep)
        self.fields = fields or {}

    @property
    def requests(self) -> int:
        return self.api.requests

    def check(self) -> str:
        """The portal and API version; raises SyncError when HubSpot cannot be read."""
        self.api.call("owners", "owners", "get_page", limit=1)
        url = self.api.credentials.api_url
        return f"HubSpot at {url} (CRM v3): the token reads owners"

    # pulling

    def pull(self, obj: str, position: str | None) -> Iterator[Batch]:
        """The object's records modified at or after `position`, a batch per search page."""
        if obj == "owners":
            yield self._owners()
            return
        yield from self._batches(obj, self._search(obj, position, self._properties(obj)))

    def refetch(self, obj: str, ids: Sequence[str]) -> Iterator[Batch]:
        """These records as they are now (a search on their ids, 100 a query), moving no
        cursor; ids the CRM no longer has are simply not there."""
        if obj == "owners":
            yield self._owners()
            return
        for start in range(0, len(ids), REFETCH_CHUNK):
            part = list(ids[start : start + REFETCH_CHUNK])
            wanted = Filter(property_name="hs_object_id", operator="IN", values=part)
            pages = self._search(obj, None, self._properties(obj), [wanted])
            yield from self._batches(obj, pages, positions=False)

    def _batches(
        self, obj: str, pages: Iterator[list[Any]], *, positions: bool = True
    ) -> Iterator[Batch]:
        stages = self._pipelines() if obj == "deals" else {}
        first = True
        for page in pages:
            last = page[-1].properties.get(modified_property(obj)) if positions else None
            if obj == "deals":
                yield self._deals_batch(page, stages, first)
                yield self._history_batch(page, stages, last)
                first = False
            elif obj == "contacts":
                yield self._batch(obj, "leads", page, last, {})
            else:
                yield self._batch(obj, "activities", page, last, self._links(obj, page))

    def _columns(self, obj: str) -> dict[str, str]:
        """native field -> property, with the user's field map."""
        return {**PROPERTIES[obj], **self.fields.get(obj, {})}

    def _properties(self, obj: str) -> list[str]:
        props = set(self._columns(obj).values()) | {modified_property(obj)}
        if obj == "deals":
            props |= {"dealstage", "pipeline", "hs_merged_object_ids"}
        if obj == "calls":
            props.add("hs_call_duration")
        if obj == "meetings":
            props |= {"hs_meeting_end_time", "hs_timestamp"}
        return sorted(props)

    def _header(self, obj: str) -> tuple[list[str], dict[str, str]]:
        """The batch header (a user-mapped field's column is named by its property, so the
        runner's column map finds it) and the source's column map."""
        mapped = self.fields.get(obj, {})
        header = ["external_id", *(mapped.get(f, f) for f in PROPERTIES[obj])]
        header += [p for f, p in mapped.items() if f not in PROPERTIES[obj]]
        return header, dict(mapped)

    def _batch(
        self, obj: str, kind: str, page: list[Any], last: str | None, links: dict[str, list[str]]
    ) -> Batch:
        header, column_map = self._header(obj)
        columns = self._columns(obj)
        fields = [
            "external_id",
            *PROPERTIES[obj],
            *(f for f in columns if f not in PROPERTIES[obj]),
        ]
        extra: list[str] = []
        if kind == "activities":
            extra = ["type", "minutes", "deal_external_id", "lead_external_id", "external_attendee"]
        rows = []
        for record in page:
            props = record.properties
            cells = [record.id, *((props.get(columns[f]) or "") for f in fields[1:])]
            if kind == "activities":
                deal, contact = (
                    links.get(f"deals:{record.id}", []),
                    links.get(f"contacts:{record.id}", []),
                )
                cells += [
                    ENGAGEMENTS[obj],
                    self._minutes(obj, props),
                    deal[0] if deal else "",
                    contact[0] if contact else "",
                    ("true" if contact else "false") if obj == "meetings" else "",
                ]
            rows.append((record.id, cells))
        return Batch(obj, kind, "native", header + extra, rows, last, column_map=column_map)

    @staticmethod
    def _minutes(obj: str, props: dict[str, str]) -> str:
        if obj == "calls" and props.get("hs_call_duration"):
            return _number(float(props["hs_call_duration"]) / 60_000)  # milliseconds
        start, end = props.get("hs_meeting_start_time"), props.get("hs_meeting_end_time")
        if obj == "meetings" and start and end:
            return _number((parse_time(end) - parse_time(start)).total_seconds() / 60)
        return ""

    def _deals_batch(self, page: list[Any], stages: dict[str, StageDef], first: bool) -> Batch:
        batch = self._batch("deals", "deals", page, None, {})
        header = [*batch.header, "stage"]
        rows = []
        for (record_id, cells), record in zip(batch.rows, page, strict=True):
            stage_id = record.properties.get("dealstage") or ""
            rows.append(
                (record_id, [*cells, stages[stage_id].name if stage_id in stages else stage_id])
            )
        unique = tuple({s.name: s for s in stages.values()}.values()) if first else ()
        # no position: the page's stage history batch that follows moves the cursor, so a
        # sync stopped between the two pulls the page again
        return Batch("deals", "deals", "native", header, rows, None, unique, batch.column_map)

    def _history_batch(
        self, page: list[Any], stages: dict[str, StageDef], last: str | None
    ) -> Batch:
        rows: list[tuple[str, list[str]]] = []
        for start in range(0, len(page), HISTORY_BATCH):
            ids = [SimplePublicObjectId(id=r.id) for r in page[start : start + HISTORY_BATCH]]
            wanted = ["dealstage", "amount"]
            body = BatchReadInputSimplePublicObjectId(
                inputs=ids, properties=wanted, properties_with_history=wanted
            )
            answer = self.api.call("deals batch read", "batch", "read", "deals", body)
            for record in answer.results:
                history = record.properties_with_history or {}
                amounts = history.get("amount", [])  # newest first, as HubSpot lists them
                for change in history.get("dealstage", []):
                    stage = stages[change.value].name if change.value in stages else change.value
                    # the amount the deal had when it entered the stage (HubSpot's stage
                    # history holds none), so "as of then" numbers do not depend on when
                    # the sync first saw the deal
                    amount = next(
                        (a.value or "" for a in amounts if a.timestamp <= change.timestamp), ""
                    )
                    rows.append((record.id, [record.id, stage, iso(change.timestamp), amount]))
        header = ["deal_external_id", "stage", "entered_at", "amount"]
        return Batch("deals", "stage_changes", "native", header, rows, last)

    def _pipelines(self) -> dict[str, StageDef]:
        """Every deal pipeline's stages by stage id."""
        answer = self.api.call("deal pipelines", "pipelines", "get_all", "deals")
        stages: dict[str, StageDef] = {}
        for pipeline in answer.results:
            for stage in pipeline.stages:
                meta = stage.metadata or {}
                probability = float(meta["probability"]) if meta.get("probability") else None
                closed = str(meta.get("isClosed", "")).lower() == "true"
                outcome = Outcome.OPEN
                if closed and probability == 1.0:
                    outcome = Outcome.WON
                elif closed and probability == 0.0:
                    outcome = Outcome.LOST
                stages[stage.id] = StageDef(stage.label, stage.display_order, probability, outcome)
        return stages

    def _owners(self) -> Batch:
        """All owners, active and archived, in one batch of reps."""
        rows = []
        for archived in (False, True):
            after = None
            while True:
                page = self.api.call(
                    "owners",
                    "owners",
                    "get_page",
                    limit=100,
                    after=after,
                    archived=archived,
                )
                for owner in page.results:
                    name = " ".join(p for p in (owner.first_name, owner.last_name) if p)
                    team = next((t.name for t in owner.teams or [] if t.primary), "")
                    active = "false" if archived or owner.archived else "true"
                    rows.append(
                        (
                            owner.id,
                            [
                                name or owner.email or owner.id,
                                owner.email or "",
                                team,
                                owner.id,
                                active,
                            ],
                        )
                    )
                after = page.paging.next.after if page.paging and page.paging.next else None
                if after is None:
                    break
        header = ["name", "email", "team", "crm_user_id", "active"]
        return Batch("owners", "reps", "native", header, rows, None)

    def _links(self, obj: str, page: list[Any]) -> dict[str, list[str]]:
        """`{"deals:<id>": [deal ids], "contacts:<id>": [contact ids]}` of a page's records."""
        links: dict[str, list[str]] = {}
        inputs = [PublicFetchAssociationsBatchRequest(id=r.id) for r in page]
        for to in ("deals", "contacts"):
            body = BatchInputPublicFetchAssociationsBatchRequest(inputs=inputs)
            answer = self.api.call(
                f"{obj} associations",
                "associations",
                "get_page",
                obj,
                to,
                body,
            )
            for result in answer.results:
                links[f"{to}:{result._from.id}"] = [str(t.to_object_id) for t in result.to]
        return links

    def _search(
        self, obj: str, since: str | None, properties: Sequence[str], extra: Sequence[Filter] = ()
    ) -> Iterator[list[Any]]:
        """Search pages modified at or after `since`, oldest first; past the 10,000-result
        cap the query starts again from the last modified time seen."""
        prop = modified_property(obj)
        after: str | None = None
        fetched = 0
        while True:
            filters = list(extra)
            if since:
                filters.append(Filter(property_name=prop, operator="GTE", value=_millis(since)))
            request = PublicObjectSearchRequest(
                filter_groups=[FilterGroup(filters=filters)] if filters else [],
                sorts=[{"propertyName": prop, "direction": "ASCENDING"}],
                properties=list(properties),
                limit=PAGE,
                after=after,
            )
            page = self.api.call(f"{obj} search", "search", "do_search", obj, request)
            if page.results:
                yield page.results
            after = page.paging.next.after if page.paging and page.paging.next else None
            if after is None:
                return
            fetched += len(page.results)
            if fetched >= SEARCH_CAP:
                last = page.results[-1].properties.get(prop)
                if not last or last == since:
                    raise SyncError(
                        f"more than {SEARCH_CAP} HubSpot {obj} share the modified time {last}; "
                        "the search API cannot page past them"
                    )
                since, after, fetched = last, None, 0

    # removals

    def removed(self, obj: str, position: str | None) -> Iterator[Removed]:
        """Records archived after `position`, and (deals, contacts) ids merged into others."""
        if obj == "owners":
            return
        kind = KINDS[obj]
        newest = position
        after = None
        while True:
            page = self.api.call(
                f"archived {obj}",
                "basic",
                "get_page",
                obj,
                limit=100,
                after=after,
                archived=True,
            )
            ids = []
            for record in page.results:
                at = iso(record.archived_at) if record.archived_at else None
                if at is not None and (position is None or at > position):
                    ids.append(record.id)
                    newest = max(newest or at, at)
            if ids:
                yield Removed(obj, kind, ids, None)
            after = page.paging.next.after if page.paging and page.paging.next else None
            if after is None:
                break
        if obj in ("deals", "contacts"):
            merged = Filter(property_name="hs_merged_object_ids", operator="HAS_PROPERTY")
            props = ["hs_merged_object_ids", modified_property(obj)]
            for page in self._search(obj, position, props, [merged]):
                ids = [
                    loser
                    for r in page
                    if position is None or r.properties.get(modified_property(obj), "") > position
                    for loser in (r.properties.get("hs_merged_object_ids") or "").split(";")
                    if loser
                ]
                last = page[-1].properties.get(modified_property(obj))
                newest = max(newest or last, last) if last else newest
                if ids:
                    yield Removed(obj, kind, ids, None)
        if newest != position:
            yield Removed(obj, kind, [], newest)
