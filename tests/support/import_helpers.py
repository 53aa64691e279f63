"""Helpers shared by the import tests: run an import in a transaction, count rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.models import (
    Activity,
    Deal,
    DealStageChange,
    Forecast,
    Lead,
    Quota,
    Rep,
    Stage,
    Team,
)
from salesops_core.importers.loader import import_file
from salesops_core.importers.options import ImportOptions
from salesops_core.importers.report import ImportResult

FIXTURES = Path(__file__).parents[1] / "fixtures" / "import"
SALESFORCE = Path(__file__).parents[3] / "shared" / "data" / "salesforce-export-sample"
if not SALESFORCE.is_dir():  # the checkout lives in /work/main, the data in /work/shared
    SALESFORCE = Path("/work/shared/data/salesforce-export-sample")
TABLES = (Team, Rep, Stage, Deal, DealStageChange, Lead, Activity, Quota, Forecast)


def run_import(
    sessions: sessionmaker[Session], path: Path, kind: str, **options: Any
) -> ImportResult:
    """Import one file in its own transaction (committed when it succeeds)."""
    options.setdefault("tz", ZoneInfo("UTC"))
    with sessions.begin() as session:
        return import_file(session, path, ImportOptions(kind=kind, **options))


def counts(sessions: sessionmaker[Session]) -> dict[str, int]:
    """Rows per table the importer writes to."""
    with sessions() as session:
        return {
            model.__tablename__: session.scalar(select(func.count()).select_from(model)) or 0
            for model in TABLES
        }


def load_reps(sessions: sessionmaker[Session]) -> ImportResult:
    """The fixture's reps, teams and managers."""
    return run_import(sessions, FIXTURES / "reps.csv", "reps")


def stage_history(sessions: sessionmaker[Session], *external_ids: str) -> dict[str, list[tuple]]:
    """Each deal's recorded changes (of these deals; of all without any), in the order they
    were recorded: (stage, entered_at, amount, probability)."""
    query = (
        select(
            Deal.external_id,
            DealStageChange.stage,
            DealStageChange.entered_at,
            DealStageChange.amount,
            DealStageChange.probability,
        )
        .join(Deal, Deal.id == DealStageChange.deal_id)
        .order_by(Deal.external_id, DealStageChange.entered_at, DealStageChange.id)
    )
    if external_ids:
        query = query.where(Deal.external_id.in_(external_ids))
    history: dict[str, list[tuple]] = {}
    with sessions() as session:
        for external_id, *change in session.execute(query):
            history.setdefault(external_id, []).append(tuple(change))
    return history


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    """Write a CSV under tmp_path exactly as given (no newline translation)."""
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def fixture_text(name: str) -> str:
    """A fixture's text."""
    return (FIXTURES / name).read_text(encoding="utf-8")
