import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.api import build_ingest_router
from bot.deps import Deps
from salesops_core.db.models import Activity, Deal, DealStageChange, Lead, LeadAssignment, Outbox
from tests.support.ingest_api import AUTH, TOKEN, add_stages, count, ingest_client, settings_for
from tests.support.lead_helpers import make_team


@pytest.fixture
def api(engine, sessions, database_url):
    with ingest_client(engine, sessions, database_url) as client:
        yield client


@pytest.fixture
def team(sessions):
    with sessions.begin() as session:
        manager, reps = make_team(session)
        return manager.id, [rep.id for rep in reps]


def test_post_lead_creates_it_with_deadline_and_owner_dm(api, sessions, team):
    body = {
        "external_id": "W-1",
        "owner": "rep2@x.test",
        "source": "web",
        "company": "Acme",
        "created_at": "2026-11-23T10:00:00Z",
    }
    answer = api.post("/api/v1/leads", json=body, headers=AUTH)
    assert answer.status_code == 201, answer.text
    data = answer.json()
    assert data["owner"] == "rep2@x.test"
    assert data["sla_due_at"].startswith("2026-11-23T10:05:00")
    with sessions() as session:
        dm = session.scalars(select(Outbox)).one()
        assert (dm.kind, dm.channel) == ("lead_dm", "U2")


def test_posting_the_same_lead_again_answers_200_and_writes_nothing(api, sessions, team):
    body = {"external_id": "W-1", "company": "Acme"}
    assert api.post("/api/v1/leads", json=body, headers=AUTH).status_code == 201
    again = api.post("/api/v1/leads", json=body, headers=AUTH)
    assert again.status_code == 200
    assert again.json()["created"] is False
    assert (count(sessions, Lead), count(sessions, Outbox)) == (1, 1)


def test_lead_without_owner_is_routed_round_robin(api, sessions, team):
    owners = [
        api.post("/api/v1/leads", json={"external_id": f"W-{n}"}, headers=AUTH).json()["owner"]
        for n in range(3)
    ]
    assert owners == ["rep1@x.test", "rep2@x.test", "rep1@x.test"]
    assert count(sessions, LeadAssignment) == 3


def test_naive_time_and_date_alone_are_in_the_org_time_zone(api, team):
    naive = api.post(
        "/api/v1/leads", json={"external_id": "A", "created_at": "2026-07-01T09:00"}, headers=AUTH
    ).json()
    day = api.post(
        "/api/v1/leads", json={"external_id": "B", "created_at": "2026-07-01"}, headers=AUTH
    ).json()
    assert naive["created_at"].startswith("2026-07-01T13:00:00")  # EDT is UTC-4
    assert day["created_at"].startswith("2026-07-01T04:00:00")


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}]
)
def test_missing_or_wrong_token_is_401_and_writes_nothing(api, sessions, team, headers):
    answer = api.post("/api/v1/leads", json={"external_id": "W-1"}, headers=headers)
    assert answer.status_code == 401
    assert "bearer token" in answer.json()["detail"]
    assert count(sessions, Lead) == 0


def test_wrong_token_wins_over_a_bad_body(api, sessions):
    answer = api.post("/api/v1/leads", content=b"{not json", headers={"Authorization": "Bearer x"})
    assert answer.status_code == 401


def test_bad_json_is_422_and_writes_nothing(api, sessions, team):
    answer = api.post(
        "/api/v1/leads",
        content=b'{"external_id": "W-1",',
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["type"] == "json_invalid"
    assert count(sessions, Lead) == 0


def test_422_names_each_bad_field(api, sessions, team):
    body = {"external_id": "", "created_at": "yesterday-ish", "colour": "red"}
    answer = api.post("/api/v1/leads", json=body, headers=AUTH)
    assert answer.status_code == 422
    fields = {tuple(error["loc"])[-1] for error in answer.json()["detail"]}
    assert fields == {"external_id", "created_at", "colour"}
    assert count(sessions, Lead) == 0


def test_unknown_owner_is_422_on_owner_and_writes_nothing(api, sessions, team):
    answer = api.post(
        "/api/v1/leads", json={"external_id": "W-1", "owner": "ghost@x.test"}, headers=AUTH
    )
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body", "owner"]
    assert (count(sessions, Lead), count(sessions, LeadAssignment), count(sessions, Outbox)) == (
        0,
        0,
        0,
    )


def test_response_is_recorded_once_and_stops_the_clock(api, sessions, team):
    lead = {"external_id": "W-1", "owner": "rep1@x.test", "created_at": "2026-11-23T10:00:00Z"}
    api.post("/api/v1/leads", json=lead, headers=AUTH)
    first = api.post(
        "/api/v1/leads/W-1/response",
        json={"owner": "Rep 1", "at": "2026-11-23T10:02:00Z"},
        headers=AUTH,
    )
    assert first.status_code == 200, first.text
    assert first.json()["status"] == "responded"
    again = api.post("/api/v1/leads/W-1/response", json={}, headers=AUTH)
    assert again.json()["first_response_at"].startswith("2026-11-23T10:02:00")
    with sessions() as session:
        assert session.scalars(select(Lead.next_due_at)).one() is None


def test_response_to_unknown_lead_is_404(api):
    answer = api.post("/api/v1/leads/nope/response", json={}, headers=AUTH)
    assert answer.status_code == 404


def test_deal_upsert_is_idempotent_and_records_stage_changes(api, sessions, team):
    add_stages(sessions)
    deal = {
        "external_id": "D-1",
        "owner": "rep1@x.test",
        "stage": "Discovery",
        "created_at": "2026-11-01",
        "amount": 12000,
        "probability": 40,
    }
    assert api.post("/api/v1/deals", json=deal, headers=AUTH).status_code == 201
    same = api.post("/api/v1/deals", json=deal, headers=AUTH)
    assert (same.status_code, same.json()["changed"]) == (200, False)
    moved = api.post("/api/v1/deals", json={**deal, "stage": "Proposal"}, headers=AUTH)
    assert moved.json()["changed"] is True
    with sessions() as session:
        stored = session.scalars(select(Deal)).one()
        assert (stored.probability, stored.stage) == (0.4, "Proposal")
        stages = session.scalars(select(DealStageChange.stage).order_by(DealStageChange.id))
        assert list(stages) == ["Discovery", "Proposal"]


def test_deal_with_bad_fields_is_422_naming_them(api, sessions, team):
    answer = api.post(
        "/api/v1/deals",
        json={"external_id": "D-1", "owner": "rep1@x.test", "amount": -5, "outcome": "maybe"},
        headers=AUTH,
    )
    assert answer.status_code == 422
    fields = {error["loc"][-1] for error in answer.json()["detail"]}
    assert fields == {"stage", "created_at", "amount", "outcome"}
    assert count(sessions, Deal) == 0


def test_activity_upsert_links_deal_and_rejects_unknown_deal(api, sessions, team):
    add_stages(sessions)
    api.post(
        "/api/v1/deals",
        json={
            "external_id": "D-1",
            "owner": "rep1@x.test",
            "stage": "S",
            "created_at": "2026-11-01",
        },
        headers=AUTH,
    )
    activity = {
        "external_id": "A-1",
        "owner": "rep1@x.test",
        "type": "call",
        "started_at": "2026-11-02T15:00:00Z",
        "minutes": 30,
        "deal_external_id": "D-1",
    }
    assert api.post("/api/v1/activities", json=activity, headers=AUTH).status_code == 201
    bad = api.post(
        "/api/v1/activities",
        json={**activity, "external_id": "A-2", "deal_external_id": "D-404"},
        headers=AUTH,
    )
    assert bad.status_code == 422
    assert bad.json()["detail"][0]["loc"] == ["body", "deal_external_id"]
    assert count(sessions, Activity) == 1


def test_api_is_disabled_without_a_configured_token(engine, sessions, database_url):
    settings = settings_for(database_url).model_copy(update={"ingest_token": None})
    app = FastAPI()
    app.include_router(build_ingest_router(Deps(settings, engine, sessions)), prefix="/api/v1")
    with TestClient(app) as client:
        answer = client.post("/api/v1/leads", json={"external_id": "x"}, headers=AUTH)
    assert answer.status_code == 503


def test_server_mounts_the_ingest_api_with_openapi(engine, sessions, database_url, fake_slack):
    from bot.server import create_app

    settings = settings_for(
        database_url, slack_bot_token="xoxb-test", slack_api_url=fake_slack.base_url
    )
    app = create_app(Deps(settings, engine, sessions))
    # From loopback: /metrics and the OpenAPI pages answer only this host by default.
    with TestClient(app, client=("127.0.0.1", 50000)) as client:
        spec = client.get("/api/v1/openapi.json").json()
        assert "/api/v1/leads" in spec["paths"]
        assert "/api/v1/leads/{external_id}/response" in spec["paths"]
        assert client.post("/api/v1/leads", json={"external_id": "x"}).status_code == 401
        metrics = client.get("/metrics").text
        assert 'salesops_outbox_messages{status="pending"}' in metrics


def test_response_from_the_crm_updates_the_delivered_lead_dm(api, sessions, team):
    from salesops_core import outbox

    api.post("/api/v1/leads", json={"external_id": "W-1", "owner": "rep1@x.test"}, headers=AUTH)
    with sessions.begin() as session:
        [dm] = outbox.claim(session, "test")
        outbox.mark_sent(session, dm, slack_ts="99.1", slack_channel="D1")
    api.post("/api/v1/leads/W-1/response", json={"owner": "rep1@x.test"}, headers=AUTH)
    with sessions() as session:
        update = session.scalars(select(Outbox).where(Outbox.kind == "lead_dm_update")).one()
    assert update.edits_id == dm.id
    assert update.payload["status"].startswith("Response recorded by Rep 1")
