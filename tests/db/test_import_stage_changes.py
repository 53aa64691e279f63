"""`--kind stage_changes`: a deal's stage history from a native CSV or Salesforce's
OpportunityHistory export, re-imported without change, bad rows refused like other kinds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.models import Stage
from salesops_core.importers.report import ImportFailed
from tests.support.import_helpers import (
    FIXTURES,
    SALESFORCE,
    counts,
    fixture_text,
    load_reps,
    run_import,
    stage_history,
    write,
)

NATIVE = {"stage_map_file": FIXTURES / "stage_map.csv"}
SF = {"format": "salesforce"}
HISTORY = FIXTURES / "OpportunityHistory.csv"
DATE_HELP = "use ISO (2026-03-07 or 2026-03-07T14:05:00Z) or US style (3/7/2026 2:05 PM)"


@pytest.fixture
def native_deals(sessions: sessionmaker[Session]) -> None:
    load_reps(sessions)
    run_import(sessions, FIXTURES / "deals.csv", "deals", **NATIVE)


@pytest.fixture
def salesforce_deals(sessions: sessionmaker[Session]) -> None:
    load_reps(sessions)
    owners = FIXTURES / "sf_owners.csv"
    run_import(sessions, SALESFORCE / "Opportunity.csv", "deals", owners_file=owners, **SF)


def test_native_stage_changes_record_history_and_a_rerun_changes_nothing(
    sessions: sessionmaker[Session], native_deals: None
) -> None:
    path = FIXTURES / "stage_changes.csv"
    first = run_import(sessions, path, "stage_changes")
    # D-1's first change is at its created_at, where the deal import recorded a stage: a deal
    # is in one stage at a time, so the history replaces it
    assert first.summary() == "stage_changes: 2 stage change(s) recorded, 1 updated, 0 unchanged"
    assert stage_history(sessions, "D-1")["D-1"] == [
        ("Discovery", datetime(2026, 1, 5, 9, 30, tzinfo=UTC), 10000.0, 0.1),
        ("Negotiation", datetime(2026, 2, 10, tzinfo=UTC), 12500.0, 0.6),
    ]
    assert stage_history(sessions, "D-4")["D-4"][-1] == (
        "Negotiation",
        datetime(2026, 3, 1, 14, tzinfo=UTC),
        900.0,
        None,
    )
    before = counts(sessions)
    again = run_import(sessions, path, "stage_changes")
    assert again.summary() == "stage_changes: 0 stage change(s) recorded, 0 updated, 3 unchanged"
    assert counts(sessions) == before


def test_salesforce_opportunity_history_maps_onto_the_deals_of_the_opportunity_export(
    sessions: sessionmaker[Session], salesforce_deals: None
) -> None:
    result = run_import(sessions, HISTORY, "stage_changes", **SF)
    assert (result.created, result.updated, result.unchanged) == (3, 3, 0)
    assert result.stages_saved == 1  # Prospecting, a Salesforce default stage
    created = datetime(2024, 1, 22, 16, 14, 25, tzinfo=UTC)
    assert stage_history(sessions, "006Ec00000AieKFIAZ", "006Ec00000AieKIIAZ") == {
        "006Ec00000AieKFIAZ": [
            ("Prospecting", created, 900000.0, 0.1),
            ("Qualification", datetime(2024, 2, 14, 9, tzinfo=UTC), 1124741.15, 0.1),
        ],
        # Negotiation is in no stage map, but the deal import took it (with IsClosed/IsWon)
        "006Ec00000AieKIIAZ": [
            ("Qualification", created, 300000.0, 0.1),
            ("Negotiation", datetime(2024, 3, 5, 15, 30, tzinfo=UTC), 328515.27, 0.0),
        ],
    }
    with sessions() as session:
        assert session.scalar(select(Stage.probability).where(Stage.name == "Prospecting")) == 0.1
    before = counts(sessions)
    again = run_import(sessions, HISTORY, "stage_changes", **SF)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 6)
    assert counts(sessions) == before


def test_a_stage_only_deals_know_is_stored_as_the_deals_spell_it(
    sessions: sessionmaker[Session], salesforce_deals: None, tmp_path: Path
) -> None:
    text = fixture_text("OpportunityHistory.csv").replace(",Negotiation,", ",NEGOTIATION,")
    run_import(sessions, write(tmp_path, "OpportunityHistory.csv", text), "stage_changes", **SF)
    changes = stage_history(sessions, "006Ec00000AieKIIAZ")["006Ec00000AieKIIAZ"]
    assert [stage for stage, *_ in changes] == ["Qualification", "Negotiation"]


def replace(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


BAD_ROWS: list[tuple[str, str, str, dict[str, Any], str]] = [
    ("unknown-deal", "stage_changes.csv", "D-4,Negotiation", "D-9,Negotiation", {},
     "stage_changes.csv line 4, column deal_external_id: no deal with external_id 'D-9'; "
     "import deals first"),
    ("probability-out-of-range", "stage_changes.csv", ",0.6", ",150", {},
     "stage_changes.csv line 3, column probability: probability 150 is out of range; "
     "use 0-1 or 0-100"),
    ("time-out-of-range", "stage_changes.csv", "2026-02-10", "2300-02-10", {},
     "stage_changes.csv line 3, column entered_at: 2300-02-10T00:00:00 is out of range; "
     "use a time from 1970 to 2199"),
    ("bad-time", "stage_changes.csv", "2026-02-10", "soon", {},
     f"stage_changes.csv line 3, column entered_at: not a date: 'soon'; {DATE_HELP}"),
    ("negative-amount", "stage_changes.csv", "900,", "-900,", {},
     "stage_changes.csv line 4, column amount: negative amount -900; amounts must be 0 or more"),
    ("unknown-stage", "stage_changes.csv", "D-4,Negotiation", "D-4,Demo Done", {},
     "stage_changes.csv line 4, column stage: unknown stage 'Demo Done': it is in no stage map "
     "and no deal is in it; add the stage with `salesops import FILE --kind stage_changes "
     "--stage-map stages.csv` (columns stage,order,probability,outcome)"),
    ("duplicate", "stage_changes.csv", "D-4,Negotiation,2026-03-01 14:00",
     "D-1,Closed Won,2026-02-10", {},
     "stage_changes.csv line 4, column deal_external_id: duplicate deal and entered_at, "
     "also on line 3"),
    ("sf-unknown-opportunity", "OpportunityHistory.csv", ",006Ec00000AieKJIAZ,",
     ",006Ec00000NoSuchAA,", SF,
     "OpportunityHistory.csv line 6, column OpportunityId: no deal with external_id "
     "'006Ec00000NoSuchAA'; import deals first"),
    ("sf-probability-out-of-range", "OpportunityHistory.csv", ",2024-07-03,0,", ",2024-07-03,140,",
     SF, "OpportunityHistory.csv line 5, column Probability: probability 140 is out of range; "
     "use 0-1 or 0-100"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "old", "new", "options", "expected"),
    [case[1:] for case in BAD_ROWS],
    ids=[case[0] for case in BAD_ROWS],
)
def test_a_bad_stage_change_is_a_row_error_and_nothing_is_written(
    sessions: sessionmaker[Session],
    tmp_path: Path,
    name: str,
    old: str,
    new: str,
    options: dict[str, Any],
    expected: str,
) -> None:
    load_reps(sessions)
    if options:
        owners = FIXTURES / "sf_owners.csv"
        run_import(sessions, SALESFORCE / "Opportunity.csv", "deals", owners_file=owners, **SF)
    else:
        run_import(sessions, FIXTURES / "deals.csv", "deals", **NATIVE)
    path = write(tmp_path, name, replace(fixture_text(name), old, new))
    before = counts(sessions)
    with pytest.raises(ImportFailed) as failed:
        run_import(sessions, path, "stage_changes", **options)
    assert [str(e) for e in failed.value.errors] == [expected]
    assert counts(sessions) == before
