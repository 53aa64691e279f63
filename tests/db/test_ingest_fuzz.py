"""Fuzzing the ingest API: generated bodies never get a 5xx, and a refusal writes nothing.

Each field gets a plausible value (a known rep, a mapped stage, a time in range) or a hostile
one (out-of-range years with offsets, NaN, infinities, huge numbers, lone surrogates, NUL and
other control characters, strings longer than their column, wrong JSON types), so the
generated requests reach both the validation and the writes behind it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from salesops_core.db.models import Base
from tests.support.ingest_api import AUTH, STAGES, team_client

FUZZ = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

any_text = st.text(st.characters(exclude_categories=()), max_size=20)  # surrogates, NUL too
long_text = st.integers(1, 700).map(lambda n: "x" * n)
offsets = st.timedeltas(timedelta(hours=-23, minutes=-59), timedelta(hours=23, minutes=59))
hostile_moments = st.one_of(
    st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59)).map(datetime.isoformat),
    st.builds(
        lambda when, offset: when.replace(tzinfo=timezone(offset)).isoformat(),
        st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31, 23, 59)),
        offsets,
    ),
    st.sampled_from(["0001-01-01", "9999-12-31", "1970-01-01T00:00:00+01:00", "2026-13-01"]),
)
moments = st.datetimes(datetime(2026, 1, 1), datetime(2026, 12, 31)).map(datetime.isoformat)
numbers = st.one_of(
    st.floats(),  # NaN and infinities included
    st.integers(-(10**30), 10**30),
    st.sampled_from([1e16, 9_999_999_999_999_998, 1e308, -0.0, 0.005]),
)
junk = st.one_of(st.none(), st.booleans(), numbers, any_text, st.lists(st.integers(), max_size=2))


def field(
    plausible: st.SearchStrategy[Any], hostile: st.SearchStrategy[Any] = junk
) -> st.SearchStrategy[Any]:
    """Plausible about four times in five, else hostile (so whole bodies also get through)."""
    return rarely(st.one_of(hostile, long_text), plausible)


def rarely(odd: st.SearchStrategy[Any], usual: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """`odd` one time in five, else `usual`."""
    return st.integers(0, 4).flatmap(lambda n: odd if n == 4 else usual)


owners = field(st.sampled_from(["rep1@x.test", "Rep 2", "mgr@x.test", "ghost@x.test"]))
external_ids = field(st.sampled_from(["E-1", "E-2", "E-3"]))
stages = field(st.sampled_from([name for name, *_ in STAGES] + ["Unmapped"]))
words = field(st.sampled_from(["web", "Acme", "Widget", "best_case"]))
times = field(moments, st.one_of(hostile_moments, junk))
amounts = field(st.floats(0, 1e6), numbers)


def body(required: dict[str, Any], optional: dict[str, Any]) -> st.SearchStrategy[Any]:
    """A JSON object with the required keys (each sometimes dropped) and some optional ones."""
    keep_all: st.SearchStrategy[set[str]] = st.just(set())
    drop_one = st.sets(st.sampled_from(sorted(required)), max_size=1) if required else keep_all
    drop = rarely(drop_one, keep_all)
    fields = st.fixed_dictionaries(required, optional=optional)
    return st.builds(lambda f, d: {k: v for k, v in f.items() if k not in d}, fields, drop)


LEAD = body(
    {"external_id": external_ids},
    {"owner": owners, "source": words, "company": words, "created_at": times,
     "first_response_at": times, "colour": junk},
)  # fmt: skip
RESPONSE = body({}, {"owner": owners, "at": times})
DEAL = body(
    {"external_id": external_ids, "owner": owners, "stage": stages, "created_at": times},
    {"name": words, "account": words, "amount": amounts, "currency": field(st.just("usd")),
     "probability": field(st.floats(0, 100)), "expected_close": times, "closed_at": times,
     "outcome": field(st.sampled_from(["open", "won", "lost"])), "product": words,
     "forecast_category": words},
)  # fmt: skip
ACTIVITY = body(
    {"external_id": external_ids, "owner": owners, "started_at": times,
     "type": field(st.sampled_from(["call", "demo"]))},
    {"minutes": field(st.floats(0, 600), numbers), "deal_external_id": external_ids,
     "lead_external_id": external_ids, "external_attendee": field(st.booleans())},
)  # fmt: skip


@pytest.fixture
def api(engine, sessions, database_url):
    with team_client(engine, sessions, database_url) as client:
        yield client


def row_counts(sessions) -> dict[str, int]:
    """Rows in every table."""
    with sessions() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }


def post(api, sessions, path: str, payload: Any) -> None:
    """POST `payload`; never a 5xx, and a refused request changes no table."""
    before = row_counts(sessions)
    answer = api.post(
        path,
        content=json.dumps(payload).encode("utf-8", "surrogatepass"),
        headers={**AUTH, "Content-Type": "application/json"},
    )
    assert answer.status_code < 500, (payload, answer.text)
    if answer.status_code >= 400:
        assert answer.json()["detail"], answer.text
        assert row_counts(sessions) == before, (payload, answer.text)


@FUZZ
@given(payload=LEAD)
def test_fuzzed_leads_never_get_a_5xx_or_half_write(api, sessions, payload):
    post(api, sessions, "/api/v1/leads", payload)


@FUZZ
@given(lead=st.sampled_from(["E-1", "E-2"]), payload=RESPONSE)
def test_fuzzed_responses_never_get_a_5xx_or_half_write(api, sessions, lead, payload):
    created = {"external_id": lead, "created_at": "2026-06-01T09:00:00Z"}
    api.post("/api/v1/leads", json=created, headers=AUTH)
    post(api, sessions, f"/api/v1/leads/{lead}/response", payload)


@FUZZ
@given(payload=DEAL)
@example(payload={"external_id": "E-1", "owner": "rep1@x.test", "stage": "Discovery",
                  "created_at": "2026-01-01", "amount": float("nan")})  # fmt: skip
def test_fuzzed_deals_never_get_a_5xx_or_half_write(api, sessions, payload):
    post(api, sessions, "/api/v1/deals", payload)


@FUZZ
@given(payload=ACTIVITY)
@example(payload={"external_id": "E-1", "owner": "rep1@x.test", "type": "call",
                  "started_at": "9999-12-31T23:00:00-05:00"})  # fmt: skip
def test_fuzzed_activities_never_get_a_5xx_or_half_write(api, sessions, payload):
    post(api, sessions, "/api/v1/activities", payload)


@FUZZ
@given(
    raw=st.one_of(
        st.binary(max_size=40), any_text.map(lambda t: t.encode("utf-8", "surrogatepass"))
    )
)
def test_fuzzed_raw_bodies_never_get_a_5xx(api, sessions, raw):
    before = row_counts(sessions)
    answer = api.post(
        "/api/v1/deals", content=raw, headers={**AUTH, "Content-Type": "application/json"}
    )
    assert 400 <= answer.status_code < 500, answer.text
    assert row_counts(sessions) == before
