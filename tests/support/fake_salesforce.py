"""A local Salesforce-shaped REST API over HTTPS: versions, query/queryAll with a small SOQL
interpreter, nextRecordsUrl paging, OAuth token, Salesforce error bodies. Records per object
stay sorted by (SystemModstamp, Id) so SystemModstamp filters bisect (fast at 100k+)."""

from __future__ import annotations

import bisect
import csv
import itertools
import re
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.support.https_server import HttpsServer, send_json

SF_TIME = "%Y-%m-%dT%H:%M:%S.%f%z"
_TYPES = {  # export column -> JSON type
    "bool": {"IsClosed", "IsWon", "IsActive", "IsDeleted"},
    "number": {"Amount", "Probability", "CallDurationInSeconds", "DurationInMinutes",
               "QuotaAmount", "SortOrder", "DefaultProbability"},
}  # fmt: skip
_PREFIX = {  # id prefixes of the objects the fake holds
    "Opportunity": "006", "OpportunityHistory": "008", "Lead": "00Q", "Task": "00T",
    "Event": "00U", "User": "005", "EventRelation": "0RE", "ForecastingQuota": "0J9",
}  # fmt: skip


def sf_time(value: datetime) -> str:
    """A datetime as the REST API writes it: 2024-01-22T16:14:25.000+0000."""
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.")
        + f"{value.microsecond // 1000:03d}+0000"
    )


def parse_time(text: str) -> datetime:
    """A REST or SOQL datetime."""
    if text.endswith("Z"):
        text = text[:-1] + "+0000"
    for fmt in (SF_TIME, "%Y-%m-%dT%H:%M:%S%z"):
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            pass
    raise ValueError(text)


class SoqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_QUERY = re.compile(
    r"^SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<obj>\w+)(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>.+?))?(?:\s+LIMIT\s+(?P<limit>\d+))?$",
    re.IGNORECASE | re.DOTALL,
)


_COND = re.compile(
    r"^(?P<field>[\w.]+)\s*(?P<op>!=|>=|<=|=|>|<|\bIN\b)\s*(?P<value>.+)$", re.IGNORECASE
)


def _parse(soql: str) -> re.Match[str] | None:
    """The query's parts; a subquery's spaces become NULs so the outer match skips it."""
    text = " ".join(soql.split())
    hidden = re.sub(
        r"\(SELECT [^()]*\)", lambda m: m[0].replace(" ", "\x00"), text, flags=re.IGNORECASE
    )
    return _QUERY.match(hidden)


def _split_top(text: str, sep: str = ",") -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += ch == "("
        depth -= ch == ")"
        if ch == sep and depth == 0:
            parts.append(text[start:i].strip())
            start = i + 1
    parts.append(text[start:].strip())
    return [p for p in parts if p]


def _literal(text: str) -> Any:
    text = text.strip()
    if text.startswith("'"):
        return text[1:-1].replace("\\'", "'")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    if text.lower() == "null":
        return None
    if re.match(r"^\d{4}-\d\d-\d\dT", text):
        return parse_time(text)
    if re.match(r"^\d{4}-\d\d-\d\d$", text):
        return text
    return float(text)


def _comparable(value: Any, like: Any) -> Any:
    if isinstance(like, datetime) and isinstance(value, str):
        return parse_time(value)
    return value


@dataclass
class Condition:
    field: str
    op: str
    value: Any

    def test(self, record: dict[str, Any]) -> bool:
        got = record.get(self.field)
        if self.op == "IN":
            return got in self.value
        got = _comparable(got, self.value)
        if self.op == "=":
            return got == self.value
        if self.op == "!=":
            return got != self.value
        if got is None:
            return False
        return {">": got > self.value, ">=": got >= self.value, "<": got < self.value,
                "<=": got <= self.value}[self.op]  # fmt: skip


def _where(text: str | None) -> list[Condition]:
    conditions = []
    for part in re.split(r"\s+AND\s+", text or "", flags=re.IGNORECASE):
        if not part.strip():
            continue
        m = _COND.match(part.strip())
        if not m:
            raise SoqlError("MALFORMED_QUERY", f"unexpected token: {part!r}")
        op = m["op"].upper()
        value = (
            [_literal(v) for v in _split_top(m["value"].strip()[1:-1])]
            if op == "IN"
            else _literal(m["value"])
        )
        conditions.append(Condition(m["field"], op, value))
    return conditions


@dataclass
class Store:
    """One object's records, sorted by (SystemModstamp, Id)."""

    keys: list[tuple[datetime, str]] = field(default_factory=list)
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)

    def put(self, record: dict[str, Any]) -> None:
        old = self.by_id.get(record["Id"])
        if old is not None:
            key = (parse_time(old["SystemModstamp"]), old["Id"])
            del self.keys[bisect.bisect_left(self.keys, key)]
        self.by_id[record["Id"]] = record
        bisect.insort(self.keys, (parse_time(record["SystemModstamp"]), record["Id"]))

    def scan(self, conditions: list[Condition]) -> Iterable[dict[str, Any]]:
        start = 0
        for c in conditions:
            if c.field == "SystemModstamp" and c.op in (">=", ">"):
                find = bisect.bisect_left if c.op == ">=" else bisect.bisect_right
                start = max(start, find(self.keys, (c.value, "" if c.op == ">=" else "\uffff")))
        return (self.by_id[rid] for _, rid in itertools.islice(self.keys, start, None))


@dataclass
class Failure:
    path: str
    status: int
    times: int
    headers: dict[str, str]
    body: Any


class FakeSalesforce:
    """The fake org; `put`, `delete`, `expire_token`, `fail` steer it; `requests` logs calls."""

    def __init__(self, *, page_size: int = 2000, objects: Iterable[str] = ()) -> None:
        self.page_size = page_size
        self.token = "00Dfake!token-1"
        self.client_id, self.client_secret = "fake-client-id", "fake-client-secret"
        self.org = {"Id": "00DEc0000000001EAA", "Name": "Acme Corp"}
        self.stores: dict[str, Store] = {o: Store() for o in (*_PREFIX, *objects)}
        self.stores.pop("ForecastingQuota")  # orgs without Collaborative Forecasts
        self.requests: list[tuple[str, str]] = []
        self.failures: list[Failure] = []
        self.delay = 0.0  # seconds each query answer waits (to stop a sync mid-run)
        self._cursors: dict[str, tuple[str, list[dict[str, Any]], list[str]]] = {}
        self._clock = datetime(2025, 1, 1, tzinfo=UTC)
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self.server = HttpsServer(_handler(self))
        self.stages: list[dict[str, Any]] = [
            {"ApiName": n, "MasterLabel": n, "SortOrder": i, "DefaultProbability": p,
             "IsClosed": c, "IsWon": w, "IsActive": True}
            for i, (n, p, c, w) in enumerate([
                ("Prospecting", 10, False, False), ("Qualification", 10, False, False),
                ("Negotiation/Review", 90, False, False), ("Closed Won", 100, True, True),
                ("Closed Lost", 0, True, False)], start=1)
        ]  # fmt: skip

    # -- control ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return self.server.url

    def start(self) -> FakeSalesforce:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def new_id(self, obj: str) -> str:
        return f"{_PREFIX.get(obj, 'a00')}Ec{next(self._ids):010d}AAA"

    def put(self, obj: str, record: dict[str, Any], modstamp: datetime | None = None) -> str:
        """Create or update a record (fields merge; nested relationship objects flatten to
        `Account.Name`). SystemModstamp: `modstamp`, the record's own, else the clock moves on."""
        record = _flat(record)
        if modstamp is None and record.get("SystemModstamp"):
            modstamp = parse_time(record["SystemModstamp"])
        with self._lock:
            store = self.stores.setdefault(obj, Store())
            rid = record.get("Id") or self.new_id(obj)
            merged = {**store.by_id.get(rid, {"IsDeleted": False}), **record, "Id": rid}
            self._clock = max(self._clock + timedelta(seconds=1), modstamp or self._clock)
            merged["SystemModstamp"] = sf_time(modstamp or self._clock)
            store.put(merged)
            return rid

    def load(self, obj: str, records: Iterable[dict[str, Any]]) -> None:
        """Bulk-load records that carry their Id and SystemModstamp (sorted once)."""
        store = self.stores.setdefault(obj, Store())
        with self._lock:
            for record in records:
                flat = {"IsDeleted": False, **_flat(record)}
                store.by_id[flat["Id"]] = flat
            store.keys = sorted(
                (parse_time(r["SystemModstamp"]), i) for i, r in store.by_id.items()
            )

    def current(self, obj: str) -> list[dict[str, Any]]:
        """The object's live records (not deleted), flat, in SystemModstamp order."""
        store = self.stores[obj]
        rows = (store.by_id[rid] for _, rid in store.keys)
        return [
            {k: v for k, v in r.items() if k != "IsDeleted"} for r in rows if not r["IsDeleted"]
        ]

    def export_csv(self, obj: str, path: Path) -> Path:
        """The object's live records as a Data Export CSV writes them: API names
        (`Account.Name` flattened), booleans `1` or empty, numbers and times as stored."""
        rows = self.current(obj)
        header = sorted({key for row in rows for key in row})
        with path.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            for row in rows:
                writer.writerow([_export_cell(row.get(key)) for key in header])
        return path

    def delete(self, obj: str, rid: str) -> None:
        """Delete a record: only queryAll sees it from now on (IsDeleted = true)."""
        self.put(obj, {"Id": rid, "IsDeleted": True})

    def expire_token(self) -> None:
        self.token = self.token + "x"

    def fail(self, path: str, status: int, times: int = 1, headers: dict[str, str] | None = None,
             body: Any = None) -> None:  # fmt: skip
        """Answer the next `times` requests whose path contains `path` with `status`."""
        body = (
            body if body is not None else [{"message": "fake failure", "errorCode": "SERVER_ERROR"}]
        )
        self.failures.append(Failure(path, status, times, headers or {}, body))

    def from_export(self, directory: Path) -> FakeSalesforce:
        """Load Opportunity (with Account.Name), Lead and Task from a Data Export; make Users
        for their owners and one OpportunityHistory row per opportunity at its CreatedDate."""
        owners: set[str] = set()
        with (directory / "Account.csv").open(encoding="utf-8-sig", newline="") as f:
            accounts = {row["Id"]: row["Name"] for row in csv.DictReader(f)}
        for obj in ("Opportunity", "Lead", "Task"):
            with (directory / f"{obj}.csv").open(encoding="utf-8-sig", newline="") as f:
                for row in csv.DictReader(f):
                    record = {k: _json_value(k, v) for k, v in row.items()}
                    record["IsDeleted"] = False
                    if obj == "Opportunity":
                        record["Account.Name"] = accounts.get(row["AccountId"])
                    owners.add(row["OwnerId"])
                    self.put(obj, record, parse_time(row["SystemModstamp"]))
        for n, uid in enumerate(sorted(owners), start=1):
            self.put("User", {"Id": uid, "Name": f"Rep {n}", "Email": f"rep{n}@acme.example",
                              "UserType": "Standard", "IsActive": True, "ManagerId": None,
                              "UserRole.Name": None, "Department": "Sales", "Division": None,
                              "TimeZoneSidKey": "America/New_York"})  # fmt: skip
        for opp in list(self.stores["Opportunity"].by_id.values()):
            self.put("OpportunityHistory", {
                "OpportunityId": opp["Id"], "StageName": opp["StageName"],
                "CreatedDate": opp["CreatedDate"], "Amount": opp["Amount"],
                "Probability": opp["Probability"]}, parse_time(opp["CreatedDate"]))  # fmt: skip
        return self

    # -- the API -----------------------------------------------------------------------------

    def answer(self, method: str, path: str, query: dict[str, list[str]],
               headers: dict[str, str]) -> tuple[int, dict[str, str], Any]:  # fmt: skip
        self.requests.append((method, path + ("?q=" + query["q"][0] if "q" in query else "")))
        for failure in self.failures:
            if failure.times > 0 and failure.path in path:
                failure.times -= 1
                return failure.status, failure.headers, failure.body
        if path == "/services/oauth2/token":
            return self._token(query)
        if path == "/services/data/":
            return 200, {}, [{"label": "Winter '25", "url": "/services/data/v62.0",
                              "version": "62.0"}]  # fmt: skip
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 401, {}, [{"message": "Session expired or invalid",
                              "errorCode": "INVALID_SESSION_ID"}]  # fmt: skip
        m = re.match(r"^/services/data/v([\d.]+)/(query|queryAll)(?:/([\w-]+))?/?$", path)
        if not m:
            return 404, {}, [{"message": "The requested resource does not exist",
                              "errorCode": "NOT_FOUND"}]  # fmt: skip
        if self.delay:
            time.sleep(self.delay)
        try:
            if m[3]:
                return 200, {}, self._page(m[1], m[3])
            return 200, {}, self._query(m[1], query["q"][0], deleted=m[2] == "queryAll")
        except SoqlError as exc:
            return 400, {}, [{"message": str(exc), "errorCode": exc.code}]

    def _token(self, form: dict[str, list[str]]) -> tuple[int, dict[str, str], Any]:
        if form.get("client_id") != [self.client_id] or form.get("client_secret") != [
            self.client_secret
        ]:
            return (
                400,
                {},
                {"error": "invalid_client", "error_description": "invalid client credentials"},
            )
        self.token = f"00Dfake!token-{next(self._ids)}"
        return 200, {}, {"access_token": self.token, "instance_url": self.url,
                         "token_type": "Bearer", "issued_at": "1700000000000"}  # fmt: skip

    def _query(self, version: str, soql: str, *, deleted: bool) -> dict[str, Any]:
        m = _parse(soql)
        if not m:
            raise SoqlError("MALFORMED_QUERY", "unexpected token")
        obj, fields = m["obj"], _split_top(m["fields"])
        if obj == "Organization":
            return self._result(version, "Organization", [{**self.org}], ["Id", "Name"])
        if obj == "OpportunityStage":
            return self._result(version, obj, self.stages, fields)
        if obj not in self.stores:
            raise SoqlError("INVALID_TYPE", f"sObject type '{obj}' is not supported.")
        conditions = _where(m["where"])
        if not deleted:
            conditions.append(Condition("IsDeleted", "=", False))
        with self._lock:
            rows = [r for r in self.stores[obj].scan(conditions)
                    if all(c.test(r) for c in conditions)]  # fmt: skip
        if fields == ["COUNT()"]:
            return {"totalSize": len(rows), "done": True, "records": []}
        rows = _order(rows, m["order"])
        if m["limit"]:
            rows = rows[: int(m["limit"])]
        return self._result(version, obj, rows, fields)

    def _result(self, version: str, obj: str, rows: list[dict[str, Any]],
                fields: list[str]) -> dict[str, Any]:  # fmt: skip
        cursor = f"01g{next(self._ids):015d}"
        self._cursors[cursor] = (obj, rows, fields)  # shaped page by page, as served
        return self._page(version, f"{cursor}-0")

    def _page(self, version: str, locator: str) -> dict[str, Any]:
        cursor, _, offset = locator.rpartition("-")
        (obj, rows, fields), start = self._cursors[cursor], int(offset)
        end = start + self.page_size
        records = [self._shape(version, obj, r, fields) for r in rows[start:end]]
        page: dict[str, Any] = {"totalSize": len(rows), "done": end >= len(rows),
                                "records": records}  # fmt: skip
        if not page["done"]:
            page["nextRecordsUrl"] = f"/services/data/v{version}/query/{cursor}-{end}"
        return page

    def _shape(self, version: str, obj: str, record: dict[str, Any],
               fields: list[str]) -> dict[str, Any]:  # fmt: skip
        out: dict[str, Any] = {"attributes": _attributes(version, obj, record.get("Id"))}
        for name in fields:
            if name.startswith("("):
                out.update(self._children(version, record, name[1:-1].replace("\x00", " ")))
                continue
            if "." not in name:
                out[name] = record.get(name)
                continue
            parent, child = name.split(".", 1)
            if record.get(name) is None:
                out.setdefault(parent, None)
            else:
                nested = out.get(parent) or {"attributes": _attributes(version, parent, None)}
                nested[child] = record[name]
                out[parent] = nested
        return out

    def _children(self, version: str, lead: dict[str, Any], soql: str) -> dict[str, Any]:
        """The Lead.Tasks subquery: the lead's tasks (WhoId) that match it."""
        m = _QUERY.match(" ".join(soql.split()))
        assert m and m["obj"] == "Tasks", soql
        conditions = [*_where(m["where"]), Condition("WhoId", "=", lead["Id"])]
        tasks = [t for t in self.stores["Task"].by_id.values()
                 if not t.get("IsDeleted") and all(c.test(t) for c in conditions)]  # fmt: skip
        tasks = _order(tasks, m["order"])[: int(m["limit"] or 1_000_000)]
        if not tasks:
            return {"Tasks": None}
        shaped = [self._shape(version, "Task", t, _split_top(m["fields"])) for t in tasks]
        return {"Tasks": {"totalSize": len(shaped), "done": True, "records": shaped}}


def _flat(record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """A record with nested relationship objects flattened to `Parent.Field` keys."""
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def _export_cell(value: Any) -> str:
    if value is None or value is False:
        return ""
    return "1" if value is True else str(value)


def _attributes(version: str, obj: str, rid: Any) -> dict[str, str]:
    url = f"/services/data/v{version}/sobjects/{obj}" + (f"/{rid}" if rid else "")
    return {"type": obj, "url": url}


def _order(rows: list[dict[str, Any]], order: str | None) -> list[dict[str, Any]]:
    if order and order.replace(" ", "") == "SystemModstamp,Id":
        return rows  # the store's own order
    for part in reversed(_split_top(order or "")):
        name, *direction = part.split()
        descending = bool(direction) and direction[0].upper() == "DESC"
        rows = sorted(rows, key=lambda r, n=name: (r.get(n) is None, str(r.get(n))),
                      reverse=descending)  # fmt: skip
    return rows


def _json_value(name: str, text: str) -> Any:
    """An export cell as the REST API types it."""
    if name in _TYPES["bool"]:
        return text == "1"
    if text == "":
        return None
    if name in _TYPES["number"]:
        return float(text)
    return text


def _handler(fake: FakeSalesforce) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self, method: str) -> None:
            url = urlparse(self.path)
            query = parse_qs(url.query)
            if method == "POST":
                length = int(self.headers.get("Content-Length") or 0)
                query |= parse_qs(self.rfile.read(length).decode())
            status, headers, body = fake.answer(method, url.path, query, dict(self.headers))
            send_json(self, status, body, headers)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler
