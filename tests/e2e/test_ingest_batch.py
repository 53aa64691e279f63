"""POST /api/v1/{leads,deals,activities}/batch: one transaction, the single routes' checks."""

import pytest
from sqlalchemy import select

from bot.api_batch import MAX_RECORDS
from salesops_core.db.models import Activity, Deal, DealStageChange, Lead, Outbox
from tests.support.ingest_api import AUTH, add_team_and_stages, count, ingest_client


@pytest.fixture
def api(engine, sessions, database_url):
    with ingest_client(engine, sessions, database_url) as client:
        yield client


@pytest.fixture
def team(sessions):
    add_team_and_stages(sessions)


def deal(n, **fields):
    return {
        "external_id": f"D-{n}",
        "owner": "rep1@x.test",
        "stage": "Discovery",
        "created_at": "2026-11-02T10:00:00Z",
        "amount": 1000 + n,
        **fields,
    }


def test_lead_batch_creates_each_lead_like_the_single_route(api, sessions, team):
    records = [{"external_id": "W-1", "owner": "rep2@x.test"}, {"external_id": "W-2"}]
    answer = api.post("/api/v1/leads/batch", json={"records": records}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["external_id"], r["created"], r["owner"]) for r in results] == [
        ("W-1", True, "rep2@x.test"),
        ("W-2", True, "rep1@x.test"),  # routed by round-robin
    ]
    assert results[1]["routed"]["reason"] == "round_robin"
    with sessions() as session:
        dms = session.execute(select(Outbox.kind, Outbox.channel).order_by(Outbox.id)).all()
    assert dms == [("lead_dm", "U2"), ("lead_dm", "U1")]


def test_posting_a_batch_again_creates_nothing_new(api, sessions, team):
    body = {"records": [{"external_id": f"W-{n}"} for n in range(3)]}
    assert api.post("/api/v1/leads/batch", json=body, headers=AUTH).status_code == 200
    again = api.post("/api/v1/leads/batch", json=body, headers=AUTH)
    assert [r["created"] for r in again.json()["results"]] == [False, False, False]
    assert (count(sessions, Lead), count(sessions, Outbox)) == (3, 3)


def test_deal_batch_upserts_and_a_repeated_external_id_updates_the_same_deal(api, sessions, team):
    records = [deal(1), deal(2), deal(1, stage="Proposal")]
    answer = api.post("/api/v1/deals/batch", json={"records": records}, headers=AUTH)
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [(r["external_id"], r["created"], r["changed"]) for r in results] == [
        ("D-1", True, True),
        ("D-2", True, True),
        ("D-1", False, True),
    ]
    with sessions() as session:
        stored = session.scalars(select(Deal).where(Deal.external_id == "D-1")).one()
        assert stored.stage == "Proposal"
        history = session.scalars(
            select(DealStageChange.stage)
            .where(DealStageChange.deal_id == stored.id)
            .order_by(DealStageChange.id)
        )
        assert list(history) == ["Discovery", "Proposal"]
    assert count(sessions, Deal) == 2


def test_rows_a_check_refuses_are_listed_by_index_and_field_and_nothing_is_written(
    api, sessions, team
):
    records = [deal(1), deal(2, owner="nobody@x.test"), deal(3), deal(4, stage="Nowhere")]
    answer = api.post("/api/v1/deals/batch", json={"records": records}, headers=AUTH)
    assert answer.status_code == 422, answer.text
    assert [error["loc"] for error in answer.json()["detail"]] == [
        ["body", "records", 1, "owner"],
        ["body", "records", 3, "stage"],
    ]
    assert (count(sessions, Deal), count(sessions, DealStageChange)) == (0, 0)


def test_invalid_fields_are_listed_by_index_and_field_and_nothing_is_written(api, sessions, team):
    bad_amount = deal(3, amount=-5)
    no_owner = deal(1)
    del no_owner["owner"]
    records = [no_owner, deal(2), bad_amount]
    answer = api.post("/api/v1/deals/batch", json={"records": records}, headers=AUTH)
    assert answer.status_code == 422, answer.text
    locs = {tuple(error["loc"]) for error in answer.json()["detail"]}
    assert locs == {("body", "records", 0, "owner"), ("body", "records", 2, "amount")}
    assert count(sessions, Deal) == 0


def test_more_than_the_limit_is_refused_and_nothing_is_written(api, sessions, team):
    records = [{"external_id": f"W-{n}"} for n in range(MAX_RECORDS + 1)]
    answer = api.post("/api/v1/leads/batch", json={"records": records}, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "records"]
    assert count(sessions, Lead) == 0


def test_an_empty_batch_or_an_unknown_key_is_refused(api, team):
    assert api.post("/api/v1/leads/batch", json={"records": []}, headers=AUTH).status_code == 422
    body = {"records": [{"external_id": "W-1"}], "extra": 1}
    assert api.post("/api/v1/leads/batch", json=body, headers=AUTH).status_code == 422


def test_activity_batch_links_deals_and_refuses_an_unknown_one(api, sessions, team):
    assert api.post("/api/v1/deals", json=deal(1), headers=AUTH).status_code == 201
    activity = {"owner": "rep1@x.test", "type": "call", "started_at": "2026-11-20T15:00:00Z"}
    good = {"records": [{**activity, "external_id": "A-1", "deal_external_id": "D-1"}]}
    answer = api.post("/api/v1/activities/batch", json=good, headers=AUTH)
    assert answer.status_code == 200, answer.text
    bad = {
        "records": [
            {**activity, "external_id": "A-2"},
            {**activity, "external_id": "A-3", "deal_external_id": "D-9"},
        ]
    }
    refused = api.post("/api/v1/activities/batch", json=bad, headers=AUTH)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "records", 1, "deal_external_id"]
    with sessions() as session:
        assert list(session.scalars(select(Activity.external_id))) == ["A-1"]


def test_batch_needs_the_bearer_token(api, sessions, team):
    body = {"records": [{"external_id": "W-1"}]}
    assert api.post("/api/v1/leads/batch", json=body).status_code == 401
    assert count(sessions, Lead) == 0


def test_openapi_documents_the_batch_routes_with_their_record_models(api):
    spec = api.get("/openapi.json").json()
    for kind, record in (("leads", "LeadIn"), ("deals", "DealIn"), ("activities", "ActivityIn")):
        assert f"/api/v1/{kind}/batch" in spec["paths"]
        name = record.removesuffix("In")
        records = spec["components"]["schemas"][f"{name}BatchIn"]["properties"]["records"]
        assert records["items"] == {"$ref": f"#/components/schemas/{record}"}
        assert records["maxItems"] == MAX_RECORDS
