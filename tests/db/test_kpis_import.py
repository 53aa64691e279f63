"""A CRM export with its own column and stage names, imported with --map and a stage map,
gives the same KPIs as the same data in native form (both through `salesops import`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.config import OrgConfig
from salesops_core.kpi.engine import compute_report, resolve_scope
from salesops_core.kpi.registry import KPI_KEYS
from salesops_core.periods import parse_period
from tests.conftest import empty_all_tables

ORG = OrgConfig(timezone="UTC")
NOW_TEXT = "2026-06-01T00:00:00+00:00"

REPS = """name,email,team,region
Ann Archer,ann@example.com,East,NA
Bob Baker,bob@example.com,East,NA
Cat Cole,cat@example.com,West,EU
"""
NATIVE_STAGES = """stage,order,probability,outcome
Prospect,1,0.1,open
Proposal,2,0.5,open
Won,3,1.0,won
Lost,4,0,lost
"""
CRM_STAGES = """stage,order,probability,outcome
S1 - Discovery,1,0.1,open
S2 - Proposal Sent,2,0.5,open
Closed Won,3,1.0,won
Closed Lost,4,0,lost
"""
# id, owner, amount, stage (native), created, closed, expected close
DEALS = [
    ("a1", "ann@example.com", "1000", "Won", "2026-01-01T00:00:00Z", "2026-01-31T00:00:00Z", ""),
    ("a2", "ann@example.com", "3000", "Won", "2026-01-01T00:00:00Z", "2026-03-02T00:00:00Z", ""),
    ("a3", "ann@example.com", "500", "Lost", "2026-01-05T00:00:00Z", "2026-02-01T00:00:00Z", ""),
    (
        "a4",
        "ann@example.com",
        "2000",
        "Proposal",
        "2026-02-01T00:00:00Z",
        "",
        "2026-04-20T00:00:00Z",
    ),
    ("b1", "bob@example.com", "", "Won", "2026-02-01T00:00:00Z", "2026-02-11T00:00:00Z", ""),
    ("b2", "bob@example.com", "0", "Lost", "2026-02-01T00:00:00Z", "2026-02-05T00:00:00Z", ""),
    ("c1", "cat@example.com", "4000", "Won", "2025-12-01T00:00:00Z", "2026-01-10T00:00:00Z", ""),
    (
        "c2",
        "cat@example.com",
        "6000",
        "Prospect",
        "2026-01-01T00:00:00Z",
        "",
        "2026-03-31T00:00:00Z",
    ),
]
RENAME = {"Prospect": "S1 - Discovery", "Proposal": "S2 - Proposal Sent"}
RENAME |= {"Won": "Closed Won", "Lost": "Closed Lost"}
QUOTAS = """owner,period_start,period_end,amount
ann@example.com,2026-01-01,2026-04-01,4000
cat@example.com,2026-01-01,2026-04-01,10000
"""
LEADS = [
    ("l1", "ann@example.com", "web", "2026-01-10T09:00:00Z", "2026-01-10T09:05:00Z"),
    ("l2", "bob@example.com", "event", "2026-02-01T12:00:00Z", "2026-02-01T14:00:00Z"),
    ("l3", "cat@example.com", "web", "2026-03-31T00:00:00Z", ""),
]


def native_files(tmp: Path) -> list[list[str]]:
    (tmp / "reps.csv").write_text(REPS)
    (tmp / "stages.csv").write_text(NATIVE_STAGES)
    (tmp / "quotas.csv").write_text(QUOTAS)
    deals = "external_id,owner,amount,stage,created_at,closed_at,expected_close\n"
    deals += "".join(",".join(row) + "\n" for row in DEALS)
    (tmp / "deals.csv").write_text(deals)
    leads = "external_id,owner,source,created_at,first_response_at\n"
    leads += "".join(",".join(row) + "\n" for row in LEADS)
    (tmp / "leads.csv").write_text(leads)
    return [
        ["import", str(tmp / "reps.csv"), "--kind", "reps"],
        [
            "import",
            str(tmp / "deals.csv"),
            "--kind",
            "deals",
            "--stage-map",
            str(tmp / "stages.csv"),
        ],
        ["import", str(tmp / "quotas.csv"), "--kind", "quotas"],
        ["import", str(tmp / "leads.csv"), "--kind", "leads"],
    ]


def crm_files(tmp: Path) -> list[list[str]]:
    (tmp / "reps.csv").write_text(REPS)
    (tmp / "stages.csv").write_text(CRM_STAGES)
    (tmp / "quotas.csv").write_text(QUOTAS)
    deals = "Opportunity ID,Owner Email,Value,Phase,Created On,Closed On,Close Date\n"
    deals += "".join(
        ",".join((i, o, a, RENAME[s], c, cl, e)) + "\n" for i, o, a, s, c, cl, e in DEALS
    )
    (tmp / "deals.csv").write_text(deals)
    leads = "Lead Id,Assigned To,Lead Source,Created Date,First Touch\n"
    leads += "".join(",".join(row) + "\n" for row in LEADS)
    (tmp / "leads.csv").write_text(leads)
    deal_map = [
        "external_id=Opportunity ID",
        "owner=Owner Email",
        "amount=Value",
        "stage=Phase",
        "created_at=Created On",
        "closed_at=Closed On",
        "expected_close=Close Date",
    ]
    lead_map = [
        "external_id=Lead Id",
        "owner=Assigned To",
        "source=Lead Source",
        "created_at=Created Date",
        "first_response_at=First Touch",
    ]
    return [
        ["import", str(tmp / "reps.csv"), "--kind", "reps"],
        [
            "import",
            str(tmp / "deals.csv"),
            "--kind",
            "deals",
            "--stage-map",
            str(tmp / "stages.csv"),
        ]
        + [arg for m in deal_map for arg in ("--map", m)],
        ["import", str(tmp / "quotas.csv"), "--kind", "quotas"],
        ["import", str(tmp / "leads.csv"), "--kind", "leads"]
        + [arg for m in lead_map for arg in ("--map", m)],
    ]


def import_and_report(
    commands: list[list[str]], engine: Engine, database_url: str, monkeypatch
) -> dict:
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    for command in commands:
        result = runner.invoke(app, command)
        assert result.exit_code == 0, (command, result.output)
    period = parse_period("2026-Q1", tz=ORG.tz)
    now = datetime.fromisoformat(NOW_TEXT)
    with Session(engine) as session:
        reports = {
            name: compute_report(session, resolve_scope(session, **scope), period, ORG, now=now)
            for name, scope in (
                ("org", {}),
                ("east", {"team": "East"}),
                ("ann", {"rep": "Ann Archer"}),
            )
        }
    return {
        name: {
            "kpis": report.kpis,
            "funnel": [(r["order"], r["reached"], r["advanced"]) for r in report.stage_conversion],
        }
        for name, report in reports.items()
    }


def test_crm_export_with_map_and_stage_map_gives_the_native_numbers(
    engine: Engine, database_url: str, tmp_path: Path, monkeypatch
) -> None:
    empty_all_tables(engine)
    monkeypatch.setenv("SALESOPS_CONFIG", str(tmp_path / "salesops.toml"))
    (tmp_path / "salesops.toml").write_text('[org]\ntimezone = "UTC"\n')
    (tmp_path / "native").mkdir()
    (tmp_path / "crm").mkdir()
    native = import_and_report(native_files(tmp_path / "native"), engine, database_url, monkeypatch)
    empty_all_tables(engine)
    crm = import_and_report(crm_files(tmp_path / "crm"), engine, database_url, monkeypatch)
    empty_all_tables(engine)
    assert native["org"]["kpis"]["won_amount"] == pytest.approx(8000)  # the data did arrive
    assert native["org"]["kpis"]["win_rate"] == pytest.approx(4 / 6)
    for name in native:
        assert native[name]["funnel"] == crm[name]["funnel"], name
        for key in KPI_KEYS:
            assert crm[name]["kpis"][key] == pytest.approx(native[name]["kpis"][key]), (name, key)
