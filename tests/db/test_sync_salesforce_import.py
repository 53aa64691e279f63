"""A Salesforce sync batch imports exactly as the same records' Data Export CSV does."""

from __future__ import annotations

import csv
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.models import Activity, Deal, Lead, Rep, Team
from salesops_core.importers.csvfile import CsvTable
from salesops_core.importers.loader import import_table
from salesops_core.importers.options import ImportOptions
from salesops_core.importers.report import ImportResult
from salesops_core.sync.salesforce import SalesforceCredentials, SalesforceSource
from salesops_core.sync.source import Batch
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.https_server import ca_bundle
from tests.support.import_helpers import FIXTURES, SALESFORCE, load_reps, run_import

FIELDS = {"Opportunity": {"product": "Product__c"}, "Task": {"type": "Type__c"}}
DEAL = (Deal.external_id, Deal.name, Deal.owner_id, Deal.amount, Deal.stage, Deal.probability,
        Deal.created_at, Deal.expected_close, Deal.closed_at, Deal.outcome,
        Deal.forecast_category, Deal.product)  # fmt: skip
LEAD = (Lead.external_id, Lead.owner_id, Lead.source, Lead.company, Lead.created_at,
        Lead.first_response_at)  # fmt: skip
ACTIVITY = (Activity.external_id, Activity.rep_id, Activity.type, Activity.started_at,
            Activity.minutes, Activity.deal_id, Activity.lead_id,
            Activity.external_attendee)  # fmt: skip


def snapshot(sessions: sessionmaker[Session]) -> dict[str, set[tuple]]:
    with sessions() as session:
        return {
            name: {tuple(row) for row in session.execute(select(*columns))}
            for name, columns in (("deals", DEAL), ("leads", LEAD), ("activities", ACTIVITY))
        }


def import_batch(sessions: sessionmaker[Session], batch: Batch) -> ImportResult:
    """What the sync runner does with one batch."""
    options = ImportOptions(
        kind=batch.kind,
        format=batch.format,
        column_map={**batch.column_map, **FIELDS.get(batch.object, {})},
        skip_invalid=True,
        history_from_source=True,
        tz=ZoneInfo("UTC"),
    )
    records = [(line, cells) for line, (_, cells) in enumerate(batch.rows, start=2)]
    with sessions.begin() as session:
        return import_table(session, CsvTable(batch.object, batch.header, records, False), options)


def test_synced_batches_change_nothing_after_the_same_export_was_imported(
    sessions: sessionmaker[Session],
) -> None:
    load_reps(sessions)
    owners = FIXTURES / "sf_owners.csv"
    for obj, kind in (("Opportunity", "deals"), ("Lead", "leads"), ("Task", "activities")):
        run_import(sessions, SALESFORCE / f"{obj}.csv", kind, format="salesforce",
                   owners_file=owners)  # fmt: skip
    imported = snapshot(sessions)
    fake = FakeSalesforce(page_size=30).from_export(SALESFORCE).start()
    try:
        sf = SalesforceSource(
            SalesforceCredentials(fake.url, fake.token, ca_bundle=str(ca_bundle())), FIELDS
        )
        results = {
            obj: [import_batch(sessions, b) for b in sf.pull(obj, None)] for obj in ("Lead", "Task")
        }
        deals = [import_batch(sessions, b) for b in sf.pull("Opportunity", None)]
    finally:
        fake.stop()
    for obj, expected in (("Lead", 60), ("Task", 75)):
        assert [(r.created, r.updated) for r in results[obj]] == [(0, 0), (0, 0), (0, 0)][
            : len(results[obj])
        ]
        assert sum(r.unchanged for r in results[obj]) == expected
    assert sum(r.created for r in deals) == 0
    synced = snapshot(sessions)
    assert (synced["leads"], synced["activities"]) == (imported["leads"], imported["activities"])
    assert synced["deals"] == imported["deals"]
    with sessions() as session:
        accounts = dict(session.execute(select(Deal.external_id, Deal.account)).all())
    with (SALESFORCE / "Account.csv").open(encoding="utf-8-sig", newline="") as f:
        names = {row["Id"]: row["Name"] for row in csv.DictReader(f)}
    with (SALESFORCE / "Opportunity.csv").open(encoding="utf-8-sig", newline="") as f:
        expected_accounts = {r["Id"]: names[r["AccountId"]] for r in csv.DictReader(f)}
    assert accounts == expected_accounts  # the API names the account; the export had its id


def pulled(fake: FakeSalesforce, obj: str) -> list[Batch]:
    sf = SalesforceSource(SalesforceCredentials(fake.url, fake.token, ca_bundle=str(ca_bundle())))
    return list(sf.pull(obj, None))


def test_synced_users_take_their_team_from_the_role_and_a_queue_owned_lead_has_no_owner(
    sessions: sessionmaker[Session],
) -> None:
    fake = FakeSalesforce().start()
    try:
        boss = fake.put("User", {"Name": "Grace Boss", "Email": "grace@acme.example",
                                 "UserType": "Standard", "IsActive": True,
                                 "UserRole.Name": "NA East", "Department": "Sales"})  # fmt: skip
        fake.put("User", {"Name": "Ada Rep", "Email": "ada@acme.example", "ManagerId": boss,
                          "UserType": "Standard", "IsActive": True, "UserRole.Name": "NA East",
                          "Department": "Sales"})  # fmt: skip
        queued = fake.put("Lead", {"OwnerId": "00GEc000001QueueAA", "Company": "Q",
                                   "LeadSource": "Web",
                                   "CreatedDate": "2024-02-01T09:00:00.000+0000"})  # fmt: skip
        owned = fake.put("Lead", {"OwnerId": boss, "Company": "R", "LeadSource": "Web",
                                  "CreatedDate": "2024-02-01T10:00:00.000+0000"})  # fmt: skip
        (users,) = pulled(fake, "User")
        (leads,) = pulled(fake, "Lead")
    finally:
        fake.stop()
    import_batch(sessions, users)
    result = import_batch(sessions, leads)
    assert (result.created, result.rejected) == (2, [])
    with sessions() as session:
        reps = {r.email: r for r in session.scalars(select(Rep))}
        owners = dict(session.execute(select(Lead.external_id, Lead.owner_id)).all())
        teams = {t.id: t.name for t in session.scalars(select(Team))}
    assert teams[reps["ada@acme.example"].team_id] == "NA East"
    assert reps["ada@acme.example"].manager_id == reps["grace@acme.example"].id
    assert owners == {queued: None, owned: reps["grace@acme.example"].id}
