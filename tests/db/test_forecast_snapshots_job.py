"""The weekly snapshot job: due from Monday 06:00 in the org time zone, once a week, and
taken late by a scheduler that was down on Monday (the org: `tests/support/snapshot_org.py`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import Deps
from bot.jobs.snapshots import run_snapshots
from bot.settings import Settings
from salesops_core.config import OrgConfig
from salesops_core.db.models import ForecastSnapshot
from tests.support.kpi_fixture import at
from tests.support.snapshot_org import build_snapshot_org

NEW_YORK = OrgConfig(timezone="America/New_York")
MONDAY_6_NY = at(2026, 11, 9, 11)  # 06:00 EST


def snapshot_deps(engine: Engine, sessions: sessionmaker[Session]) -> Deps:
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    return Deps(
        settings=settings.model_copy(update={"org": NEW_YORK}), engine=engine, sessions=sessions
    )


def weeks_taken(sessions: sessionmaker[Session]) -> list[tuple[date, int]]:
    with sessions() as session:
        query = (
            select(ForecastSnapshot.week, func.count())
            .group_by(ForecastSnapshot.week)
            .order_by(ForecastSnapshot.week)
        )
        return [(week, n) for week, n in session.execute(query)]


def test_the_job_takes_the_week_at_six_on_monday_local_and_not_again_that_week(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        build_snapshot_org(session)
    deps = snapshot_deps(engine, sessions)
    assert run_snapshots(deps, at(2026, 11, 9, 10, 59)) is None  # 05:59 in New York
    assert weeks_taken(sessions) == []
    run = run_snapshots(deps, MONDAY_6_NY)
    assert run is not None and (run.week, run.taken, run.already_taken) == (date(2026, 11, 9), 4, 0)
    assert run_snapshots(deps, at(2026, 11, 10, 15)) is None  # Tuesday: already taken
    assert weeks_taken(sessions) == [(date(2026, 11, 9), 4)]


def test_a_scheduler_that_was_down_on_monday_takes_the_week_when_it_runs(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with sessions() as session:
        build_snapshot_org(session)
    deps = snapshot_deps(engine, sessions)
    thursday = at(2026, 11, 12, 14)
    run = run_snapshots(deps, thursday)
    assert run is not None and (run.week, run.taken) == (date(2026, 11, 9), 4)
    with sessions() as session:
        taken_at = set(session.scalars(select(ForecastSnapshot.taken_at)))
    assert {moment.astimezone(thursday.tzinfo) for moment in taken_at} == {thursday}
