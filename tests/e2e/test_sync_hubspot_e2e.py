"""`salesops sync hubspot` against the local HubSpot-shaped HTTPS server loaded with a small
portal (owners in teams, two pipelines, deals with stage history, contacts, calls, meetings,
emails and tasks): a first sync, changes in the portal (a deal won, one archived, two contacts
merged, a new meeting), an incremental sync; the database then holds exactly what `salesops
import` of the same records as native CSVs gives, and the same KPIs. A refused token is
reported without the token, and a sync killed half-way and run again loses and duplicates
nothing."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import Activity, Deal, Lead, SyncRun
from tests.support.fake_hubspot import FakeHubSpot, iso
from tests.support.https_server import ca_bundle
from tests.support.sync_compare import (
    Cli,
    cli_for,
    differences,
    held_records,
    kpi_differences,
    kpis,
)

PERIODS = ("2026", "2026-Q2", "2026-Q3", "2026-Q4")
T0 = "2025-06-01T00:00:00.000Z"
CONTACTS, ENGAGEMENTS = 250, 600  # more than a search page (200) of each: paging counts
IMPORTS = ("reps", "deals", "stage_changes", "leads", "activities")  # what a user imports
TEAMS = {"101": "East", "102": "East", "103": "East", "104": "West", "105": "West", "106": "West"}
NAMES = {"101": "Ana Ruiz", "102": "Ben Okafor", "103": "Chloe Park", "104": "Dev Patel",
         "105": "Eva Novak", "106": "Finn Walsh"}  # fmt: skip
PIPELINES = {  # pipeline id -> stages (id, label, probability, closed)
    "default": [
        ("appointmentscheduled", "Appointment Scheduled", "0.2", False),
        ("qualifiedtobuy", "Qualified To Buy", "0.4", False),
        ("presentationscheduled", "Presentation Scheduled", "0.6", False),
        ("contractsent", "Contract Sent", "0.9", False),
        ("closedwon", "Closed Won", "1.0", True),
        ("closedlost", "Closed Lost", "0.0", True),
    ],
    "renewals": [  # a custom pipeline: numeric stage ids, the portal's own labels
        ("88410201", "Renewal Review", "0.3", False),
        ("88410202", "Quote Sent To Customer", "0.7", False),
        ("88410203", "Renewed", "1.0", True),
        ("88410204", "Churned", "0.0", True),
    ],
}


def owner(oid: str) -> dict[str, Any]:
    first, last = NAMES[oid].split()
    team = {"id": "7" if TEAMS[oid] == "East" else "8", "name": TEAMS[oid], "primary": True}
    return {
        "id": oid, "email": f"{first.lower()}@acme.example", "firstName": first,
        "lastName": last, "type": "PERSON", "userId": 9000 + int(oid), "createdAt": T0,
        "updatedAt": T0, "archived": oid == "106",
        "teams": [team, {"id": "9", "name": "All hands", "primary": False}],
    }  # fmt: skip


def pipeline(pid: str, stages: list[tuple[str, str, str, bool]]) -> dict[str, Any]:
    return {
        "id": pid, "label": "Sales Pipeline" if pid == "default" else "Renewals",
        "displayOrder": 0 if pid == "default" else 1, "archived": False,
        "createdAt": T0, "updatedAt": T0,
        "stages": [
            {"id": sid, "label": label, "displayOrder": n, "archived": False,
             "createdAt": T0, "updatedAt": T0, "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
             "metadata": {"isClosed": str(closed).lower(), "probability": probability}}
            for n, (sid, label, probability, closed) in enumerate(stages)
        ],
    }  # fmt: skip


def a_deal(n: int, rng: random.Random) -> dict[str, Any]:
    """Deal n: created in 2026, walked through some stages of its pipeline; closed (won or
    lost at its last stage change) or still open with a close date ahead."""
    pid = "renewals" if n % 4 == 0 else "default"
    stages = PIPELINES[pid]
    open_stages, won, lost = stages[:-2], stages[-2], stages[-1]
    created = datetime(2026, 1, 5, 9, 30, tzinfo=UTC) + timedelta(days=7 * n, minutes=n * 37)
    history, at = [], created
    for stage_id, *_ in open_stages[: rng.randint(1, len(open_stages))]:
        history.append((stage_id, iso(at)))
        at += timedelta(days=rng.randint(3, 20), hours=rng.randint(0, 8))
    closed = n <= 28 and at < datetime(2026, 11, 1, tzinfo=UTC)
    if closed:
        history.append(((won if rng.random() < 0.55 else lost)[0], iso(at)))
    stage = history[-1][0]
    is_won = stage == won[0]
    props = {
        "dealname": f"Acme {'renewal' if pid == 'renewals' else 'new business'} #{n}",
        "hubspot_owner_id": f"10{rng.randint(1, 5)}",
        "amount": f"{rng.randint(20, 900) * 250 + (50.5 if n % 5 == 0 else 0)}",
        "deal_currency_code": "USD", "dealstage": stage, "pipeline": pid,
        "createdate": iso(created),
        "closedate": history[-1][1] if closed else f"2026-12-{10 + n % 18}T00:00:00.000Z",
        "hs_is_closed": str(closed).lower(), "hs_is_closed_won": str(is_won).lower(),
        "hs_forecast_category": "CLOSED" if closed else rng.choice(["PIPELINE", "COMMIT"]),
    }  # fmt: skip
    return {"id": str(3_000_000 + n), "properties": props, "history": history}


def a_contact(n: int, rng: random.Random) -> dict[str, Any]:
    created = datetime(2026, 2, 1, 8, tzinfo=UTC) + timedelta(hours=26 * n, minutes=n % 47)
    props = {
        "hubspot_owner_id": f"10{rng.randint(1, 5)}", "company": f"Prospect {n} Ltd",
        "hs_analytics_source": rng.choice(["ORGANIC_SEARCH", "PAID_SEARCH", "REFERRALS"]),
        "createdate": iso(created),
        "firstname": f"Lead{n}", "email": f"lead{n}@prospect{n}.example",
    }  # fmt: skip
    if n % 6:  # every sixth contact still waits for a first engagement
        props["hs_sa_first_engagement_date"] = iso(created + timedelta(minutes=rng.randint(2, 900)))
    return {"id": str(5_100 + n), "properties": props}


def engagements(rng: random.Random, deals: list[str], contacts: list[str]) -> Iterator[Any]:
    """Calls, meetings, emails and tasks in 2026, associated to deals and contacts."""
    for n in range(ENGAGEMENTS):
        obj = ("calls", "calls", "meetings", "emails", "tasks")[n % 5]
        at = datetime(2026, 1, 5, 14, tzinfo=UTC) + timedelta(hours=11 * n, minutes=n % 53)
        props = {"hubspot_owner_id": f"10{rng.randint(1, 5)}"}
        if obj == "meetings":
            props["hs_meeting_start_time"] = iso(at)
            props["hs_meeting_end_time"] = iso(at + timedelta(minutes=rng.choice([30, 45, 60])))
            props["hs_timestamp"] = iso(at)
        else:
            props["hs_timestamp"] = iso(at)
        if obj == "calls":
            props["hs_call_duration"] = str(rng.randint(30, 1800) * 1000)
        links = {"deals": [rng.choice(deals)]} if n % 3 else {}
        if n % 2:
            links["contacts"] = [rng.choice(contacts)]
        yield obj, {"id": str(70_000 + n), "properties": props, "associations": links}


def load_portal(fake: FakeHubSpot, deals: int = 40) -> FakeHubSpot:
    rng = random.Random(13)
    fake.owners = [owner(oid) for oid in TEAMS]
    fake.pipelines = [pipeline(pid, stages) for pid, stages in PIPELINES.items()]
    for n in range(1, deals + 1):
        fake.put("deals", a_deal(n, rng))
    for n in range(1, CONTACTS + 1):
        fake.put("contacts", a_contact(n, rng))
    for obj, record in engagements(rng, list(fake.stores["deals"].records), contacts(fake)):
        fake.put(obj, record)
    return fake


def contacts(fake: FakeHubSpot) -> list[str]:
    return list(fake.stores["contacts"].records)


@pytest.fixture
def fake() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as crm:
        yield load_portal(crm)


def crm_env(fake: FakeHubSpot, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SALESOPS_TIMEZONE": "UTC",
        "HUBSPOT_ACCESS_TOKEN": fake.token,
        "HUBSPOT_API_URL": fake.url,
        "SSL_CERT_FILE": str(ca_bundle()),
    }


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    return tmp_path


def imported_copy(fake: FakeHubSpot, directory: Path) -> tuple[sessionmaker[Session], Cli]:
    """A fresh SQLite database filled by `salesops import` of the fake's live records as
    native CSVs (deals with a stage map of the pipelines), and a CLI on it."""
    directory.mkdir(exist_ok=True)
    url = f"sqlite:///{directory}/imported.db"
    engine = make_engine(url)
    migrate(engine)
    cli = cli_for({"DATABASE_URL": url, "SALESOPS_TIMEZONE": "UTC"})
    stage_map = fake.native_csv("stage_map", directory / "stages.csv")
    for kind in IMPORTS:
        path = fake.native_csv(kind, directory / f"{kind}.csv")
        extra = ("--stage-map", str(stage_map)) if kind == "deals" else ()
        code, out, error = cli("import", str(path), "--kind", kind, *extra)
        assert code == 0, out + error
    return make_session_factory(engine), cli


def change_the_portal(fake: FakeHubSpot) -> dict[str, str]:
    """What a week in HubSpot does: an open deal won (its stage history grows), another
    archived, a contact merged into another (its engagements move to the winner), and a new
    meeting on the won deal."""
    deals = fake.stores["deals"].records
    won, doomed = [d for d in deals.values() if d["properties"]["hs_is_closed"] == "false"][:2]
    closed_at = "2026-11-20T15:04:05.120Z"
    stage = "closedwon" if won["properties"]["pipeline"] == "default" else "88410203"
    winning = {"dealstage": stage, "hs_is_closed": "true", "hs_is_closed_won": "true",
               "closedate": closed_at, "hs_forecast_category": "CLOSED",
               "amount": "250000"}  # fmt: skip
    history = [*won["history"], (stage, closed_at)]
    fake.put("deals", {**won, "properties": {**won["properties"], **winning}, "history": history})
    fake.archive("deals", doomed["id"])
    moved = [
        (obj, e)
        for obj in ("calls", "meetings", "emails", "tasks")
        for e in fake.stores[obj].records.values()
        if e["associations"].get("contacts")
    ]
    loser = moved[0][1]["associations"]["contacts"][0]
    winner = next(c for c in contacts(fake) if c != loser)
    fake.merge("contacts", winner, loser)
    for obj, e in moved:
        if e["associations"]["contacts"] == [loser]:
            fake.put(obj, {**e, "associations": {**e["associations"], "contacts": [winner]}})
    start = datetime(2026, 11, 24, 16, tzinfo=UTC)
    fake.put("meetings", {"id": "79001", "associations": {"deals": [won["id"]],
             "contacts": [winner]}, "properties": {"hubspot_owner_id": won["properties"][
             "hubspot_owner_id"], "hs_timestamp": iso(start), "hs_meeting_start_time": iso(start),
             "hs_meeting_end_time": iso(start + timedelta(minutes=50))}})  # fmt: skip
    return {"won": won["id"], "archived": doomed["id"], "loser": loser, "winner": winner}


def test_a_first_and_an_incremental_sync_give_what_an_import_of_the_same_records_gives(
    fake: FakeHubSpot, database_url: str, sessions: sessionmaker[Session], workdir: Path
) -> None:
    cli = cli_for(crm_env(fake, database_url))
    code, out, error = cli("sync", "hubspot")
    assert code == 0, out + error
    with sessions() as session:
        assert len(session.scalars(select(Deal.id)).all()) == 40
    first_requests = len(fake.requests)
    reference, reference_cli = imported_copy(fake, workdir)
    assert differences(held_records(sessions), held_records(reference)) == {}
    assert kpi_differences(kpis(cli, *PERIODS), kpis(reference_cli, *PERIODS)) == {}

    changed = change_the_portal(fake)
    before = len(fake.requests)
    code, out, error = cli("sync", "hubspot", "--format", "json")
    assert code == 0, out + error
    report = json.loads(out)
    assert report["status"] == "ok", json.dumps(report["skipped"])
    objects = report["objects"]
    deals = objects["deals"]
    assert (deals["created"], deals["updated"], deals["removed"]) == (0, 1, 1)
    assert (objects["contacts"]["removed"], objects["meetings"]["created"]) == (1, 1)
    assert report["requests"] == len(fake.requests) - before < first_requests

    with sessions() as session:
        held_deals = set(session.scalars(select(Deal.external_id)))
        held_leads = set(session.scalars(select(Lead.external_id)))
        linked = session.scalars(
            select(Lead.external_id).join(Activity, Activity.lead_id == Lead.id)
        ).all()
    assert changed["archived"] not in held_deals and changed["won"] in held_deals
    assert changed["loser"] not in held_leads and changed["winner"] in linked
    reference, reference_cli = imported_copy(fake, workdir / "after")
    assert differences(held_records(sessions), held_records(reference)) == {}
    assert kpi_differences(kpis(cli, *PERIODS), kpis(reference_cli, *PERIODS)) == {}
    assert kpis(cli, "2026-Q4")["2026-Q4"]["won_amount"] >= 250000.0


def test_a_refused_token_without_refresh_credentials_is_reported_without_the_token(
    fake: FakeHubSpot, database_url: str, sessions: sessionmaker[Session], workdir: Path
) -> None:
    env = {**crm_env(fake, database_url), "HUBSPOT_ACCESS_TOKEN": "pat-na1-stale-secret-value"}
    code, out, error = cli_for(env)("sync", "hubspot")
    assert code == 1
    assert "HUBSPOT_ACCESS_TOKEN" in out + error
    assert "stale-secret-value" not in out + error
    code, out, error = cli_for(env)("doctor")
    assert "FAIL hubspot" in out
    assert "stale-secret-value" not in out + error
    with sessions() as session:
        assert session.scalars(select(SyncRun.status)).all() == ["failed"]
        assert session.scalars(select(Deal.id)).all() == []


def test_a_sync_killed_half_way_resumes_and_loses_and_duplicates_nothing(
    database_url: str, sessions: sessionmaker[Session], workdir: Path
) -> None:
    with FakeHubSpot() as fake:
        load_portal(fake, deals=700)  # four search pages of deals
        fake.delay = 0.1
        env = {**os.environ, **crm_env(fake, database_url)}
        process = subprocess.Popen(
            [sys.executable, "-c", "from bot.cli.main import main; main()", "sync", "hubspot"],
            env=env,
            cwd=workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while sum(path.endswith("deals/search") for _, path in fake.requests) < 2:
            assert process.poll() is None, "the sync ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        with sessions() as session:
            partial = len(session.scalars(select(Deal.id)).all())
        assert 0 < partial < 700  # some pages were written, not all

        fake.delay = 0
        code, out, error = cli_for(crm_env(fake, database_url))("sync", "hubspot")
        assert code == 0, out + error
        reference, _ = imported_copy(fake, workdir)
        assert differences(held_records(sessions), held_records(reference)) == {}
        with sessions() as session:
            statuses = session.scalars(select(SyncRun.status).order_by(SyncRun.id)).all()
        assert statuses == ["interrupted", "ok"]
