"""What the deal importer and the ingest API record as history, and what past periods read.

A closed deal in a file says nothing about its stages while it was open: its closing stage is
recorded from its close, never "Closed Won since creation". Each change carries the amount and
probability the deal had from then, and a new amount or probability is history too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from salesops_core.config import OrgConfig
from salesops_core.db.models import Rep
from salesops_core.importers.ingest import upsert_deal
from salesops_core.kpi.asof import STAGE_NOT_RECORDED
from salesops_core.kpi.details import pipeline_by_stage
from salesops_core.org.scopes import ORG_SCOPE
from tests.support.import_helpers import FIXTURES, run_import, stage_history, write

ORG = OrgConfig(timezone="UTC")
HEADER = "external_id,owner,amount,stage,probability,created_at,expected_close,closed_at\n"
ROWS = (
    "W-1,ann@example.com,8000,Closed Won,,2026-05-01T10:00:00Z,,2026-11-01T10:00:00Z\n"
    "O-1,ann@example.com,5000,Negotiation,40,2026-06-01T10:00:00Z,2026-12-15,\n"
)
IMPORTED = datetime(2026, 11, 10, tzinfo=UTC)


def load(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with sessions.begin() as session:
        session.add(Rep(name="Ann Archer", email="ann@example.com"))
    path = write(tmp_path, "deals.csv", HEADER + ROWS)
    run_import(sessions, path, "deals", stage_map_file=FIXTURES / "stage_map.csv", now=IMPORTED)


def test_a_new_closed_deal_records_its_closing_stage_from_its_close(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load(sessions, tmp_path)
    assert stage_history(sessions) == {
        "O-1": [("Negotiation", datetime(2026, 6, 1, 10, tzinfo=UTC), 5000, 0.4)],
        "W-1": [("Closed Won", datetime(2026, 11, 1, 10, tzinfo=UTC), 8000, None)],
    }
    with sessions() as session:  # open at 10-01: W-1's stage then is not in the file
        rows = pipeline_by_stage(session, ORG_SCOPE, ORG, at=datetime(2026, 10, 1, tzinfo=UTC))
    assert [(r["stage"], r["amount"], r["weighted_amount"]) for r in rows] == [
        ("Negotiation", 5000, 2000),
        (STAGE_NOT_RECORDED, 8000, None),
    ]


def test_a_new_amount_is_history_and_past_moments_keep_the_old_one(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load(sessions, tmp_path)
    later = datetime(2026, 11, 20, tzinfo=UTC)
    cheaper = ROWS.replace("O-1,ann@example.com,5000", "O-1,ann@example.com,3000")
    path = write(tmp_path, "again.csv", HEADER + cheaper)
    result = run_import(sessions, path, "deals", now=later)
    assert (result.updated, result.stage_changes) == (1, 1)
    assert stage_history(sessions, "O-1")["O-1"][-1] == ("Negotiation", later, 3000, 0.4)
    again = run_import(sessions, path, "deals", now=later)
    assert (again.unchanged, again.stage_changes) == (2, 0)  # re-import records nothing
    with sessions() as session:
        before = pipeline_by_stage(session, ORG_SCOPE, ORG, at=datetime(2026, 11, 15, tzinfo=UTC))
        after = pipeline_by_stage(session, ORG_SCOPE, ORG, at=datetime(2026, 11, 21, tzinfo=UTC))
    assert [(r["stage"], r["amount"]) for r in before] == [("Negotiation", 5000)]
    assert [(r["stage"], r["amount"]) for r in after] == [("Negotiation", 3000)]


def test_the_ingest_api_records_a_closed_deal_from_its_close(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    load(sessions, tmp_path)
    with sessions.begin() as session:
        fields = {
            "external_id": "API-1",
            "owner": "ann@example.com",
            "amount": 9000,
            "stage": "Closed Won",
            "created_at": datetime(2026, 4, 1, tzinfo=UTC),
            "closed_at": datetime(2026, 9, 1, tzinfo=UTC),
        }
        upsert_deal(session, fields, now=IMPORTED)
        upsert_deal(session, {**fields, "amount": 9500}, now=IMPORTED)
    assert stage_history(sessions, "API-1")["API-1"] == [
        ("Closed Won", datetime(2026, 9, 1, tzinfo=UTC), 9000, None),
        ("Closed Won", datetime(2026, 9, 1, tzinfo=UTC), 9500, None),
    ]
