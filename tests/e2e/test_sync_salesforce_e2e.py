"""`salesops sync salesforce` against the local Salesforce-shaped HTTPS server loaded with the
Salesforce export in ../shared/data: a first sync, changes in the CRM (an opportunity won,
one deleted with its history, a lead merged away, new records), an incremental sync; the
database then holds exactly what `salesops import` of the same records as export CSVs gives,
and the same KPIs. A sync killed half-way and run again loses and duplicates nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import Deal, SyncRun
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.https_server import ca_bundle
from tests.support.import_helpers import SALESFORCE
from tests.support.sync_compare import (
    Cli,
    cli_for,
    differences,
    held_records,
    kpi_differences,
    kpis,
)

CONFIG = '[sync.salesforce]\nTask = { type = "Type__c" }\n'  # the sample's own type field
PERIODS = ("2023", "2024", "2023-Q4", "2024-Q2")
IMPORTS = (  # object, kind, extra options: what a user runs for the same export
    ("User", "reps", ()),
    ("Opportunity", "deals", ()),
    ("OpportunityHistory", "stage_changes", ()),
    ("Lead", "leads", ()),
    ("Task", "activities", ("--map", "type=Type__c")),
)


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    crm = FakeSalesforce(page_size=20).from_export(SALESFORCE).start()
    yield crm
    crm.stop()


def crm_env(fake: FakeSalesforce, database_url: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "SALESOPS_TIMEZONE": "UTC",
        "SALESFORCE_INSTANCE_URL": fake.url,
        "SALESFORCE_CLIENT_ID": fake.client_id,
        "SALESFORCE_CLIENT_SECRET": fake.client_secret,
        "REQUESTS_CA_BUNDLE": str(ca_bundle()),
    }


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "salesops.toml").write_text(CONFIG)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    return tmp_path


def imported_copy(fake: FakeSalesforce, directory: Path) -> tuple[sessionmaker[Session], Cli]:
    """A fresh SQLite database filled by `salesops import` of the fake's records as export
    CSVs, and a CLI on it."""
    directory.mkdir(exist_ok=True)
    url = f"sqlite:///{directory}/imported.db"
    engine = make_engine(url)
    migrate(engine)
    cli = cli_for({"DATABASE_URL": url, "SALESOPS_TIMEZONE": "UTC"})
    for obj, kind, extra in IMPORTS:
        path = fake.export_csv(obj, directory / f"{obj}.csv")
        code, out, error = cli(
            "import", str(path), "--kind", kind, "--format", "salesforce", *extra
        )
        assert code == 0, out + error
    return make_session_factory(engine), cli


def fresh(record: dict[str, object]) -> dict[str, object]:
    """A copy of a record to create a new one from (the fake stamps it now)."""
    return {k: v for k, v in record.items() if k not in ("Id", "SystemModstamp")}


def change_the_org(fake: FakeSalesforce) -> dict[str, str]:
    """What a week in the CRM does: an opportunity won (with its history row), one deleted
    with its history, a lead merged away, a new opportunity and a new task on it."""
    opps = fake.current("Opportunity")
    open_opp = next(o for o in opps if not o.get("IsClosed"))
    doomed = next(o for o in opps if o["Id"] != open_opp["Id"])
    fake.put("Opportunity", {"Id": open_opp["Id"], "StageName": "Closed Won", "IsClosed": True,
                             "IsWon": True, "Probability": 100, "Amount": 250000.0,
                             "CloseDate": "2024-05-15"})  # fmt: skip
    fake.put("OpportunityHistory", {"OpportunityId": open_opp["Id"], "StageName": "Closed Won",
                                    "CreatedDate": "2024-05-15T10:00:00.000+0000",
                                    "Amount": 250000.0, "Probability": 100})  # fmt: skip
    fake.delete("Opportunity", doomed["Id"])
    for row in fake.current("OpportunityHistory"):  # Salesforce deletes the history with it
        if row["OpportunityId"] == doomed["Id"]:
            fake.delete("OpportunityHistory", row["Id"])
    lead, winner = fake.current("Lead")[:2]
    fake.delete("Lead", lead["Id"])  # merged into another lead: the loser is deleted and
    for task in fake.current("Task"):  # its activities move to the winner
        if task["WhoId"] == lead["Id"]:
            fake.put("Task", {"Id": task["Id"], "WhoId": winner["Id"]})
    new_opp = fake.put("Opportunity", {**fresh(open_opp), "Name": "New deal",
                                       "StageName": "Prospecting", "IsClosed": False,
                                       "IsWon": False, "Probability": 10, "Amount": 5000.0,
                                       "CreatedDate": "2024-05-20T09:00:00.000+0000"})  # fmt: skip
    fake.put("OpportunityHistory", {"OpportunityId": new_opp, "StageName": "Prospecting",
                                    "CreatedDate": "2024-05-20T09:00:00.000+0000",
                                    "Amount": 5000.0, "Probability": 10})  # fmt: skip
    task = fake.current("Task")[0]
    fake.put("Task", {**fresh(task), "WhatId": new_opp, "WhoId": None, "Type__c": "Call",
                      "CallDurationInSeconds": 600, "ActivityDate": "2024-05-21"})  # fmt: skip
    return {"won": open_opp["Id"], "deleted": doomed["Id"], "lead": lead["Id"], "new": new_opp}


def test_a_first_and_an_incremental_sync_give_what_an_import_of_the_same_records_gives(
    fake: FakeSalesforce,
    database_url: str,
    sessions: sessionmaker[Session],
    workdir: Path,
) -> None:
    cli = cli_for(crm_env(fake, database_url))
    code, out, error = cli("sync", "salesforce")
    assert code == 0, out + error
    assert "Opportunity: 50 fetched, 50 created" in out
    first_requests = len(fake.requests)
    reference, reference_cli = imported_copy(fake, workdir)
    assert differences(held_records(sessions), held_records(reference)) == {}
    assert kpi_differences(kpis(cli, *PERIODS), kpis(reference_cli, *PERIODS)) == {}

    changed = change_the_org(fake)
    before = len(fake.requests)
    code, out, error = cli("sync", "salesforce", "--format", "json")
    assert code == 0, out + error
    report = json.loads(out)
    assert report["status"] == "ok", json.dumps(report["skipped"])
    opportunity = report["objects"]["Opportunity"]
    assert (opportunity["created"], opportunity["updated"], opportunity["removed"]) == (1, 1, 1)
    assert report["objects"]["Lead"]["removed"] == 1
    assert report["requests"] == len(fake.requests) - before
    # the changed records, and those sharing the cursor's time stamp (the sample's records
    # were loaded in one go: one SystemModstamp), are fetched again; not the whole org
    assert report["requests"] < first_requests

    with sessions() as session:
        held = set(session.scalars(select(Deal.external_id)))
    assert changed["deleted"] not in held and changed["new"] in held
    reference, reference_cli = imported_copy(fake, workdir / "after")
    assert differences(held_records(sessions), held_records(reference)) == {}
    assert kpi_differences(kpis(cli, *PERIODS), kpis(reference_cli, *PERIODS)) == {}
    won = kpis(cli, "2024-Q2")["2024-Q2"]
    assert won["won_amount"] >= 250000.0


def test_a_sync_with_nothing_changed_writes_nothing(
    fake: FakeSalesforce, database_url: str, sessions: sessionmaker[Session], workdir: Path
) -> None:
    cli = cli_for(crm_env(fake, database_url))
    assert cli("sync", "salesforce")[0] == 0
    code, out, _ = cli("sync", "salesforce", "--format", "json")
    report = json.loads(out)
    written = sum(o["created"] + o["updated"] + o["removed"] for o in report["objects"].values())
    assert (code, report["status"], written) == (0, "ok", 0)
    code, out, _ = cli("sync", "--status", "--format", "json")
    status = json.loads(out)
    assert [r["status"] for r in status["runs"]] == ["ok", "ok"]
    assert {c["object"] for c in status["cursors"]} >= {"Opportunity", "Lead", "Task", "User"}


def test_a_sync_killed_half_way_resumes_and_loses_and_duplicates_nothing(
    fake: FakeSalesforce, database_url: str, sessions: sessionmaker[Session], workdir: Path
) -> None:
    fake.page_size = 5
    fake.delay = 0.15
    env = {**os.environ, **crm_env(fake, database_url)}
    process = subprocess.Popen(
        [sys.executable, "-c", "from bot.cli.main import main; main()", "sync", "salesforce"],
        env=env,
        cwd=workdir,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while sum("Opportunity" in path or "/query/" in path for _, path in fake.requests) < 6:
        assert process.poll() is None, "the sync ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.02)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    with sessions() as session:
        partial = len(session.scalars(select(Deal.id)).all())
    assert 0 < partial < 50  # some pages were written, not all

    fake.delay = 0
    cli = cli_for(crm_env(fake, database_url))
    code, out, error = cli("sync", "salesforce")
    assert code == 0, out + error
    reference, _ = imported_copy(fake, workdir)
    assert differences(held_records(sessions), held_records(reference)) == {}
    with sessions() as session:
        statuses = session.scalars(select(SyncRun.status).order_by(SyncRun.id)).all()
    assert statuses == ["interrupted", "ok"]


def test_an_expired_token_without_client_credentials_is_reported_without_the_token(
    fake: FakeSalesforce, database_url: str, sessions: sessionmaker[Session], workdir: Path
) -> None:
    env = crm_env(fake, database_url)
    del env["SALESFORCE_CLIENT_ID"], env["SALESFORCE_CLIENT_SECRET"]
    env["SALESFORCE_ACCESS_TOKEN"] = "00Dstale!secret-token"
    code, out, error = cli_for(env)("sync", "salesforce")
    assert code == 1
    assert "SALESFORCE_CLIENT_ID" in out + error
    assert "secret-token" not in out + error
    code, out, _ = cli_for(env)("doctor")
    assert "FAIL salesforce" in out and "secret-token" not in out
