"""The Salesforce source against a Salesforce-shaped server over real HTTPS."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator

import pytest

from salesops_core.db.models import Outcome
from salesops_core.sync.salesforce import SalesforceCredentials, SalesforceSource
from salesops_core.sync.source import SyncError
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.https_server import ca_bundle
from tests.support.import_helpers import SALESFORCE

OPP_COLUMNS = ("Id", "Name", "AccountId", "OwnerId", "Amount", "StageName", "Probability",
               "CreatedDate", "CloseDate", "IsClosed", "IsWon", "ForecastCategoryName")  # fmt: skip


@pytest.fixture
def fake() -> Iterator[FakeSalesforce]:
    server = FakeSalesforce(page_size=20).from_export(SALESFORCE).start()
    yield server
    server.stop()


def source(
    fake: FakeSalesforce, sleeps: list[float] | None = None, **creds: str
) -> SalesforceSource:
    creds.setdefault("access_token", fake.token)
    recorded = sleeps if sleeps is not None else []
    return SalesforceSource(
        SalesforceCredentials(fake.url, ca_bundle=str(ca_bundle()), **creds),
        sleep=recorded.append,
    )


def export_rows(name: str) -> dict[str, dict[str, str]]:
    with (SALESFORCE / f"{name}.csv").open(encoding="utf-8-sig", newline="") as f:
        return {row["Id"]: row for row in csv.DictReader(f)}


def test_check_names_the_org_url_and_api_version(fake: FakeSalesforce) -> None:
    line = source(fake).check()
    assert line == f"Salesforce org Acme Corp (00DEc0000000001EAA) at {fake.url}, API v62.0"


def test_opportunities_page_by_page_with_cells_exactly_as_the_export_writes_them(
    fake: FakeSalesforce,
) -> None:
    batches = list(source(fake).pull("Opportunity", None))
    assert [len(b.rows) for b in batches] == [20, 20, 10]
    assert {(b.kind, b.format) for b in batches} == {("deals", "salesforce")}
    exported = export_rows("Opportunity")
    for batch in batches:
        for rid, cells in batch.rows:
            row = dict(zip(batch.header, cells, strict=True))
            assert {c: row[c] for c in OPP_COLUMNS} == {c: exported[rid][c] for c in OPP_COLUMNS}
    assert batches[-1].position == "2024-01-22T16:26:29.000Z"


def test_the_first_opportunity_batch_carries_the_orgs_stages(fake: FakeSalesforce) -> None:
    first, *rest = source(fake).pull("Opportunity", None)
    stages = {s.name: (s.order, s.probability, s.outcome) for s in first.stages}
    assert stages["Negotiation/Review"] == (3, 0.9, Outcome.OPEN)
    assert stages["Closed Won"] == (4, 1.0, Outcome.WON)
    assert stages["Closed Lost"] == (5, 0.0, Outcome.LOST)
    assert all(b.stages == () for b in rest)


def test_an_incremental_pull_fetches_only_what_changed(fake: FakeSalesforce) -> None:
    first = source(fake)
    position = list(first.pull("Opportunity", None))[-1].position
    rid = fake.put("Opportunity", {"Id": "006Ec00000AieKFIAZ", "StageName": "Closed Won"})
    again = source(fake)
    batches = list(again.pull("Opportunity", position))
    changed = {r for b in batches for r, _ in b.rows}
    last_instant = {r for r, o in export_rows("Opportunity").items()
                    if o["SystemModstamp"] == "2024-01-22T16:26:29.000+0000"}  # fmt: skip
    assert changed == {rid} | last_instant  # >= position: records of that instant repeat
    assert again.requests == 2  # the stages and one page


def test_users_come_in_one_batch_with_the_role_name(fake: FakeSalesforce) -> None:
    for n in range(45):
        fake.put("User", {"Name": f"U{n}", "Email": f"u{n}@acme.example", "UserType": "Standard",
                          "IsActive": n % 2 == 0, "UserRole.Name": "NA East"})  # fmt: skip
    fake.put("User", {"Name": "Integration", "UserType": "AutomatedProcess"})
    (batch,) = source(fake).pull("User", None)
    assert (batch.kind, len(batch.rows)) == ("reps", 46)
    row = dict(zip(batch.header, batch.rows[1][1], strict=True))
    assert (row["UserRole.Name"], row["IsActive"], row["ManagerId"]) == ("NA East", "1", "")


def test_a_deleted_record_shows_in_removed_only(fake: FakeSalesforce) -> None:
    fake.delete("Lead", "00QEc00000BBaeXMAT")
    sf = source(fake)
    (removed,) = sf.removed("Lead", "2024-01-01T00:00:00Z")
    assert (removed.kind, removed.ids) == ("leads", ["00QEc00000BBaeXMAT"])
    assert all(r != "00QEc00000BBaeXMAT" for b in sf.pull("Lead", None) for r, _ in b.rows)
    # at the position again (>=: a deletion in the same millisecond is not missed); after it,
    # nothing
    (again,) = sf.removed("Lead", removed.position)
    assert again.ids == ["00QEc00000BBaeXMAT"]
    assert list(sf.removed("Lead", "2025-01-01T00:03:58.000Z")) == []


def test_lead_first_response_from_the_first_completed_task(fake: FakeSalesforce) -> None:
    lead = "00QEc00000BBaeXMAT"
    for when, status in (("2024-01-23T10:00:00.000+0000", "Completed"),
                         ("2024-01-22T21:00:00.000+0000", "Completed"),
                         ("2024-01-22T20:40:00.000+0000", "Not Started")):  # fmt: skip
        fake.put("Task", {"WhoId": lead, "Status": status, "CompletedDateTime": when})
    rows = {r: dict(zip(b.header, c, strict=True)) for b in source(fake).pull("Lead", None)
            for r, c in b.rows}  # fmt: skip
    assert rows[lead]["first_response_at"] == "2024-01-22T21:00:00.000+0000"
    assert rows["00QEc00000BBaeYMAT"]["first_response_at"] == ""


def test_a_field_map_adds_its_column_and_replaces_the_first_response_subquery(
    fake: FakeSalesforce,
) -> None:
    fake.put(
        "Lead", {"Id": "00QEc00000BBaeXMAT", "First_Response__c": "2024-01-22T21:00:00.000+0000"}
    )
    sf = SalesforceSource(
        SalesforceCredentials(fake.url, fake.token, ca_bundle=str(ca_bundle())),
        {
            "Lead": {"first_response_at": "First_Response__c"},
            "Opportunity": {"product": "Product__c"},
        },
    )
    lead = next(sf.pull("Lead", None))
    assert lead.header[-1] == "First_Response__c" and "first_response_at" not in lead.header
    assert not any("Tasks" in q for _, q in fake.requests)
    opp = next(sf.pull("Opportunity", None))
    products = {dict(zip(opp.header, c, strict=True))["Product__c"] for _, c in opp.rows}
    assert "Merchant Services" in products


def test_queue_owned_lead_keeps_its_queue_id_for_the_import_to_blank(fake: FakeSalesforce) -> None:
    rid = fake.put("Lead", {"OwnerId": "00GEc000001QueueAA", "Company": "Q", "LeadSource": "Web",
                            "CreatedDate": "2024-02-01T09:00:00.000+0000"})  # fmt: skip
    batches = list(source(fake).pull("Lead", None))
    rows = {r: dict(zip(b.header, c, strict=True)) for b in batches for r, c in b.rows}
    assert rows[rid]["OwnerId"] == "00GEc000001QueueAA"


def test_an_org_without_forecasting_quota_yields_nothing(fake: FakeSalesforce) -> None:
    assert list(source(fake).pull("ForecastingQuota", None)) == []


def test_quotas_come_as_native_rows_with_the_period_end(fake: FakeSalesforce) -> None:
    quota = {"QuotaOwnerId": "005Ec000004oBPNIA2", "StartDate": "2024-01-01",
             "Period.EndDate": "2024-03-31", "QuotaAmount": 250000.0}  # fmt: skip
    fake.put("ForecastingQuota", quota)
    (batch,) = source(fake).pull("ForecastingQuota", None)
    assert (batch.kind, batch.format, batch.header) == (
        "quotas", "native", ["owner", "period_start", "period_end", "amount"])  # fmt: skip
    assert batch.rows[0][1] == ["005Ec000004oBPNIA2", "2024-01-01", "2024-03-31", "250000"]


def test_event_attendee_from_an_outside_invitee_or_a_whoid(fake: FakeSalesforce) -> None:
    base = {"OwnerId": "005Ec000004oBPNIA2", "EventSubtype": "Event",
            "StartDateTime": "2024-02-01T15:00:00.000+0000", "DurationInMinutes": 30.0}  # fmt: skip
    inside = fake.put("Event", dict(base))
    outside = fake.put("Event", dict(base))
    with_who = fake.put("Event", {**base, "WhoId": "003Ec00000Cz310IAB"})
    fake.put("EventRelation", {"EventId": inside, "Relation.Email": "rep1@acme.example"})
    fake.put("EventRelation", {"EventId": outside, "Relation.Email": "cfo@customer.example"})
    (batch,) = source(fake).pull("Event", None)
    assert batch.column_map == {"external_attendee": "external_attendee"}
    rows = {r: dict(zip(batch.header, c, strict=True)) for r, c in batch.rows}
    assert {r: rows[r]["external_attendee"] for r in rows} == {
        inside: "",
        outside: "1",
        with_who: "1",
    }
    assert rows[inside]["Type"] == "Event" and rows[inside]["DurationInMinutes"] == "30"


def test_expired_token_is_refreshed_with_client_credentials_and_the_pull_goes_on(
    fake: FakeSalesforce,
) -> None:
    sf = source(fake, client_id=fake.client_id, client_secret=fake.client_secret)
    pages = sf.pull("Opportunity", None)
    first = next(pages)
    fake.expire_token()
    rest = list(pages)
    assert len(first.rows) + sum(len(b.rows) for b in rest) == 50
    token_posts = [p for m, p in fake.requests if p == "/services/oauth2/token"]
    assert len(token_posts) == 1


def test_expired_token_without_client_credentials_names_the_variables_not_the_token(
    fake: FakeSalesforce,
) -> None:
    token = fake.token
    fake.expire_token()
    with pytest.raises(SyncError) as failed:
        list(source(fake, access_token=token).pull("Lead", None))
    assert "SALESFORCE_ACCESS_TOKEN" in str(failed.value)
    assert "SALESFORCE_CLIENT_ID" in str(failed.value)
    assert token not in str(failed.value)


def test_429_waits_as_retry_after_says(fake: FakeSalesforce) -> None:
    fake.fail("/query", 429, times=2, headers={"Retry-After": "7"})
    sleeps: list[float] = []
    sf = source(fake, sleeps)
    assert sum(len(b.rows) for b in sf.pull("Lead", None)) == 60
    assert sleeps == [7.0, 7.0]


def test_503_backs_off_exponentially_then_succeeds(fake: FakeSalesforce) -> None:
    fake.fail("/query", 503, times=3, body=[{"message": "down", "errorCode": "SERVER_UNAVAILABLE"}])
    sleeps: list[float] = []
    sf = source(fake, sleeps)
    assert len(list(sf.pull("OpportunityHistory", None))) == 3
    assert sleeps == [1.0, 2.0, 4.0]
    assert sf.requests == 3 + 3


def test_request_limit_exceeded_gives_up_with_a_resume_message(fake: FakeSalesforce) -> None:
    body = [{"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}]
    fake.fail("/query", 403, times=99, body=body)
    sleeps: list[float] = []
    with pytest.raises(SyncError, match=r"daily API request limit.*resumes where this one stopped"):
        list(source(fake, sleeps).pull("Task", None))
    assert len(sleeps) == 5


def test_a_pull_resumed_from_a_batch_position_repeats_only_that_instant(
    fake: FakeSalesforce,
) -> None:
    for n in range(50):
        fake.put("Task", {"OwnerId": "005Ec000004oBPNIA2", "TaskSubtype": "Call", "Subject": n})
    sf = source(fake)
    batches = list(sf.pull("Task", None))  # 75 export tasks (one SystemModstamp) + 50 new
    position = batches[4].position
    assert position is not None
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", position)
    resumed = [r for b in sf.pull("Task", position) for r, _ in b.rows]
    assert resumed == [r for b in batches[4:] for r, _ in b.rows][19:]


def test_an_unreachable_org_is_a_sync_error_after_retries() -> None:
    fake = FakeSalesforce().start()
    fake.stop()  # nothing listens on its port any more
    sleeps: list[float] = []
    with pytest.raises(SyncError, match="cannot reach Salesforce"):
        source(fake, sleeps).check()
    assert sleeps == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_a_task_completed_later_brings_its_lead_back_with_the_first_response(
    fake: FakeSalesforce,
) -> None:
    sf = source(fake)
    position = [b.position for b in sf.pull("Task", None)][-1]
    lead = "00QEc00000BBaeYMAT"
    fake.put("Task", {"WhoId": lead, "Status": "Completed",
                      "CompletedDateTime": "2024-02-01T09:00:00.000+0000"})  # fmt: skip
    batches = list(sf.pull("Task", position))
    leads = [b for b in batches if b.object == "Lead"]
    assert [(b.position, [r for r, _ in b.rows]) for b in leads] == [(None, [lead])]
    cells = dict(zip(leads[0].header, leads[0].rows[0][1], strict=True))
    assert cells["first_response_at"] == "2024-02-01T09:00:00.000+0000"


def test_refetch_reads_records_by_id_and_moves_no_cursor(fake: FakeSalesforce) -> None:
    wanted = ["006Ec00000AieKFIAZ", "006Ec00000AieKGIAZ", "006NOTTHERE000AAA"]
    batches = list(source(fake).refetch("Opportunity", wanted))
    assert sorted(r for b in batches for r, _ in b.rows) == wanted[:2]
    assert all(b.position is None for b in batches)
