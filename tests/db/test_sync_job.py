"""The scheduler's sync job: every connected CRM synced once a run, nothing without one, and
the job registered only while `[sync] interval_minutes` is above 0."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import build_deps
from bot.jobs.scheduler import start_background
from bot.jobs.sync import run_syncs
from salesops_core.config import SyncConfig
from salesops_core.db.models import Deal, SyncRun
from tests.support.bot_harness import bot_settings
from tests.support.fake_salesforce import FakeSalesforce
from tests.support.https_server import ca_bundle
from tests.support.import_helpers import SALESFORCE
from tests.support.slack_server import FakeSlack


@pytest.fixture
def crm() -> Iterator[FakeSalesforce]:
    fake = FakeSalesforce().from_export(SALESFORCE).start()
    yield fake
    fake.stop()


def connected(crm: FakeSalesforce) -> dict[str, Any]:
    return {
        "salesforce_instance_url": crm.url,
        "salesforce_client_id": crm.client_id,
        "salesforce_client_secret": crm.client_secret,
        "requests_ca_bundle": str(ca_bundle()),
        "sync": SyncConfig(salesforce={"Task": {"type": "Type__c"}}),
    }


def test_the_job_syncs_each_connected_crm(
    crm: FakeSalesforce, database_url: str, sessions: sessionmaker[Session]
) -> None:
    deps = build_deps(bot_settings(database_url, "http://127.0.0.1:9/api/", **connected(crm)))
    reports = run_syncs(deps)
    assert [(r.source, r.status) for r in reports] == [("salesforce", "ok")]
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Deal)) == 50
        assert session.scalar(select(SyncRun.status)) == "ok"


def test_without_a_crm_the_job_does_nothing(
    database_url: str, sessions: sessionmaker[Session]
) -> None:
    assert run_syncs(build_deps(bot_settings(database_url, "http://127.0.0.1:9/api/"))) == []


@pytest.mark.parametrize(("minutes", "registered"), [(15, True), (0, False)])
def test_the_scheduler_runs_the_job_only_while_an_interval_is_set(
    database_url: str, fake_slack: FakeSlack, minutes: float, registered: bool
) -> None:
    settings = bot_settings(
        database_url, fake_slack.base_url, sync=SyncConfig(interval_minutes=minutes)
    )
    background = start_background(build_deps(settings), idle_seconds=0.05)
    try:
        job = background.scheduler.get_job("crm_sync")
        assert (job is not None) == registered
        if job is not None:
            assert job.trigger.interval.total_seconds() == minutes * 60
    finally:
        background.stop()
