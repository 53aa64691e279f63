"""A local HubSpot-shaped HTTPS server (CRM v3): owners, deal pipelines, object search with
filterGroups/sorts/paging and the 10,000-result cap, batch read with propertiesWithHistory,
v4 batch associations, archived listings and the OAuth token endpoint. Property values are
strings and times ISO `2024-01-22T16:14:25.123Z`, as HubSpot returns them."""

from __future__ import annotations

import bisect
import csv
import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.support.https_server import HttpsServer, send_json

START = datetime(2026, 11, 1, tzinfo=UTC)
SEARCH_CAP = 10_000
ENGAGEMENT_TYPES = {"calls": "call", "meetings": "meeting", "emails": "email", "tasks": "other"}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _ms(text: str) -> int:
    if text.isdigit():
        return int(text)
    return int(datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000)


@dataclass
class _Failure:
    path: str
    status: int
    times: int
    headers: dict[str, str]


@dataclass
class _Store:
    """One object type's records, kept sorted by last-modified time (ms, id) for bisect."""

    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    order: list[tuple[int, str]] = field(default_factory=list)
    archived: dict[str, dict[str, Any]] = field(default_factory=dict)


class FakeHubSpot:
    """The fake portal and its control API (`put`, `archive`, `merge`, `fail`, ...)."""

    def __init__(self) -> None:
        self.token = "pat-na1-fake-token"
        self.refresh_token = "refresh-fake-token"
        self.client_id, self.client_secret = "fake-client-id", "fake-client-secret"
        self.owners: list[dict[str, Any]] = []
        self.pipelines: list[dict[str, Any]] = []
        self.stores: dict[str, _Store] = {}
        self.requests: list[tuple[str, str]] = []
        self.failures: list[_Failure] = []
        self.delay = 0.0  # seconds each request waits before its answer
        self.clock = START
        self.lock = threading.Lock()
        self.server = HttpsServer(_Handler)
        self.server.httpd.fake = self  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return self.server.url

    def __enter__(self) -> FakeHubSpot:
        self.server.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.server.stop()

    # control API

    def tick(self) -> str:
        self.clock += timedelta(milliseconds=1)
        return iso(self.clock)

    def put(self, obj: str, record: dict[str, Any]) -> dict[str, Any]:
        """Create or update a record (`id`, `properties`, optional `history` of
        (stage, time) and `associations` {type: [ids]}); bumps its last-modified time."""
        store = self.stores.setdefault(obj, _Store())
        prop = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        with self.lock:
            old = store.records.get(record["id"])
            if old is not None:
                store.order.remove((_ms(old["properties"][prop]), old["id"]))
            now = self.tick()
            props = {k: str(v) for k, v in record.get("properties", {}).items()}
            props[prop] = now
            props.setdefault("createdate", now)
            props["hs_object_id"] = record["id"]
            amounts = old["amounts"] if old is not None else []
            if "amount" in props and (not amounts or amounts[-1][0] != props["amount"]):
                amounts = [*amounts, (props["amount"], now if amounts else props["createdate"])]
            stored = {
                "id": record["id"],
                "properties": props,
                "history": record.get("history", []),
                "amounts": amounts,  # the amount's history: (value, time), as HubSpot keeps it
                "associations": record.get("associations", {}),
                "createdAt": props["createdate"],
                "updatedAt": now,
            }
            store.records[record["id"]] = stored
            bisect.insort(store.order, (_ms(now), record["id"]))
        return stored

    def archive(self, obj: str, record_id: str) -> None:
        store = self.stores[obj]
        prop = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        with self.lock:
            record = store.records.pop(record_id)
            store.order.remove((_ms(record["properties"][prop]), record_id))
            record["archivedAt"] = self.tick()
            store.archived[record_id] = record

    def merge(self, obj: str, winner: str, loser: str) -> None:
        """Merge `loser` into `winner`: the loser goes, the winner lists it in
        hs_merged_object_ids and is modified."""
        store = self.stores[obj]
        prop = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        with self.lock:
            gone = store.records.pop(loser)
            store.order.remove((_ms(gone["properties"][prop]), loser))
        kept = store.records[winner]
        merged = [m for m in kept["properties"].get("hs_merged_object_ids", "").split(";") if m]
        self.put(
            obj,
            {
                **kept,
                "properties": {
                    **kept["properties"],
                    "hs_merged_object_ids": ";".join([*merged, loser]),
                },
            },
        )

    def expire_token(self) -> None:
        self.token = f"expired-{uuid.uuid4()}"  # the client's token no longer works

    def fail(
        self, path: str, status: int, times: int = 1, headers: dict[str, str] | None = None
    ) -> None:
        """The next `times` requests whose path contains `path` answer `status`."""
        self.failures.append(_Failure(path, status, times, headers or {}))

    def native_csv(self, kind: str, path: Path) -> Path:
        """Write the live records of one import kind (reps, deals, stage_changes, leads,
        activities, or the pipelines' stage_map) as a native CSV: what a user would import."""
        header, rows = getattr(self, f"_native_{kind}")()
        with path.open("w", newline="") as out:
            csv.writer(out).writerows([header, *rows])
        return path

    def _live(self, obj: str) -> list[dict[str, Any]]:
        return list(self.stores.get(obj, _Store()).records.values())

    def _stage_labels(self) -> dict[str, str]:
        return {s["id"]: s["label"] for p in self.pipelines for s in p["stages"]}

    def _native_reps(self) -> tuple[list[str], list[list[str]]]:
        rows = []
        for o in self.owners:
            team = next((t["name"] for t in o.get("teams", []) if t.get("primary")), "")
            name = f"{o['firstName']} {o['lastName']}"
            active = "false" if o.get("archived") else "true"
            rows.append([name, o["email"], team, o["id"], active])
        return ["name", "email", "team", "crm_user_id", "active"], rows

    def _native_stage_map(self) -> tuple[list[str], list[list[str]]]:
        rows = []
        for pipeline in self.pipelines:
            for s in pipeline["stages"]:
                probability, closed = s["metadata"]["probability"], s["metadata"]["isClosed"]
                outcome = "open"
                if closed == "true":
                    outcome = "won" if float(probability) == 1.0 else "lost"
                rows.append([s["label"], str(s["displayOrder"]), probability, outcome])
        return ["stage", "order", "probability", "outcome"], rows

    def _native_deals(self) -> tuple[list[str], list[list[str]]]:
        labels = self._stage_labels()
        names = ["dealname", "hubspot_owner_id", "amount", "deal_currency_code",
                 "createdate", "closedate", "hs_is_closed", "hs_is_closed_won",
                 "hs_forecast_category"]  # fmt: skip
        header = ["external_id", "name", "owner", "amount", "currency", "created_at",
                  "close_date", "is_closed", "is_won", "forecast_category", "stage"]  # fmt: skip
        rows = [
            [d["id"], *(d["properties"].get(n, "") for n in names),
             labels[d["properties"]["dealstage"]]]
            for d in self._live("deals")
        ]  # fmt: skip
        return header, rows

    def _native_stage_changes(self) -> tuple[list[str], list[list[str]]]:
        labels = self._stage_labels()
        rows = [
            [d["id"], labels[s], at, next((v for v, t in reversed(d["amounts"]) if t <= at), "")]
            for d in self._live("deals")
            for s, at in d["history"]
        ]
        return ["deal_external_id", "stage", "entered_at", "amount"], rows

    def _native_leads(self) -> tuple[list[str], list[list[str]]]:
        names = ["hubspot_owner_id", "hs_analytics_source", "company", "createdate",
                 "hs_sa_first_engagement_date"]  # fmt: skip
        header = ["external_id", "owner", "source", "company", "created_at", "first_response_at"]
        return header, [[c["id"], *(c["properties"].get(n, "") for n in names)]
                        for c in self._live("contacts")]  # fmt: skip

    def _native_activities(self) -> tuple[list[str], list[list[str]]]:
        header = ["external_id", "owner", "type", "started_at", "minutes", "deal_external_id",
                  "lead_external_id", "external_attendee", "duration_seconds"]  # fmt: skip
        rows = []
        for obj, kind in ENGAGEMENT_TYPES.items():
            for e in self._live(obj):
                props = e["properties"]
                started = props.get(
                    "hs_meeting_start_time" if obj == "meetings" else "hs_timestamp"
                )
                minutes, seconds = "", ""
                if obj == "calls" and props.get("hs_call_duration"):  # milliseconds
                    seconds = str(int(props["hs_call_duration"]) / 1000)
                if obj == "meetings":
                    end = datetime.fromisoformat(props["hs_meeting_end_time"])
                    minutes = str((end - datetime.fromisoformat(started)).total_seconds() / 60)
                deal = (self._linked(e, "deals") or [""])[0]
                contact = (self._linked(e, "contacts") or [""])[0]
                attendee = ("true" if contact else "false") if obj == "meetings" else ""
                rows.append([e["id"], props["hubspot_owner_id"], kind, started, minutes, deal,
                             contact, attendee, seconds])  # fmt: skip
        return header, rows

    # serving

    def handle(
        self, method: str, path: str, query: dict[str, str], body: Any, auth: str
    ) -> tuple[int, Any, dict[str, str]]:
        self.requests.append((method, path))
        time.sleep(self.delay)
        for failure in self.failures:
            if failure.path in path and failure.times > 0:
                failure.times -= 1
                return failure.status, _error(failure.status, "fake failure"), failure.headers
        if path == "/oauth/v1/token":
            return self._token(body)
        if auth != f"Bearer {self.token}":
            return (
                401,
                _error(401, "Authentication credentials not found.", "INVALID_AUTHENTICATION"),
                {},
            )
        parts = path.strip("/").split("/")
        if path.startswith("/crm/v3/owners"):
            return 200, self._owners(query), {}
        if path == "/crm/v3/pipelines/deals":
            return 200, {"results": self.pipelines}, {}
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 5 and parts[4] == "search":
            return self._search(parts[3], body)
        if parts[:3] == ["crm", "v3", "objects"] and parts[4:] == ["batch", "read"]:
            return 200, self._batch_read(parts[3], body), {}
        if parts[:3] == ["crm", "v4", "associations"] and parts[5:] == ["batch", "read"]:
            return 200, self._associations(parts[3], parts[4], body), {}
        if parts[:3] == ["crm", "v3", "objects"] and len(parts) == 4:
            return 200, self._archived(parts[3], query), {}
        return 404, _error(404, f"no route {path}", "OBJECT_NOT_FOUND"), {}

    def _token(self, form: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        if (
            form.get("grant_type"),
            form.get("client_id"),
            form.get("client_secret"),
            form.get("refresh_token"),
        ) != ("refresh_token", self.client_id, self.client_secret, self.refresh_token):
            return (
                400,
                {"status": "BAD_REFRESH_TOKEN", "message": "missing or unknown refresh token"},
                {},
            )
        self.token = f"oauth-{uuid.uuid4()}"
        return (
            200,
            {
                "access_token": self.token,
                "refresh_token": self.refresh_token,
                "token_type": "bearer",
                "expires_in": 1800,
            },
            {},
        )

    def _linked(self, record: dict[str, Any], target: str) -> list[str]:
        """A record's associations to `target` records, less archived ones (archiving a
        record drops its associations)."""
        archived = self.stores.get(target, _Store()).archived
        return [i for i in record["associations"].get(target, []) if i not in archived]

    def _owners(self, query: dict[str, str]) -> dict[str, Any]:
        archived = query.get("archived", "").lower() == "true"
        owners = [o for o in self.owners if bool(o.get("archived")) == archived]
        return _page(owners, query, int(query.get("limit", 100)))

    def _search(self, obj: str, body: dict[str, Any]) -> tuple[int, Any, dict[str, str]]:
        store = self.stores.get(obj, _Store())
        prop = "lastmodifieddate" if obj == "contacts" else "hs_lastmodifieddate"
        after, limit = int(body.get("after") or 0), int(body.get("limit") or 10)
        if after + limit > SEARCH_CAP and after >= SEARCH_CAP:
            return 400, _error(400, "Cannot page beyond 10000 results", "VALIDATION_ERROR"), {}
        filters = [f for g in body.get("filterGroups", []) for f in g.get("filters", [])]
        start = 0
        for f in filters:
            if f["propertyName"] == prop and f["operator"] == "GTE":
                start = bisect.bisect_left(store.order, (_ms(f["value"]), ""))
        ids = [i for _, i in store.order[start:]]
        for f in filters:
            if f["operator"] == "IN" and f["propertyName"] == "hs_object_id":
                ids = [i for i in ids if i in set(f["values"])]
            if f["operator"] == "HAS_PROPERTY":
                ids = [i for i in ids if store.records[i]["properties"].get(f["propertyName"])]
        wanted = body.get("properties") or []
        results = [_public(store.records[i], wanted) for i in ids[after : after + limit]]
        answer: dict[str, Any] = {"total": len(ids), "results": results}
        if after + limit < len(ids):
            answer["paging"] = {"next": {"after": str(after + limit)}}
        return 200, answer, {}

    def _batch_read(self, obj: str, body: dict[str, Any]) -> dict[str, Any]:
        store = self.stores.get(obj, _Store())
        results = []
        for item in body["inputs"]:
            record = store.records.get(item["id"])
            if record is None:
                continue
            out = _public(record, body.get("properties") or [])
            histories = {"dealstage": record["history"], "amount": record.get("amounts", [])}
            wanted = [p for p in body.get("propertiesWithHistory") or [] if p in histories]
            if wanted:
                out["propertiesWithHistory"] = {
                    p: [
                        {"value": v, "timestamp": t, "sourceType": "CRM_UI"}
                        for v, t in sorted(histories[p], key=lambda h: h[1], reverse=True)
                    ]
                    for p in wanted
                }
            results.append(out)
        now = iso(datetime.now(UTC))
        return {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}

    def _associations(self, source: str, target: str, body: dict[str, Any]) -> dict[str, Any]:
        store = self.stores.get(source, _Store())
        results = []
        for item in body["inputs"]:
            record = store.records.get(item["id"])
            linked = self._linked(record, target) if record else []
            if linked:
                to = [
                    {
                        "toObjectId": int(i),
                        "associationTypes": [
                            {"category": "HUBSPOT_DEFINED", "typeId": 1, "label": None}
                        ],
                    }
                    for i in linked
                ]
                results.append({"from": {"id": item["id"]}, "to": to})
        now = iso(datetime.now(UTC))
        return {"status": "COMPLETE", "results": results, "startedAt": now, "completedAt": now}

    def _archived(self, obj: str, query: dict[str, str]) -> dict[str, Any]:
        store = self.stores.get(obj, _Store())
        rows = (
            [
                {**_public(r, []), "archived": True, "archivedAt": r["archivedAt"]}
                for r in store.archived.values()
            ]
            if query.get("archived", "").lower() == "true"
            else [_public(r, []) for r in store.records.values()]
        )
        return _page(rows, query, int(query.get("limit", 10)))


def _public(record: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    props = record["properties"]
    chosen = {k: props.get(k) for k in wanted} if wanted else dict(props)
    return {
        "id": record["id"],
        "properties": chosen,
        "createdAt": record["createdAt"],
        "updatedAt": record["updatedAt"],
        "archived": False,
    }


def _page(rows: list[dict[str, Any]], query: dict[str, str], limit: int) -> dict[str, Any]:
    after = int(query.get("after") or 0)
    answer: dict[str, Any] = {"results": rows[after : after + limit]}
    if after + limit < len(rows):
        answer["paging"] = {
            "next": {"after": str(after + limit), "link": "?after=" + str(after + limit)}
        }
    return answer


def _error(status: int, message: str, category: str | None = None) -> dict[str, Any]:
    category = category or {429: "RATE_LIMITS", 400: "VALIDATION_ERROR"}.get(
        status, "INTERNAL_ERROR"
    )
    body = {
        "status": "error",
        "message": message,
        "correlationId": str(uuid.uuid4()),
        "category": category,
    }
    if status == 429:
        body["policyName"] = "TEN_SECONDLY_ROLLING"
    return body


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_: Any) -> None:
        pass

    def _serve(self, method: str) -> None:
        fake: FakeHubSpot = self.server.fake  # type: ignore[attr-defined]
        split = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "x-www-form-urlencoded" in (self.headers.get("Content-Type") or ""):
            body: Any = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
        else:
            body = json.loads(raw) if raw else {}
        path = split.path.rstrip("/") or "/"
        status, answer, headers = fake.handle(
            method, path, query, body, self.headers.get("Authorization") or ""
        )
        send_json(self, status, answer, headers)

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")
