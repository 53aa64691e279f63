"""Weekly forecast snapshots: taken, idempotent in a week, read back per week
(the org and its hand-worked numbers: `tests/support/snapshot_org.py`)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import ForecastSnapshot, ForecastSnapshotLine, Rep
from salesops_core.forecast.snapshots import (
    WeekTotals,
    snapshot_history,
    snapshot_week,
    take_past_snapshots,
    take_snapshots,
    weekly_moments,
)
from salesops_core.forecast.submissions import open_quarters
from salesops_core.org.scopes import ORG_SCOPE, Scope
from tests.support.kpi_fixture import at
from tests.support.snapshot_org import NEXT_MONDAY, NOW, ORG, Q1, Q4, build_snapshot_org


@pytest.fixture
def org(session: Session) -> dict[str, int]:
    return build_snapshot_org(session)


def snapshot_rows(session: Session) -> dict[tuple[int, str, date], tuple]:
    """(rep, quarter label, week) -> (commit, best case, submitted at, taken at, lines)."""
    labels = {Q4.start.date(): "2026-Q4", Q1.start.date(): "2027-Q1"}
    found = {}
    for row in session.scalars(select(ForecastSnapshot)):
        lines = sorted(
            (line.stage, line.deals, float(line.amount), float(line.weighted)) for line in row.lines
        )
        start = row.period_start.astimezone(UTC).date()
        found[(row.rep_id, labels[start], row.week)] = (
            None if row.commit_amount is None else float(row.commit_amount),
            None if row.best_case_amount is None else float(row.best_case_amount),
            None if row.submitted_at is None else row.submitted_at.astimezone(UTC),
            row.taken_at.astimezone(UTC),
            lines,
        )
    return found


ANN_LINES = [("Proposal", 2, 9000.0, 4500.0), ("Prospect", 2, 4000.0, 1000.0)]
BOB_LINES = [("Proposal", 1, 2000.0, 1000.0)]
WEEK = date(2026, 11, 2)


def test_a_snapshot_holds_each_reps_latest_commit_and_best_case_and_their_pipeline_by_stage(
    session: Session, org: dict[str, int]
) -> None:
    run = take_snapshots(session, ORG, NOW)
    session.commit()
    assert (run.week, [q.label for q in run.quarters]) == (WEEK, ["2026-Q4", "2027-Q1"])
    assert (run.reps, run.taken, run.already_taken) == (2, 4, 0)
    ann, bob = org["ann"], org["bob"]
    assert snapshot_rows(session) == {
        (ann, "2026-Q4", WEEK): (12_000.0, 20_000.0, at(2026, 10, 20), NOW, ANN_LINES),
        (ann, "2027-Q1", WEEK): (None, None, None, NOW, ANN_LINES),
        (bob, "2026-Q4", WEEK): (None, None, None, NOW, BOB_LINES),
        (bob, "2027-Q1", WEEK): (8_000.0, None, at(2026, 10, 30), NOW, BOB_LINES),
    }


def test_taking_it_again_the_same_week_adds_and_changes_nothing(
    session: Session, org: dict[str, int]
) -> None:
    take_snapshots(session, ORG, NOW)
    session.commit()
    before = snapshot_rows(session)
    later_that_week = at(2026, 11, 8, 23)  # after Ann's 15,000 and a7: still the same week
    run = take_snapshots(session, ORG, later_that_week)
    session.commit()
    assert (run.week, run.reps, run.taken, run.already_taken) == (WEEK, 2, 0, 4)
    assert snapshot_rows(session) == before
    assert session.scalar(select(func.count()).select_from(ForecastSnapshotLine)) == 6


def test_the_next_week_gets_its_own_rows_with_what_was_known_then(
    session: Session, org: dict[str, int]
) -> None:
    take_snapshots(session, ORG, NOW)
    run = take_snapshots(session, ORG, NEXT_MONDAY)
    session.commit()
    assert (run.week, run.taken, run.already_taken) == (date(2026, 11, 9), 4, 0)
    rows = snapshot_rows(session)
    ann_q4 = rows[(org["ann"], "2026-Q4", date(2026, 11, 9))]
    assert ann_q4 == (
        15_000.0,
        20_000.0,
        at(2026, 11, 5),
        NEXT_MONDAY,
        [("Proposal", 3, 10_000.0, 5000.0), ("Prospect", 2, 4000.0, 1000.0)],
    )
    assert rows[(org["ann"], "2026-Q4", WEEK)][0] == 12_000.0  # last week's stays as it was


def test_history_sums_a_teams_reps_per_week_and_lists_a_week_without_a_snapshot(
    session: Session, org: dict[str, int]
) -> None:
    take_snapshots(session, ORG, NOW)
    take_snapshots(session, ORG, NEXT_MONDAY)
    session.commit()
    east = Scope("team", org["east"], "East")
    rows = snapshot_history(session, east, Q4, date(2026, 11, 9), weeks=3)
    assert rows == [
        WeekTotals(date(2026, 10, 26), 0, None, None, None, None, None),
        WeekTotals(WEEK, 2, 12_000.0, 20_000.0, 15_000.0, 6_500.0, NOW),
        WeekTotals(date(2026, 11, 9), 2, 15_000.0, 20_000.0, 16_000.0, 7_000.0, NEXT_MONDAY),
    ]
    bob = Scope("rep", org["bob"], "Bob Baker")
    assert snapshot_history(session, bob, Q1, date(2026, 11, 2), weeks=1) == [
        WeekTotals(WEEK, 1, 8_000.0, None, 2_000.0, 1_000.0, NOW)
    ]


def test_the_orgs_history_sums_its_reps_and_lists_a_week_never_taken_empty(
    session: Session, org: dict[str, int]
) -> None:
    take_snapshots(session, ORG, NOW)
    session.commit()
    assert snapshot_history(session, ORG_SCOPE, Q4, WEEK, weeks=2) == [
        WeekTotals(date(2026, 10, 26), 0, None, None, None, None, None),
        WeekTotals(WEEK, 2, 12_000.0, 20_000.0, 15_000.0, 6_500.0, NOW),
    ]


def test_an_org_with_nobody_to_snapshot_takes_nothing(session: Session) -> None:
    session.add(Rep(name="Eve Empty", email="eve@example.com"))
    session.commit()
    run = take_snapshots(session, ORG, NOW)
    assert (run.reps, run.taken, run.already_taken) == (0, 0, 0)


def test_the_week_is_the_org_local_monday_and_quarters_follow_the_fiscal_year() -> None:
    pacific = OrgConfig(timezone="America/Los_Angeles", fiscal_year_start_month=2)
    sunday_evening_there = datetime(2026, 11, 9, 5, 0, tzinfo=UTC)  # Sun Nov 8, 21:00 PST
    assert snapshot_week(pacific, sunday_evening_there) == date(2026, 11, 2)
    assert snapshot_week(ORG, sunday_evening_there) == date(2026, 11, 9)
    # fiscal years from February: Nov 8 lies in FY2027-Q4 (Nov-Jan), then FY2028-Q1 (Feb-Apr)
    labels = [q.label for q in open_quarters(sunday_evening_there, pacific)]
    assert labels == ["2027-Q4", "2028-Q1"]


def test_past_weeks_are_taken_each_as_of_its_own_monday_six_oclock(
    session: Session, org: dict[str, int]
) -> None:
    runs = take_past_snapshots(session, ORG, at(2026, 10, 27), at(2026, 11, 9, 7))
    session.commit()
    assert [(run.week, run.taken) for run in runs] == [(WEEK, 4), (date(2026, 11, 9), 4)]
    east = Scope("team", org["east"], "East")
    assert snapshot_history(session, east, Q4, date(2026, 11, 9), weeks=2) == [
        WeekTotals(WEEK, 2, 12_000.0, 20_000.0, 15_000.0, 6_500.0, at(2026, 11, 2, 6)),
        WeekTotals(date(2026, 11, 9), 2, 15_000.0, 20_000.0, 16_000.0, 7_000.0, NEXT_MONDAY),
    ]
    again = take_past_snapshots(session, ORG, at(2026, 10, 27), at(2026, 11, 9, 7))
    assert [(run.taken, run.already_taken) for run in again] == [(0, 4), (0, 4)]


def test_the_weekly_moment_stays_six_local_across_a_dst_change() -> None:
    new_york = OrgConfig(timezone="America/New_York")  # clocks go back on Sun 2026-11-01
    moments = weekly_moments(new_york, at(2026, 10, 26, 4), at(2026, 11, 2, 11))
    assert moments == [at(2026, 10, 26, 10), at(2026, 11, 2, 11)]  # 06:00 EDT, 06:00 EST
