"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

Set SALESOPS_TEST_POSTGRES_URL (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)
to run every database test on both backends.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import Base
from tests.support.slack_server import FakeSlack

POSTGRES_URL = os.environ.get("SALESOPS_TEST_POSTGRES_URL")


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def engine(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """A migrated engine per backend, shared by the session; tables are emptied per test."""
    if request.param == "postgres":
        if not POSTGRES_URL:
            pytest.skip("SALESOPS_TEST_POSTGRES_URL not set")
        url = POSTGRES_URL
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
    engine = make_engine(url)
    if request.param == "postgres":
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def database_url(engine: Engine) -> str:
    """The URL of the migrated test database (for CLI and server tests)."""
    return engine.url.render_as_string(hide_password=False)


@pytest.fixture
def sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """A session factory on an empty, migrated database."""
    yield make_session_factory(engine)
    empty_all_tables(engine)


@pytest.fixture
def session(sessions: sessionmaker[Session]) -> Iterator[Session]:
    """One open session; the test commits what it wants to persist."""
    with sessions() as session:
        yield session


def empty_all_tables(engine: Engine) -> None:
    """Delete every row, keeping the schema (fast enough to run after each test)."""
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in tables:
                connection.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    """A running local Slack-compatible Web API server (see tests/slack_server.py)."""
    with FakeSlack() as fake:
        yield fake
