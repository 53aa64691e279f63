"""Benchmark: `salesops sync salesforce` against the local Salesforce-shaped HTTPS server, a
first full sync of a large org and an incremental sync after 1% of it changed.

    python bench/sync.py --opportunities 100000 --activities 500000
    python bench/sync.py --database-url postgresql+psycopg://postgres@127.0.0.1/so_x

The org is deterministic: users with managers and roles, opportunities with 1-4 history rows
each, tasks (calls with durations) and events (meetings) on the opportunities. The fake
Salesforce runs in a child process (its records are not this process's memory), so the peak
RSS printed is the sync's own. Reported: wall and CPU seconds of the sync, API requests,
records per second and peak RSS; then, after 1% of the opportunities and activities changed
(and 0.1% deleted), the incremental sync's seconds and requests. The reference, measured in
the same run, is `import_file` of the very same records written as Salesforce export CSVs
into a second database: the ratio says what the API round trips cost over reading the files,
and the bench exits 1 when the two databases disagree on any deal, stage change or activity.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import Activity, Deal, DealStageChange, Rep
from salesops_core.importers.loader import import_file
from salesops_core.importers.options import ImportOptions
from salesops_core.sync.runner import SyncReport, run_sync
from salesops_core.sync.salesforce import SalesforceCredentials, SalesforceSource

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support: the fake

USERS = 200
STAGES = (
    ("Prospecting", 10),
    ("Qualification", 10),
    ("Needs Analysis", 20),
    ("Proposal/Price Quote", 75),
    ("Negotiation/Review", 90),
)
START = datetime(2025, 1, 1, tzinfo=UTC)
EXPORT_KINDS = {  # object -> import kind, in write order
    "User": "reps",
    "Opportunity": "deals",
    "OpportunityHistory": "stage_changes",
    "Task": "activities",
    "Event": "activities",
}


def sf_id(prefix: str, n: int) -> str:
    """An 18-character Salesforce-looking id."""
    return f"{prefix}{n:012d}AAA"


def stamp(moment: datetime) -> str:
    """A datetime as Salesforce's JSON writes it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000+0000")


def generate(opportunities: int, activities: int, seed: int = 7) -> dict[str, list[dict]]:
    """The org's records per object, as the REST API returns them (without `attributes`)."""
    rnd = random.Random(seed)
    modstamp = START + timedelta(days=700)
    users = []
    for n in range(USERS):
        manager = sf_id("005", (n // 10) * 10) if n % 10 else None
        users.append(
            {
                "Id": sf_id("005", n),
                "Name": f"User {n:03d}",
                "Email": f"user{n:03d}@acme.example",
                "ManagerId": manager,
                "UserRole": {"Name": f"Team {n // 10:02d}"},
                "Department": None,
                "Division": None,
                "TimeZoneSidKey": "America/New_York",
                "IsActive": True,
                "UserType": "Standard",
                "SystemModstamp": stamp(modstamp),
            }
        )
    opps, history = [], []
    for n in range(opportunities):
        created = START + timedelta(minutes=rnd.randrange(0, 600 * 24 * 60))
        closed = rnd.random() < 0.6
        won = closed and rnd.random() < 0.35
        stage, probability = rnd.choice(STAGES)
        if closed:
            stage, probability = ("Closed Won", 100) if won else ("Closed Lost", 0)
        close_date = (created + timedelta(days=rnd.randrange(5, 120))).date().isoformat()
        opp_id = sf_id("006", n)
        amount = round(rnd.uniform(1_000, 200_000), 2)
        opps.append(
            {
                "Id": opp_id,
                "Name": f"Deal {n}",
                "AccountId": sf_id("001", n % 5000),
                "Account": {"Name": f"Account {n % 5000}"},
                "OwnerId": sf_id("005", rnd.randrange(USERS)),
                "Amount": amount,
                "StageName": stage,
                "Probability": probability,
                "CreatedDate": stamp(created),
                "CloseDate": close_date,
                "IsClosed": closed,
                "IsWon": won,
                "ForecastCategoryName": "Closed" if won else "Pipeline",
                "SystemModstamp": stamp(created + timedelta(days=1)),
            }
        )
        moments = [created + timedelta(minutes=m) for m in sorted(rnd.sample(range(1, 99999), 3))]
        path = [STAGES[0]] + [rnd.choice(STAGES) for _ in range(rnd.randrange(0, 3))]
        for k, (name, prob) in enumerate([*path, (stage, probability)]):
            at = created if k == 0 else moments[min(k - 1, 2)]
            history.append(
                {
                    "Id": sf_id("008", len(history)),
                    "OpportunityId": opp_id,
                    "StageName": name,
                    "CreatedDate": stamp(at),
                    "Amount": amount,
                    "Probability": prob,
                    "SystemModstamp": stamp(at),
                }
            )
    tasks, events = [], []
    for n in range(activities):
        opp = opps[rnd.randrange(opportunities)]
        at = START + timedelta(minutes=rnd.randrange(0, 600 * 24 * 60))
        if n % 3:
            tasks.append(
                {
                    "Id": sf_id("00T", n),
                    "OwnerId": opp["OwnerId"],
                    "Type": "Call",
                    "TaskSubtype": "Call",
                    "ActivityDate": at.date().isoformat(),
                    "CreatedDate": stamp(at),
                    "CallDurationInSeconds": rnd.randrange(30, 3600),
                    "WhatId": opp["Id"],
                    "WhoId": None,
                    "Status": "Completed",
                    "SystemModstamp": stamp(at),
                }
            )
        else:
            events.append(
                {
                    "Id": sf_id("00U", n),
                    "OwnerId": opp["OwnerId"],
                    "Type": "Meeting",
                    "EventSubtype": "Event",
                    "StartDateTime": stamp(at),
                    "ActivityDateTime": stamp(at),
                    "DurationInMinutes": rnd.choice((30, 45, 60)),
                    "WhatId": opp["Id"],
                    "WhoId": sf_id("003", n % 20000),
                    "SystemModstamp": stamp(at),
                }
            )
    return {
        "User": users,
        "Opportunity": opps,
        "OpportunityHistory": history,
        "Task": tasks,
        "Event": events,
    }


def change_one_percent(records: dict[str, list[dict]], when: datetime, seed: int = 11) -> dict:
    """1% of the opportunities (a new amount, with its history row) and of the activities
    changed at `when`, 0.1% of the activities deleted: the changed records and the deleted ids
    per object."""
    rnd = random.Random(seed)
    changed: dict[str, list[dict]] = {"OpportunityHistory": []}
    deleted: dict[str, list[str]] = {}
    for obj in ("Opportunity", "Task", "Event"):
        rows = records[obj]
        picked = rnd.sample(range(len(rows)), max(1, len(rows) // 100))
        gone = set(picked[: max(1, len(rows) // 1000)]) if obj != "Opportunity" else set()
        changed[obj] = []
        for i in picked:
            if i in gone:
                continue
            row = dict(rows[i], SystemModstamp=stamp(when))
            if obj == "Task":
                row["CallDurationInSeconds"] += 60
            elif obj == "Event":
                row["DurationInMinutes"] += 15
            else:
                row["Amount"] = round(row["Amount"] * 1.1, 2)
                history = records["OpportunityHistory"]
                change = {
                    "Id": sf_id("008", len(history)),
                    "OpportunityId": row["Id"],
                    "StageName": row["StageName"],
                    "CreatedDate": stamp(when),
                    "Amount": row["Amount"],
                    "Probability": row["Probability"],
                    "SystemModstamp": stamp(when),
                }
                history.append(change)
                changed["OpportunityHistory"].append(change)
            rows[i] = row
            changed[obj].append(row)
        deleted[obj] = [rows[i]["Id"] for i in gone]
    return {"changed": changed, "deleted": deleted}


def serve(conn: Any, opportunities: int, activities: int, page_size: int) -> None:
    """The child process: the fake Salesforce with the generated org, driven over `conn`."""
    from tests.support.fake_salesforce import FakeSalesforce

    records = generate(opportunities, activities)
    fake = FakeSalesforce(page_size=page_size)
    for obj, rows in records.items():
        fake.load(obj, rows)
    fake.start()
    from tests.support.https_server import ca_bundle

    conn.send((fake.url, fake.client_id, fake.client_secret, str(ca_bundle())))
    while True:
        command = conn.recv()
        if command == "change":
            when = datetime.now(UTC)
            delta = change_one_percent(records, when)
            for obj, rows in delta["changed"].items():
                for row in rows:
                    fake.put(obj, row)
            for obj, ids in delta["deleted"].items():
                for record_id in ids:
                    fake.delete(obj, record_id)
            conn.send({obj: len(rows) for obj, rows in delta["changed"].items()})
        elif command == "export":
            directory = Path(conn.recv())
            paths = {
                obj: str(fake.export_csv(obj, directory / f"{obj}.csv")) for obj in EXPORT_KINDS
            }
            conn.send(paths)
        else:
            fake.stop()
            conn.send("stopped")
            return


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_sync(sessions: sessionmaker[Session], source: SalesforceSource, full: bool) -> tuple:
    wall, cpu = time.perf_counter(), time.process_time()
    report = run_sync(sessions, source, org=OrgConfig(), sla=[SlaPolicy()], full=full)
    return report, time.perf_counter() - wall, time.process_time() - cpu


def database(url: str | None, name: str) -> sessionmaker[Session]:
    if url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-sync-')}/{name}.db"
    engine = make_engine(url)
    migrate(engine)
    return make_session_factory(engine)


def fingerprint(sessions: sessionmaker[Session]) -> dict[str, Any]:
    """Counts and column totals (to the cent: float sums differ in the last digit by order)
    of what a sync or an import wrote, to compare the two."""
    with sessions() as s:
        deals = s.execute(
            select(func.count(), func.sum(Deal.amount), func.count(Deal.closed_at))
        ).one()
        activities = s.execute(
            select(func.count(), func.sum(Activity.minutes), func.count(Activity.deal_id))
        ).one()
        return {
            "reps": s.scalar(select(func.count()).select_from(Rep)),
            "deals": (deals[0], round(deals[1] or 0, 2), deals[2]),
            "won": s.scalar(select(func.count()).where(Deal.outcome == "won")),
            "stage_changes": s.scalar(select(func.count()).select_from(DealStageChange)),
            "activities": (activities[0], round(activities[1] or 0, 2), activities[2]),
        }


def import_reference(paths: dict[str, str], sessions: sessionmaker[Session]) -> float:
    """The same records imported from export CSVs; wall seconds."""
    start = time.perf_counter()
    for obj, kind in EXPORT_KINDS.items():
        with sessions.begin() as session:
            options = ImportOptions(kind=kind, format="salesforce", tz=ZoneInfo("UTC"))
            import_file(session, Path(paths[obj]), options)
    return time.perf_counter() - start


def describe(label: str, report: SyncReport, wall: float, cpu: float) -> None:
    written = sum(c.fetched for c in report.counts.values())
    print(
        f"{label}: {wall:.1f} s wall, {cpu:.1f} s CPU, {report.requests} requests, "
        f"{written / wall:,.0f} records/s, status {report.status}, "
        f"peak RSS {peak_rss_mb():.0f} MB"
    )
    for obj, counts in report.counts.items():
        print(f"  {obj}: {vars(counts)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--opportunities", type=int, default=100_000)
    parser.add_argument("--activities", type=int, default=500_000)
    parser.add_argument("--page-size", type=int, default=2000)
    parser.add_argument("--database-url", help="a scratch database (default: SQLite files)")
    parser.add_argument("--reference-url", help="a second scratch database for the import")
    args = parser.parse_args()

    parent, child = mp.Pipe()
    server = mp.Process(
        target=serve, args=(child, args.opportunities, args.activities, args.page_size)
    )
    server.start()
    url, client_id, client_secret, ca_path = parent.recv()  # the child's own trustme CA
    credentials = SalesforceCredentials(
        instance_url=url,
        client_id=client_id,
        client_secret=client_secret,
        ca_bundle=ca_path,
    )
    synced = database(args.database_url, "sync")
    print(
        f"org: {USERS} users, {args.opportunities:,} opportunities, {args.activities:,} activities"
    )
    report, wall, cpu = timed_sync(synced, SalesforceSource(credentials), full=True)
    describe("first full sync", report, wall, cpu)
    parent.send("change")
    changed = parent.recv()
    print(f"changed in the CRM: {changed} (and 0.1% deleted)")
    report2, wall2, cpu2 = timed_sync(synced, SalesforceSource(credentials), full=False)
    describe("incremental sync", report2, wall2, cpu2)

    exports = tempfile.mkdtemp(prefix="bench-sync-export-")
    parent.send("export")
    parent.send(exports)
    paths = parent.recv()
    parent.send("stop")
    parent.recv()
    server.join()
    reference = database(args.reference_url, "import")
    ref_wall = import_reference(paths, reference)
    print(f"peak RSS after the reference import too: {peak_rss_mb():.0f} MB")
    print(
        f"reference: import_file of the same records as export CSVs: {ref_wall:.1f} s wall; "
        f"full sync / import = {wall / ref_wall:.2f}x; incremental / full = {wall2 / wall:.3f}x; "
        f"requests incremental / full = {report2.requests / report.requests:.3f}"
    )
    ours, theirs = fingerprint(synced), fingerprint(reference)
    if ours != theirs:
        print(f"MISMATCH: sync {ours} != import {theirs}")
        return 1
    print(f"sync and import agree: {ours}")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
