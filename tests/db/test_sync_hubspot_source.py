"""The HubSpot source against the local HubSpot-shaped HTTPS server: native batches with
exact cells, paging, incremental pulls, removals and merges, token refresh, retries and the
search API's 10,000-result cap; and its batches import like a native CSV of the same records."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.models import Activity, Deal, DealStageChange, Outcome
from salesops_core.importers.csvfile import CsvTable, read_csv
from salesops_core.importers.loader import import_table
from salesops_core.importers.options import ImportOptions
from salesops_core.importers.stagemap import build_stage_map, save_stages
from salesops_core.sync import hubspot as source_module
from salesops_core.sync.hubspot import HubspotCredentials, HubspotSource
from salesops_core.sync.source import Batch, SyncError
from tests.support import fake_hubspot
from tests.support.fake_hubspot import FakeHubSpot
from tests.support.https_server import ca_bundle

T0 = "2024-01-01T00:00:00.000Z"


def owner(oid: str, first: str, last: str, email: str, archived: bool = False) -> dict[str, Any]:
    teams = [
        {"id": "7", "name": "East", "primary": True},
        {"id": "8", "name": "X", "primary": False},
    ]
    return {
        "id": oid, "email": email, "firstName": first, "lastName": last, "type": "PERSON",
        "userId": int(oid), "createdAt": T0, "updatedAt": T0, "archived": archived, "teams": teams,
    }  # fmt: skip


def stage(sid: str, label: str, order: int, probability: str, closed: bool) -> dict[str, Any]:
    return {
        "id": sid, "label": label, "displayOrder": order, "archived": False, "createdAt": T0,
        "updatedAt": T0, "writePermissions": "CRM_PERMISSIONS_ENFORCEMENT",
        "metadata": {"isClosed": "true" if closed else "false", "probability": probability},
    }  # fmt: skip


PIPELINE = {
    "id": "default", "label": "Sales Pipeline", "displayOrder": 0, "archived": False,
    "createdAt": T0, "updatedAt": T0,
    "stages": [
        stage("appointmentscheduled", "Appointment Scheduled", 0, "0.2", False),
        stage("closedwon", "Closed Won", 1, "1.0", True),
        stage("closedlost", "Closed Lost", 2, "0.0", True),
    ],
}  # fmt: skip


def deal(n: int, **props: str) -> dict[str, Any]:
    return {
        "id": str(n),
        "properties": {
            "dealname": f"Deal {n}", "hubspot_owner_id": "101", "amount": "1250.5",
            "deal_currency_code": "USD", "dealstage": "appointmentscheduled",
            "createdate": "2026-10-01T09:30:00.000Z", "closedate": "2026-12-15T00:00:00.000Z",
            "hs_is_closed": "false", "hs_is_closed_won": "false",
            "hs_forecast_category": "PIPELINE", **props,
        },
        "history": [("appointmentscheduled", "2026-10-01T09:30:00.000Z")],
    }  # fmt: skip


@pytest.fixture
def portal() -> Iterator[FakeHubSpot]:
    with FakeHubSpot() as fake:
        fake.owners = [owner("101", "Ann", "Lee", "ann@example.com")]
        fake.owners.append(owner("102", "Bob", "Gone", "bob@example.com", archived=True))
        fake.pipelines = [PIPELINE]
        yield fake


def connect(fake: FakeHubSpot, sleeps: list[float] | None = None, **kwargs: Any) -> HubspotSource:
    fields = kwargs.pop("fields", None)
    credentials = HubspotCredentials(
        access_token=kwargs.pop("token", fake.token),
        api_url=fake.url,
        ca_bundle=str(ca_bundle()),
        **kwargs,
    )
    recorded = sleeps if sleeps is not None else []
    return HubspotSource(credentials, fields, sleep=recorded.append)


def test_owners_come_as_one_batch_of_reps_with_team_and_activity(portal: FakeHubSpot) -> None:
    (batch,) = connect(portal).pull("owners", None)
    assert (batch.kind, batch.format, batch.header) == (
        "reps",
        "native",
        ["name", "email", "team", "crm_user_id", "active"],
    )
    assert batch.rows == [
        ("101", ["Ann Lee", "ann@example.com", "East", "101", "true"]),
        ("102", ["Bob Gone", "bob@example.com", "East", "102", "false"]),
    ]


def test_deals_pages_carry_exact_cells_stages_and_stage_history(portal: FakeHubSpot) -> None:
    for n in range(1, 451):
        portal.put("deals", deal(n))
    batches = list(connect(portal).pull("deals", None))
    assert [(b.kind, len(b.rows)) for b in batches] == [
        ("deals", 200), ("stage_changes", 200), ("deals", 200), ("stage_changes", 200),
        ("deals", 50), ("stage_changes", 50),
    ]  # fmt: skip
    first = batches[0]
    assert first.rows[0] == (
        "1",
        ["1", "Deal 1", "101", "1250.5", "USD", "2026-10-01T09:30:00.000Z",
         "2026-12-15T00:00:00.000Z", "false", "false", "PIPELINE", "Appointment Scheduled"],
    )  # fmt: skip
    assert [(s.name, s.order, s.probability, s.outcome) for s in first.stages] == [
        ("Appointment Scheduled", 0, 0.2, Outcome.OPEN),
        ("Closed Won", 1, 1.0, Outcome.WON),
        ("Closed Lost", 2, 0.0, Outcome.LOST),
    ]
    assert batches[2].stages == ()
    assert batches[1].rows[0] == (
        "1",
        ["1", "Appointment Scheduled", "2026-10-01T09:30:00.000Z", "1250.5"],
    )  # with the amount the deal had then, from the amount's history
    # the page's history batch moves the cursor, so a stop between the two repeats the page
    assert first.position is None
    assert (
        batches[1].position
        == portal.stores["deals"].records["200"]["properties"]["hs_lastmodifieddate"]
    )


def test_incremental_pull_fetches_only_the_changes(portal: FakeHubSpot) -> None:
    for n in range(1, 301):
        portal.put("deals", deal(n))
    source = connect(portal)
    position = list(source.pull("deals", None))[-1].position
    portal.put("deals", deal(7, amount="99"))
    before = source.requests
    batches = list(source.pull("deals", position))
    rows = [r for b in batches if b.kind == "deals" for r in b.rows]
    assert {r[0] for r in rows} <= {"7", "300"}  # the changed deal (and the boundary one)
    assert next(r for r in rows if r[0] == "7")[1][3] == "99"
    assert source.requests - before == 3  # pipelines, one search page, one history read


def test_engagements_link_deals_and_contacts_and_count_minutes(portal: FakeHubSpot) -> None:
    portal.put("calls", {"id": "9", "properties": {"hubspot_owner_id": "101",
               "hs_timestamp": "2026-10-02T10:00:00.000Z", "hs_call_duration": "90000"},
               "associations": {"deals": ["1"], "contacts": ["5"]}})  # fmt: skip
    portal.put("meetings", {"id": "10", "properties": {"hubspot_owner_id": "101",
               "hs_meeting_start_time": "2026-10-03T10:00:00.000Z",
               "hs_meeting_end_time": "2026-10-03T10:45:00.000Z"},
               "associations": {"contacts": ["5"]}})  # fmt: skip
    source = connect(portal)
    (calls,) = source.pull("calls", None)
    (meetings,) = source.pull("meetings", None)
    assert calls.header == [
        "external_id", "owner", "started_at", "type", "minutes", "deal_external_id",
        "lead_external_id", "external_attendee",
    ]  # fmt: skip
    assert calls.rows == [
        ("9", ["9", "101", "2026-10-02T10:00:00.000Z", "call", "1.5", "1", "5", ""])
    ]
    assert meetings.rows == [
        ("10", ["10", "101", "2026-10-03T10:00:00.000Z", "meeting", "45", "", "5", "true"])
    ]


def test_archived_and_merged_records_are_removed_once(portal: FakeHubSpot) -> None:
    for n in (1, 2, 3):
        portal.put("deals", deal(n))
    portal.archive("deals", "1")
    portal.merge("deals", "2", "3")
    source = connect(portal)
    removed = list(source.removed("deals", None))
    assert sorted(i for r in removed for i in r.ids) == ["1", "3"]
    position = removed[-1].position
    assert position is not None and all(r.position is None for r in removed[:-1])
    assert [i for r in source.removed("deals", position) for i in r.ids] == []


def test_expired_token_is_refreshed_and_the_call_goes_on(portal: FakeHubSpot) -> None:
    source = connect(
        portal, client_id=portal.client_id, client_secret=portal.client_secret,
        refresh_token=portal.refresh_token,
    )  # fmt: skip
    portal.expire_token()
    (batch,) = source.pull("owners", None)
    assert len(batch.rows) == 2
    assert ("POST", "/oauth/v1/token") in portal.requests


def test_refused_token_without_refresh_names_the_variable_not_the_token(
    portal: FakeHubSpot,
) -> None:
    source = connect(portal, token="pat-na1-secret-value")
    with pytest.raises(SyncError) as failed:
        list(source.pull("owners", None))
    assert "HUBSPOT_ACCESS_TOKEN" in str(failed.value)
    assert "pat-na1-secret-value" not in str(failed.value)


def test_429_waits_for_retry_after_and_503_backs_off(portal: FakeHubSpot) -> None:
    portal.put("deals", deal(1))
    sleeps: list[float] = []
    source = connect(portal, sleeps)
    portal.fail("/search", 429, headers={"Retry-After": "7"})
    portal.fail("/batch/read", 503, times=2)
    batches = list(source.pull("deals", None))
    assert [len(b.rows) for b in batches] == [1, 1]
    assert sleeps == [7.0, 1.0, 2.0]
    assert source.requests == 1 + 2 + 3  # pipelines, search twice, batch read three times


def test_a_5xx_that_never_ends_stops_with_sync_error(portal: FakeHubSpot) -> None:
    portal.fail("/owners", 503, times=10)
    sleeps: list[float] = []
    with pytest.raises(SyncError, match="503"):
        list(connect(portal, sleeps).pull("owners", None))
    assert len(sleeps) == 5


def test_the_search_cap_restarts_from_the_last_modified_time(
    portal: FakeHubSpot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_hubspot, "SEARCH_CAP", 400)
    monkeypatch.setattr(source_module, "SEARCH_CAP", 400)
    for n in range(1, 1001):
        portal.put("contacts", {"id": str(n), "properties": {"createdate": T0}})
    ids = [r[0] for b in connect(portal).pull("contacts", None) for r in b.rows]
    assert sorted(set(ids), key=int) == [str(n) for n in range(1, 1001)]


def test_field_map_fetches_the_property_into_a_mapped_column(portal: FakeHubSpot) -> None:
    portal.put("deals", deal(1, hs_product_line="Widgets"))
    source = connect(portal, fields={"deals": {"product": "hs_product_line"}})
    batch = next(iter(source.pull("deals", None)))
    assert batch.column_map == {"product": "hs_product_line"}
    assert batch.rows[0][1][batch.header.index("hs_product_line")] == "Widgets"


def _write(session: Session, batch: Batch, table: CsvTable) -> None:
    if batch.stages:
        save_stages(session, build_stage_map(session, (), batch.stages), ())
    options = ImportOptions(
        kind=batch.kind, format=batch.format, column_map=batch.column_map,
        skip_invalid=True, history_from_source=True,
    )  # fmt: skip
    import_table(session, table, options)


def _snapshot(session: Session) -> list[Any]:
    deals = session.execute(
        select(
            Deal.external_id, Deal.amount, Deal.stage, Deal.outcome, Deal.expected_close
        ).order_by(Deal.external_id)
    ).all()
    history = session.execute(
        select(DealStageChange.stage, DealStageChange.entered_at).order_by(DealStageChange.id)
    ).all()
    calls = session.execute(
        select(Activity.external_id, Activity.minutes, Deal.external_id).join(
            Deal, Activity.deal_id == Deal.id, isouter=True
        )
    ).all()
    return [deals, history, calls]


def test_batches_import_like_a_native_csv_of_the_same_records(
    portal: FakeHubSpot, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    for n in (1, 2):
        portal.put("deals", deal(n))
    portal.put(
        "deals", deal(3, dealstage="closedwon", hs_is_closed="true", hs_is_closed_won="true")
    )
    portal.put("calls", {"id": "9", "properties": {"hubspot_owner_id": "101",
               "hs_timestamp": "2026-10-02T10:00:00.000Z", "hs_call_duration": "120000"},
               "associations": {"deals": ["1"]}})  # fmt: skip
    source = connect(portal)
    batches = [b for obj in ("owners", "deals", "calls") for b in source.pull(obj, None)]
    results = []
    for via_csv in (False, True):
        with sessions.begin() as session:
            for n, batch in enumerate(batches):
                table = CsvTable(
                    "sync",
                    batch.header,
                    list(enumerate((c for _, c in batch.rows), 2)),
                    had_bom=False,
                )
                if via_csv:
                    path = tmp_path / f"{n}.csv"
                    with path.open("w", newline="") as out:
                        csv.writer(out).writerows([batch.header, *(c for _, c in batch.rows)])
                    table = read_csv(path)
                _write(session, batch, table)
            results.append(_snapshot(session))
            session.rollback()
    assert results[0] == results[1]
    deals, history, calls = results[0]
    assert [(d[0], d[2], d[3]) for d in deals] == [
        ("1", "Appointment Scheduled", Outcome.OPEN),
        ("2", "Appointment Scheduled", Outcome.OPEN),
        ("3", "Closed Won", Outcome.WON),
    ]
    assert len(history) == 4  # the three histories, and deal 3 entering Closed Won at its close
    assert calls[0][1] == 2


def test_refetch_reads_deals_by_id_with_their_history_and_moves_no_cursor(
    portal: FakeHubSpot,
) -> None:
    for n in range(1, 4):
        portal.put("deals", deal(n))
    batches = list(connect(portal).refetch("deals", ["2", "3", "999"]))
    assert (batches[0].kind, sorted(r for r, _ in batches[0].rows)) == ("deals", ["2", "3"])
    assert {b.kind for b in batches} == {"deals", "stage_changes"}
    assert all(b.position is None for b in batches)
