"""The ingest API refuses what the CSV import refuses, each bad value a 422 naming its field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import DataError

from salesops_core.db.models import Deal, DealStageChange, Lead, Outbox
from salesops_core.importers import ingest, limits
from salesops_core.importers.report import ImportFailed
from tests.support.import_helpers import counts, run_import, write
from tests.support.ingest_api import AUTH, count, team_client

DEAL = {
    "external_id": "D-1",
    "owner": "rep1@x.test",
    "stage": "Discovery",
    "created_at": "2026-11-01T10:00:00Z",
}
LEAD = {"external_id": "W-1", "owner": "rep1@x.test", "created_at": "2026-11-23T10:00:00Z"}


@pytest.fixture
def api(engine, sessions, database_url):
    with team_client(engine, sessions, database_url) as client:
        yield client


def refused(answer: Any) -> dict[str, str]:
    """The 422's reasons by field."""
    assert answer.status_code == 422, answer.text
    return {error["loc"][-1]: error["msg"] for error in answer.json()["detail"]}


def csv_reasons(sessions, tmp_path: Path, kind: str, row: dict[str, str]) -> dict[str, str]:
    """The CSV import's reasons by column for one row of `kind` (and that it wrote nothing)."""
    text = ",".join(row) + "\n" + ",".join(row.values()) + "\n"
    before = counts(sessions)
    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, write(tmp_path, f"{kind}.csv", text), kind)
    assert counts(sessions) == before
    return {error.column: error.reason for error in failed.value.errors}


@pytest.mark.parametrize(
    ("kind", "body", "field"),
    [
        ("leads", {**LEAD, "first_response_at": "2026-11-23T09:59:00Z"}, "first_response_at"),
        ("deals", {**DEAL, "stage": "Haggling"}, "stage"),
        ("deals", {**DEAL, "stage": "Closed Won"}, "closed_at"),
        ("deals", {**DEAL, "outcome": "lost"}, "closed_at"),
    ],
)
def test_api_refuses_the_rows_the_csv_import_refuses_with_the_same_reason(
    api, sessions, tmp_path, kind, body, field
):
    reason = refused(api.post(f"/api/v1/{kind}", json=body, headers=AUTH))[field]
    assert (count(sessions, Lead), count(sessions, Deal), count(sessions, Outbox)) == (0, 0, 0)
    assert csv_reasons(sessions, tmp_path, kind, body)[field] == reason


def test_a_response_before_the_lead_was_created_is_refused(api, sessions):
    assert api.post("/api/v1/leads", json=LEAD, headers=AUTH).status_code == 201
    answer = api.post(
        "/api/v1/leads/W-1/response", json={"at": "2026-11-23T09:00:00Z"}, headers=AUTH
    )
    assert refused(answer) == {"at": "first_response_at is before created_at"}
    assert api.post("/api/v1/leads", json=LEAD, headers=AUTH).json()["status"] == "open"


def test_a_deal_takes_the_stage_maps_spelling_and_an_unmapped_stage_needs_an_outcome(api, sessions):
    mapped = api.post("/api/v1/deals", json={**DEAL, "stage": "closed  won", "closed_at":
                      "2026-11-20"}, headers=AUTH)  # fmt: skip
    unmapped = api.post(
        "/api/v1/deals", json={**DEAL, "external_id": "D-2", "stage": "Haggling",
                               "outcome": "open", "closed_at": "2026-11-20"}, headers=AUTH
    )  # fmt: skip
    assert (mapped.status_code, unmapped.status_code) == (201, 201)
    with sessions() as session:
        deals = {d.external_id: d for d in session.scalars(select(Deal))}
        assert (deals["D-1"].stage, deals["D-1"].outcome.value) == ("Closed Won", "won")
        assert (deals["D-2"].stage, deals["D-2"].closed_at) == ("Haggling", None)


def one_too_many(field: str) -> str:
    """A text one character longer than the field's column holds."""
    return "x" * (limits.TEXT_LENGTHS[field] + 1)


BAD_VALUES = [
    ("leads", {**LEAD, "created_at": "0001-01-01T00:00:00+05:00"}, "created_at"),
    ("leads", {**LEAD, "created_at": "9999-12-31T23:59:59-05:00"}, "created_at"),
    ("leads", {**LEAD, "first_response_at": "1969-07-20T20:17:00Z"}, "first_response_at"),
    ("leads", {**LEAD, "source": one_too_many("source")}, "source"),
    ("leads", {**LEAD, "company": "Acme\x00"}, "company"),
    ("leads", {**LEAD, "company": "Acme \ud800"}, "company"),
    ("leads", {**LEAD, "owner": "rep1\x1b@x.test"}, "owner"),
    ("leads", {**LEAD, "external_id": "W\x00"}, "external_id"),
    ("deals", {**DEAL, "amount": float("nan")}, "amount"),
    ("deals", {**DEAL, "amount": float("inf")}, "amount"),
    ("deals", {**DEAL, "amount": float("-inf")}, "amount"),
    ("deals", {**DEAL, "amount": 1e16}, "amount"),
    ("deals", {**DEAL, "probability": float("nan")}, "probability"),
    ("deals", {**DEAL, "stage": one_too_many("stage")}, "stage"),
    ("deals", {**DEAL, "product": one_too_many("product")}, "product"),
    ("deals", {**DEAL, "currency": "ABC"}, "currency"),
    ("deals", {**DEAL, "expected_close": "9999-12-31T23:00:00-01:00"}, "expected_close"),
    ("activities", {"external_id": "A-1", "owner": "rep1@x.test", "type": "call",
                    "started_at": "2026-11-02", "minutes": float("inf")}, "minutes"),
]  # fmt: skip


@pytest.mark.parametrize(("kind", "body", "field"), BAD_VALUES)
def test_a_bad_value_is_a_422_naming_its_field_and_writes_nothing(api, sessions, kind, body, field):
    # json.dumps writes NaN/Infinity and lone surrogates as JSON parsers read them
    answer = api.post(
        f"/api/v1/{kind}",
        content=json.dumps(body).encode(),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert set(refused(answer)) == {field}
    assert (count(sessions, Lead), count(sessions, Deal), count(sessions, Outbox)) == (0, 0, 0)


def test_an_amount_beyond_a_double_is_a_422_not_infinity(api, sessions):
    body = json.dumps(DEAL)[:-1] + ', "amount": 1e309}'
    answer = api.post(
        "/api/v1/deals", content=body.encode(), headers={**AUTH, "Content-Type": "application/json"}
    )
    assert set(refused(answer)) == {"amount"}
    assert count(sessions, Deal) == 0


def test_a_bad_lead_id_in_the_path_is_a_422(api):
    assert set(refused(api.post("/api/v1/leads/W%00/response", json={}, headers=AUTH))) == {
        "external_id"
    }


def test_a_value_the_database_refuses_is_a_422_and_rolls_back(api, sessions, monkeypatch):
    def refuse_after_writing(session, fields, **kwargs):
        ingest.upsert_deal(session, fields, **kwargs)
        raise DataError("INSERT ...", {}, Exception("numeric field overflow"))

    monkeypatch.setattr("bot.api.upsert_deal", refuse_after_writing)
    answer = api.post("/api/v1/deals", json=DEAL, headers=AUTH)
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"] == ["body"]
    assert (count(sessions, Deal), count(sessions, DealStageChange)) == (0, 0)
