"""The demo org: deterministic for a seed, realistic in shape, loadable from the CLI."""

from __future__ import annotations

import hashlib
import statistics
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from sqlalchemy import Engine, case, func, select, text
from sqlalchemy.orm import Session, aliased, sessionmaker
from typer.testing import CliRunner

from salesops_core.db.models import (
    Activity,
    ActivityType,
    Base,
    Deal,
    Lead,
    Quota,
    Rep,
    Role,
    Team,
)
from salesops_core.demo import DemoRefused, clock, demo_summary, load_demo
from tests.conftest import empty_all_tables

NOW = datetime(2026, 5, 14, 15, 30, tzinfo=UTC)  # mid-quarter (2026-Q2)
QUARTER_START = datetime(2026, 4, 1, tzinfo=UTC)


def _digest(engine: Engine) -> str:
    """A hash of every row of every table, in id order."""
    digest = hashlib.sha256()
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for row in connection.execute(select(table).order_by(*table.primary_key.columns)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def test_same_seed_and_now_give_identical_contents_and_another_seed_differs(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    load_demo(engine, now=NOW, scale=0.25, seed=11)
    first = _digest(engine)
    load_demo(engine, now=NOW, scale=0.25, seed=11)
    assert _digest(engine) == first
    load_demo(engine, now=NOW, scale=0.25, seed=12)
    assert _digest(engine) != first


def test_demo_refuses_to_replace_foreign_data_unless_fresh(
    engine: Engine, sessions: sessionmaker[Session]
) -> None:
    with sessions.begin() as session:
        session.add(Rep(name="Real Person", email="real@acme.test"))
    with pytest.raises(DemoRefused, match="--fresh"):
        load_demo(engine, now=NOW, scale=0.1)
    with sessions() as session:
        assert session.scalars(select(Rep.email)).all() == ["real@acme.test"]
    load_demo(engine, now=NOW, scale=0.1, fresh=True)
    with sessions() as session:
        assert session.scalar(select(func.count()).where(Rep.email == "real@acme.test")) == 0


def _facts(engine: Engine) -> dict:
    """Everything the shape tests assert, read right after a scale-1 load."""
    facts: dict = {}
    with Session(engine) as session:
        facts["summary"] = demo_summary(session, "test")
        facts["roles"] = dict(
            session.execute(select(Rep.role, func.count()).group_by(Rep.role)).all()
        )
        facts["teams_without_manager"] = session.scalar(
            select(func.count())
            .select_from(Team)
            .where(~select(Rep.id).where(Rep.team_id == Team.id, Rep.role == Role.MANAGER).exists())
        )
        manager = Rep.__table__.alias("manager")
        facts["reps_not_under_their_team_manager"] = session.scalar(
            select(func.count())
            .select_from(Rep)
            .outerjoin(manager, manager.c.id == Rep.manager_id)
            .where(Rep.role == Role.REP)
            .where((manager.c.team_id.is_(None)) | (manager.c.team_id != Rep.team_id))
        )
        facts["emails"] = session.scalars(select(Rep.email)).all()
        facts["slack_ids"] = session.scalars(select(Rep.slack_user_id)).all()
        facts["inactive_or_away"] = session.scalar(
            select(func.count()).where(Rep.active.is_(False) | Rep.away.is_(True))
        )
        facts["won_closed_before_created"] = session.scalar(
            select(func.count()).where(Deal.outcome == "won", Deal.closed_at < Deal.created_at)
        )
        facts["outcomes"] = dict(
            session.execute(select(Deal.outcome, func.count()).group_by(Deal.outcome)).all()
        )
        rates = session.scalars(
            select(func.avg(case((Deal.outcome == "won", 1.0), else_=0.0)))
            .where(Deal.outcome != "open")
            .group_by(Deal.owner_id)
        )
        facts["win_rates"] = list(rates)
        cycles = session.execute(
            select(Deal.created_at, Deal.closed_at).where(Deal.outcome == "won")
        ).all()
        facts["won_cycle_days"] = [(c - a).total_seconds() / 86400 for a, c in cycles]
        facts["stale_open"] = session.scalar(
            select(func.count()).where(Deal.outcome == "open", Deal.expected_close < NOW)
        )
        facts["history_out_of_order"] = session.scalar(
            text(
                "SELECT count(*) FROM (SELECT c.entered_at, s.sort_order,"
                " lag(c.entered_at) OVER w AS prev_at, lag(s.sort_order) OVER w AS prev_order"
                " FROM deal_stage_change c JOIN stage s ON s.name = c.stage"
                " WINDOW w AS (PARTITION BY c.deal_id ORDER BY c.id)) x"
                " WHERE x.entered_at < x.prev_at OR x.sort_order <= x.prev_order"
            )
        )
        facts["deals_whose_last_change_is_not_their_stage"] = session.scalar(
            text(
                "SELECT count(*) FROM deal d JOIN deal_stage_change c ON c.deal_id = d.id"
                " AND c.id = (SELECT max(id) FROM deal_stage_change WHERE deal_id = d.id)"
                " WHERE c.stage <> d.stage"
            )
        )
        leads = session.execute(select(Lead.created_at, Lead.first_response_at)).all()
        facts["response_minutes"] = [
            (r - c).total_seconds() / 60 for c, r in leads if r is not None
        ]
        facts["unanswered"] = sum(1 for _, r in leads if r is None)
        facts["sla_due_set"] = session.scalar(
            select(func.count()).where(Lead.sla_due_at.is_not(None))
        )
        facts["activity_types"] = set(session.scalars(select(Activity.type).distinct()))
        facts["prospect_meetings"] = session.scalar(
            select(func.count()).where(
                Activity.type.in_(["meeting", "demo"]), Activity.external_attendee.is_(True)
            )
        )
        facts["future_rows"] = session.scalar(
            select(func.count()).where(Activity.started_at > NOW)
        ) + session.scalar(select(func.count()).where(Lead.first_response_at > NOW))
        facts["deals_this_quarter"] = session.scalar(
            select(func.count()).where(Deal.closed_at >= QUARTER_START, Deal.closed_at < NOW)
        )
        facts["quotas_this_quarter"] = session.scalar(
            select(func.count()).where(Quota.period_start == QUARTER_START)
        )
        upcoming, before = aliased(Quota), aliased(Quota)
        facts["running_and_next_quarter_quotas"] = session.execute(
            select(Quota.amount, upcoming.amount)  # of active reps employed before the quarter
            .join(Rep, Rep.id == Quota.rep_id)
            .join(before, (before.rep_id == Quota.rep_id) & (before.period_end == QUARTER_START))
            .outerjoin(
                upcoming,
                (upcoming.rep_id == Quota.rep_id) & (upcoming.period_start == Quota.period_end),
            )
            .where(Rep.active.is_(True), Quota.period_start == QUARTER_START)
        ).all()
        facts["attainment"] = session.execute(
            text(
                "SELECT q.amount, (SELECT coalesce(sum(d.amount), 0) FROM deal d"
                " WHERE d.owner_id = q.rep_id AND d.outcome = 'won'"
                " AND d.closed_at >= q.period_start AND d.closed_at < q.period_end)"
                " FROM quota q WHERE q.period_end <= :start"
            ),
            {"start": QUARTER_START.replace(tzinfo=None)},
        ).all()
        session.add(Team(name="Added after the demo"))
        session.flush()
        facts["new_team_id"] = session.scalar(select(func.max(Team.id)))
        session.rollback()
    return facts


@pytest.fixture(scope="module")
def scale_one(engine: Engine) -> Iterator[dict]:
    """Facts about a scale-1 demo, loaded once per backend (read at once, so other tests
    emptying the tables later cannot change them)."""
    load_demo(engine, now=NOW, scale=1, seed=42, fresh=True)
    try:
        yield _facts(engine)
    finally:
        empty_all_tables(engine)


def test_scale_one_has_three_teams_two_regions_24_reps_3_managers_an_admin(scale_one) -> None:
    summary = scale_one["summary"]
    assert summary.counts["team"] == 3
    assert summary.regions == ["EMEA", "North America"]
    assert scale_one["roles"] == {Role.REP: 24, Role.MANAGER: 3, Role.ADMIN: 1}
    assert [p.role for p in summary.people] == ["admin", "manager", "rep"]


def test_every_team_has_a_manager_and_reps_report_to_their_team_manager(scale_one) -> None:
    assert scale_one["teams_without_manager"] == 0
    assert scale_one["reps_not_under_their_team_manager"] == 0


def test_reps_have_example_emails_demo_slack_ids_and_some_are_away_or_inactive(scale_one) -> None:
    assert all(email.endswith("@example.com") for email in scale_one["emails"])
    assert len(set(scale_one["emails"])) == len(scale_one["emails"])
    assert sorted(scale_one["slack_ids"])[:2] == ["U0DEMO001", "U0DEMO002"]
    assert 2 <= scale_one["inactive_or_away"] <= 4


def test_scale_one_volumes_are_in_the_expected_ranges(scale_one) -> None:
    counts = scale_one["summary"].counts
    assert 8_000 <= counts["deal"] <= 13_000
    assert 8_000 <= counts["lead"] <= 12_000
    assert 40_000 <= counts["activity"] <= 65_000
    assert 3 * counts["deal"] <= counts["deal_stage_change"] <= 5 * counts["deal"]
    assert counts["quota"] >= 24 * 8
    assert counts["forecast"] >= counts["quota"]


def test_deals_win_and_lose_with_plausible_rates_cycles_and_stale_pipeline(scale_one) -> None:
    assert scale_one["won_closed_before_created"] == 0
    outcomes = scale_one["outcomes"]
    assert outcomes["won"] > 0 and outcomes["lost"] > outcomes["won"] and outcomes["open"] > 0
    rates = scale_one["win_rates"]
    assert min(rates) >= 0.10 and max(rates) <= 0.45 and max(rates) - min(rates) > 0.08
    assert 30 <= statistics.median(scale_one["won_cycle_days"]) <= 120
    assert 0 < scale_one["stale_open"] < outcomes["open"]


def test_stage_history_moves_forward_in_time_and_ends_at_the_deal_stage(scale_one) -> None:
    assert scale_one["history_out_of_order"] == 0
    assert scale_one["deals_whose_last_change_is_not_their_stage"] == 0


def test_leads_are_mostly_answered_within_minutes_and_a_few_never(scale_one) -> None:
    minutes = scale_one["response_minutes"]
    share_unanswered = scale_one["unanswered"] / (len(minutes) + scale_one["unanswered"])
    assert 0.01 <= share_unanswered <= 0.06
    assert 1 <= statistics.median(minutes) <= 30
    assert sum(m > 120 for m in minutes) > 0.05 * len(minutes)  # a tail of hours
    assert scale_one["sla_due_set"] == 0  # the lead engine computes deadlines


def test_every_activity_type_occurs_and_nothing_happens_after_now(scale_one) -> None:
    assert scale_one["activity_types"] == {t.value for t in ActivityType}
    assert scale_one["prospect_meetings"] > 0
    assert scale_one["future_rows"] == 0


def test_this_quarter_has_closed_deals_and_quotas(scale_one) -> None:
    assert scale_one["deals_this_quarter"] > 0
    assert scale_one["quotas_this_quarter"] >= 20


def test_a_rep_still_employed_has_a_whole_quota_for_the_running_and_the_next_quarter(
    scale_one,
) -> None:
    quotas = scale_one["running_and_next_quarter_quotas"]
    assert len(quotas) >= 20
    assert all(running == upcoming for running, upcoming in quotas)  # not the elapsed share


def test_some_reps_beat_their_quota_and_most_miss(scale_one) -> None:
    beat = sum(won >= quota for quota, won in scale_one["attainment"])
    assert 0.05 * len(scale_one["attainment"]) < beat < 0.5 * len(scale_one["attainment"])


def test_rows_added_after_the_load_get_fresh_ids(scale_one) -> None:
    assert scale_one["new_team_id"] == 4


def test_cli_demo_fills_the_database_and_prints_a_summary(
    database_url: str,
    sessions: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path,
) -> None:
    from bot.cli.main import app  # the whole CLI, as `salesops` runs it

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    now = (datetime.now(UTC) - timedelta(days=1)).isoformat(timespec="seconds")
    result = CliRunner().invoke(app, ["demo", "--scale", "0.2", "--seed", "3", "--now", now])
    assert result.exit_code == 0, result.output
    assert "deal_stage_change" in result.output
    assert "U0DEMO001" in result.output and "Database:" in result.output
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Deal)) > 1000


def test_working_hours_helpers_respect_the_reps_time_zone_and_weekends() -> None:
    zones = ["America/New_York"]
    nine, five = np.array([540, 540]), np.array([1020, 1020])
    saturday_10 = datetime(2026, 3, 7, 10, 0, tzinfo=ZoneInfo(zones[0]))
    tuesday_10 = datetime(2026, 3, 10, 10, 0, tzinfo=ZoneInfo(zones[0]))
    moments = np.array([clock.epoch(saturday_10), clock.epoch(tuesday_10)])
    ready = clock.next_working_moment(moments, np.zeros(2, dtype=np.int64), zones, nine, five)
    as_local = [datetime.fromtimestamp(int(s), ZoneInfo(zones[0])) for s in ready]
    assert as_local[0] == datetime(2026, 3, 9, 9, 0, tzinfo=ZoneInfo(zones[0]))  # Monday 9:00
    assert as_local[1] == tuesday_10  # already inside working hours

    placed = clock.in_working_hours(
        moments, np.zeros(2, dtype=np.int64), zones, nine, five, np.random.default_rng(1)
    )
    for second in placed.tolist():
        local = datetime.fromtimestamp(second, ZoneInfo(zones[0]))
        assert local.isoweekday() <= 5 and 9 <= local.hour < 17


def test_fiscal_quarters_follow_the_fiscal_year_start_and_include_the_next_quarter() -> None:
    tz = ZoneInfo("Europe/Berlin")
    quarters = clock.quarter_starts(
        datetime(2026, 1, 15, tzinfo=UTC), datetime(2026, 6, 1, tzinfo=UTC), tz, 2
    )
    starts = [datetime.fromtimestamp(start, tz).date().isoformat() for start, _ in quarters]
    assert starts == ["2025-11-01", "2026-02-01", "2026-05-01", "2026-08-01"]
    assert all(end == next_start for (_, end), (next_start, _) in pairwise(quarters))
