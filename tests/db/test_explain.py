"""`explain`: formula, choices, counts and records (counted and left out with the reason)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.kpi.engine import resolve_scope
from salesops_core.kpi.explain import EXPLAINABLE, explain
from salesops_core.periods import parse_period
from tests.support.kpi_fixture import NOW, ORG, SLA, build_org

Q1 = parse_period("2026-Q1", tz=ORG.tz)


@pytest.fixture
def org_ids(session: Session) -> dict[str, int]:
    return build_org(session)


def by_id(records: list[dict]) -> dict[str, dict]:
    return {r.get("id") or r.get("external_id"): r for r in records}


def test_avg_deal_size_leaves_out_the_win_without_amount_and_the_lost_deals(
    session: Session, org_ids: dict
) -> None:
    result = explain(session, "avg_deal_size", resolve_scope(session), Q1, ORG, SLA, now=NOW)
    assert result.value == pytest.approx(8000 / 3)
    records = by_id(result.records)
    assert records["b1"]["status"] == "left out"
    assert records["b1"]["reason"] == "won without an amount"
    assert records["a3"]["reason"] == "lost"
    assert records["b3"]["reason"] == "closed exactly at period end: belongs to the next period"
    assert result.counts == {"counted": 3, "left out": 4}
    assert any("amount" in choice for choice in result.choices)


def test_quota_explanation_shows_rows_outside_the_period_as_left_out(
    session: Session, org_ids: dict
) -> None:
    result = explain(session, "quota_attainment", resolve_scope(session), Q1, ORG, SLA, now=NOW)
    quotas = [r for r in result.records if r["kind"] == "quota"]
    reasons = sorted(r["reason"] for r in quotas)
    assert reasons == [
        "inside the period",
        "inside the period",
        "inside the period, amount 0 (no quota)",
        "reaches outside the period (not pro-rated)",
    ]


def test_lead_sla_explanation_marks_met_and_missed(session: Session, org_ids: dict) -> None:
    result = explain(session, "lead_sla_met_share", resolve_scope(session), Q1, ORG, SLA, now=NOW)
    records = by_id(result.records)
    assert (records["l1"]["reason"], records["l2"]["reason"]) == ("met SLA", "missed SLA")
    assert records["l3"]["sla_from"] == "lead deadline"
    assert records["l4"]["reason"] == "missed SLA"
    assert "l5" not in records


def test_forecast_explanation_names_why_each_forecast_is_left_out(
    session: Session, org_ids: dict
) -> None:
    result = explain(session, "forecast_accuracy", resolve_scope(session), Q1, ORG, SLA, now=NOW)
    reasons = sorted(r["reason"] for r in result.records if r["kind"] == "forecast")
    assert reasons == [
        "category best_case, not commit",
        "latest commit submitted before the period started",
        "latest commit submitted before the period started",
        "submitted after the period started",
        "superseded by a later forecast",
    ]


def test_every_kpi_can_be_explained(session: Session, org_ids: dict) -> None:
    for key in EXPLAINABLE:
        result = explain(session, key, resolve_scope(session), Q1, ORG, SLA, now=NOW)
        assert result.formula and result.choices, key


def test_cli_kpi_json_and_explain_csv(
    session: Session, org_ids: dict, database_url: str, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SALESOPS_CONFIG", str(tmp_path / "salesops.toml"))
    (tmp_path / "salesops.toml").write_text('[org]\ntimezone = "UTC"\n')
    runner = CliRunner()
    result = runner.invoke(
        app, ["kpi", "--team", "East", "--period", "2026-Q1", "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["kpis"]["won_amount"] == 4000
    assert data["kpis"]["avg_deal_size"] == 2000
    table = runner.invoke(app, ["kpi", "--period", "2026-Q1"])
    assert table.exit_code == 0 and "Win rate" in table.stdout and "Leaderboard" in table.stdout
    out = tmp_path / "records.csv"
    result = runner.invoke(app, ["explain", "win_rate", "--period", "2026-Q1", "--csv", str(out)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(out.open()))
    assert {r["id"] for r in rows} == {"a1", "a2", "a3", "b1", "b2", "c1", "b3"}


def test_cli_kpi_refuses_an_unmigrated_database(tmp_path: Path, monkeypatch) -> None:
    from salesops_core.errors import DatabaseNotReady

    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    monkeypatch.setenv("SALESOPS_CONFIG", str(tmp_path / "salesops.toml"))
    (tmp_path / "salesops.toml").write_text("[org]\n")
    result = CliRunner().invoke(app, ["kpi"])
    assert isinstance(result.exception, DatabaseNotReady)
    assert "salesops migrate" in str(result.exception)


def test_stale_records_are_the_deals_the_stale_share_counts(
    session: Session, org_ids: dict
) -> None:
    result = explain(session, "stale_deal_share", resolve_scope(session), Q1, ORG, SLA, now=NOW)
    reasons = {r["id"]: r["reason"] for r in result.records}
    assert reasons == {"a5": "stale", "b3": "stale", "c2": "stale", "a4": "active"}
    assert result.value == pytest.approx(3 / 4)
