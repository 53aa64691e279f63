"""An ingest request whose database connection drops is retried once, never answered 500.

The drop is real: on Postgres the backend is terminated (`pg_terminate_backend`) just before
the statement runs; on SQLite the connection is closed under it. Either way SQLAlchemy sees
a disconnect and the pool throws the connection away.
"""

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import psycopg
import pytest
from sqlalchemy import Engine, event, select

from salesops_core.db.models import Activity, Deal, Lead, Outbox
from tests.support.bot_harness import start_bot
from tests.support.ingest_api import (
    AUTH,
    TOKEN,
    add_team_and_stages,
    count,
    ingest_client,
)
from tests.support.lead_helpers import make_team


def libpq_url(engine: Engine) -> str:
    return engine.url.set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def connection_dropped_before(engine: Engine, prefix: str, times: int = 1) -> Iterator[list]:
    """Drop the connection under the first `times` statements that start with `prefix`."""
    dropped: list[str] = []

    def drop(connection, cursor, statement, parameters, context, executemany):
        if len(dropped) >= times or not statement.lstrip().upper().startswith(prefix):
            return
        dropped.append(statement)
        raw = connection.connection.dbapi_connection
        if engine.dialect.name == "postgresql":
            with psycopg.connect(libpq_url(engine), autocommit=True) as side:
                side.execute("SELECT pg_terminate_backend(%s, 5000)", (raw.info.backend_pid,))
        else:
            raw.close()

    event.listen(engine, "before_cursor_execute", drop)
    try:
        yield dropped
    finally:
        event.remove(engine, "before_cursor_execute", drop)


@pytest.fixture
def api(engine, sessions, database_url):
    with ingest_client(engine, sessions, database_url) as client:  # server errors raise here
        yield client


@pytest.fixture
def team(sessions):
    add_team_and_stages(sessions)


DEAL = {
    "external_id": "D-1",
    "owner": "rep1@x.test",
    "stage": "Discovery",
    "created_at": "2026-11-02T10:00:00Z",
}
ACTIVITY = {
    "external_id": "A-1",
    "owner": "rep1@x.test",
    "type": "call",
    "started_at": "2026-11-20T15:00:00Z",
}


@pytest.mark.parametrize(
    ("path", "body", "table", "model"),
    [
        ("/api/v1/leads", {"external_id": "W-1"}, "LEAD", Lead),
        ("/api/v1/deals", DEAL, "DEAL", Deal),
        ("/api/v1/activities", ACTIVITY, "ACTIVITY", Activity),
        ("/api/v1/deals/batch", {"records": [DEAL, {**DEAL, "external_id": "D-2"}]}, "DEAL", Deal),
    ],
    ids=["lead", "deal", "activity", "deal-batch"],
)
def test_a_dropped_connection_is_retried_once_and_writes_each_row_once(
    api, engine, sessions, team, path, body, table, model
):
    with connection_dropped_before(engine, f"INSERT INTO {table} ") as dropped:
        answer = api.post(path, json=body, headers=AUTH)
    assert dropped, "the connection was never dropped"
    assert answer.status_code in (200, 201), answer.text
    expected = len(body.get("records", [body]))
    assert count(sessions, model) == expected
    with sessions() as session:
        ids = list(session.scalars(select(model.external_id)))
    assert len(ids) == len(set(ids)) == expected


def test_a_retried_lead_dms_its_owner_once(api, engine, sessions, team):
    with connection_dropped_before(engine, "INSERT INTO OUTBOX ") as dropped:
        answer = api.post("/api/v1/leads", json={"external_id": "W-1"}, headers=AUTH)
    assert dropped and answer.status_code == 201, answer.text
    assert (count(sessions, Lead), count(sessions, Outbox)) == (1, 1)


def test_a_connection_that_drops_again_is_503_and_writes_nothing(api, engine, sessions, team):
    with connection_dropped_before(engine, "INSERT INTO LEAD ", times=2) as dropped:
        answer = api.post("/api/v1/leads", json={"external_id": "W-1"}, headers=AUTH)
    assert len(dropped) == 2
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "5"
    assert "Send the request again later" in answer.json()["detail"]
    assert count(sessions, Lead) == 0


@pytest.mark.parametrize("engine", ["postgres"], indirect=True)
def test_backends_terminated_under_load_give_no_5xx_and_no_duplicates(
    engine, sessions, database_url
):
    with sessions.begin() as session:
        make_team(session, reps=3)
    bot = start_bot(database_url, "http://127.0.0.1:9/api/", ingest_token=TOKEN)
    stop = threading.Event()
    terminated: list[int] = []

    def terminate_backends() -> None:
        # one backend in the middle of a transaction at a time, spaced so that a request's
        # retry (on a fresh connection) is not terminated too
        with psycopg.connect(libpq_url(engine), autocommit=True) as side:
            while not stop.is_set() and len(terminated) < 10:
                row = side.execute(
                    "SELECT pid, pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND state = 'idle in transaction' LIMIT 1"
                ).fetchone()
                if row is not None and row[1]:
                    terminated.append(row[0])
                    stop.wait(0.5)
                else:
                    stop.wait(0.005)

    statuses: list[int] = []

    def post_leads(worker: int) -> None:
        with httpx.Client(base_url=bot.url, headers=AUTH, timeout=30) as http:
            for n in range(40):
                # with an owner: no round-robin, whose row lock would make the retries
                # queue behind each other long enough to be terminated too
                body = {"external_id": f"W-{worker}-{n}", "owner": f"rep{worker % 3 + 1}@x.test"}
                statuses.append(http.post("/api/v1/leads", json=body).status_code)

    killer = threading.Thread(target=terminate_backends)
    posters = [threading.Thread(target=post_leads, args=(w,)) for w in range(4)]
    try:
        killer.start()
        for thread in posters:
            thread.start()
        for thread in posters:
            thread.join()
    finally:
        stop.set()
        killer.join()
        bot.stop()
    assert terminated, "no backend was terminated: the test proved nothing"
    assert sorted(set(statuses)) == [201]
    assert (count(sessions, Lead), count(sessions, Outbox)) == (160, 160)
