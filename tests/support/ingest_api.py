"""The ingest API in a FastAPI TestClient, on the test database, with a known token."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.api import build_ingest_router
from bot.deps import Deps
from bot.settings import Settings
from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Outcome, Stage
from tests.support.lead_helpers import make_team

TOKEN = "s3cret-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# A stage map for API deals: the stages the tests post.
STAGES = (("Discovery", 1, 0.2, Outcome.OPEN), ("Proposal", 2, 0.5, Outcome.OPEN),
          ("S", 3, None, Outcome.OPEN), ("Closed Won", 4, 1.0, Outcome.WON))  # fmt: skip


def settings_for(database_url: str, **extra: Any) -> Settings:
    """Settings for the API under test: New York org time, a 5-minute SLA in clock time."""
    return Settings(
        database_url=database_url,
        ingest_token=TOKEN,
        org=OrgConfig(timezone="America/New_York"),
        sla=[SlaPolicy(source="*", first_response_minutes=5, business_hours=False)],
        **extra,
    )


@contextmanager
def ingest_client(
    engine: Engine, sessions: sessionmaker[Session], database_url: str
) -> Iterator[TestClient]:
    """A client for the /api/v1 routes alone (no Slack app)."""
    deps = Deps(settings=settings_for(database_url), engine=engine, sessions=sessions)
    app = FastAPI()
    app.include_router(build_ingest_router(deps), prefix="/api/v1")
    with TestClient(app) as client:
        yield client


@contextmanager
def team_client(
    engine: Engine, sessions: sessionmaker[Session], database_url: str
) -> Iterator[TestClient]:
    """`ingest_client` on a database with `add_team_and_stages`'s rows."""
    add_team_and_stages(sessions)
    with ingest_client(engine, sessions, database_url) as client:
        yield client


def add_team_and_stages(sessions: sessionmaker[Session]) -> None:
    """`make_team`'s reps and the `STAGES` stage map."""
    with sessions.begin() as session:
        make_team(session)
    add_stages(sessions)


def add_stages(sessions: sessionmaker[Session]) -> None:
    """Put `STAGES` in the stage table (the stage map API deals are checked against)."""
    with sessions.begin() as session:
        session.add_all(
            Stage(name=name, sort_order=order, probability=probability, outcome=outcome)
            for name, order, probability, outcome in STAGES
        )


def count(sessions: sessionmaker[Session], model: Any) -> int:
    """How many rows a table has."""
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0
