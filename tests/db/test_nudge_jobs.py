"""The scheduler's nudge job on both databases: due nudges into the outbox once per (rule,
subject, person, local day), held ones at the start of the next working period, and one
roll-up per manager per local day at their morning, across time zones and a DST change."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.jobs.nudges import run_nudges
from salesops_core.db.models import NudgeLog, Rep
from salesops_core.nudges.facts import RollupNotice, Rule
from salesops_core.outbox import NoticeKind, read_notice
from tests.support.nudge_org import make_nudge_org, nudge_deps, outbox_rows

TUESDAY_10_NY = datetime(2026, 11, 24, 15, 0, tzinfo=UTC)  # 16:00 in Berlin
TUESDAY_22_NY = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)  # 04:00 in Berlin


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def nudge_keys(sessions) -> list[str]:
    with sessions() as session:
        return [row.dedupe_key for row in outbox_rows(session, NoticeKind.NUDGE)]


def test_a_run_at_10_local_enqueues_each_reps_nudge_and_logs_it_under_the_same_key(
    engine, sessions
):
    with sessions.begin() as session:
        org = make_nudge_org(session, TUESDAY_10_NY)
    run = run_nudges(nudge_deps(engine, sessions), TUESDAY_10_NY)
    assert run is not None and run.nudges.sent == 2
    with sessions() as session:
        rows = outbox_rows(session, NoticeKind.NUDGE)
        assert {row.channel for row in rows} == {"U1", "U2"}
        keys = {row.dedupe_key for row in rows}
        assert keys == {
            f"nudge:{org.jane}:stale_deal:deal:OPP-1:2026-11-24",
            f"nudge:{org.kai}:stale_deal:deal:OPP-2:2026-11-24",
        }
        logged = {row.dedupe_key: row.id for row in session.scalars(select(NudgeLog))}
        assert set(logged) == keys  # a button finds its nudge's message through this key
        assert {row.payload["log_id"] for row in rows} == set(logged.values())


def test_a_second_run_at_the_same_moment_or_soon_after_enqueues_nothing(engine, sessions):
    with sessions.begin() as session:
        make_nudge_org(session, TUESDAY_10_NY)
    deps = nudge_deps(engine, sessions)
    run_nudges(deps, TUESDAY_10_NY)
    before = nudge_keys(sessions)
    again = run_nudges(deps, TUESDAY_10_NY)
    later = run_nudges(deps, TUESDAY_10_NY + timedelta(minutes=5))
    assert again is not None and later is not None
    assert (again.nudges.sent, later.nudges.sent) == (0, 0)
    assert (again.rollups.sent, later.rollups.sent) == (0, 0)
    assert nudge_keys(sessions) == before and len(before) == 2


def test_a_run_at_22_local_holds_and_each_rep_hears_at_their_next_mornings_first_run(
    engine, sessions
):
    with sessions.begin() as session:
        org = make_nudge_org(session, TUESDAY_10_NY)
    deps = nudge_deps(engine, sessions)
    night = run_nudges(deps, TUESDAY_22_NY)
    assert night is not None and night.nudges.sent == 0
    assert night.nudges.held == {"quiet hours": 2}
    assert nudge_keys(sessions) == []
    assert run_nudges(deps, utc(2026, 11, 25, 7, 59)).nudges.sent == 0  # 08:59 in Berlin
    assert run_nudges(deps, utc(2026, 11, 25, 8, 0)).nudges.sent == 1  # 09:00 in Berlin: Kai
    assert run_nudges(deps, utc(2026, 11, 25, 13, 59)).nudges.sent == 0  # 08:59 in New York
    assert run_nudges(deps, utc(2026, 11, 25, 14, 0)).nudges.sent == 1  # 09:00: Jane
    assert nudge_keys(sessions) == [
        f"nudge:{org.kai}:stale_deal:deal:OPP-2:2026-11-25",
        f"nudge:{org.jane}:stale_deal:deal:OPP-1:2026-11-25",
    ]


def test_two_schedulers_at_the_same_moment_enqueue_each_nudge_once(engine, sessions):
    with sessions.begin() as session:
        make_nudge_org(session, TUESDAY_10_NY)
    schedulers = [nudge_deps(engine, sessions), nudge_deps(engine, sessions)]
    barrier = threading.Barrier(2)
    sent: list[int] = []
    errors: list[Exception] = []

    def scheduler(deps) -> None:
        barrier.wait()
        for _ in range(3):
            try:
                run = run_nudges(deps, TUESDAY_10_NY)
            except Exception as exc:  # SQLite may refuse a stale writer: that run sends nothing
                errors.append(exc)
                continue
            if run is not None:  # None: the other scheduler held the lock (PostgreSQL)
                sent.append(run.nudges.sent + run.rollups.sent)

    threads = [threading.Thread(target=scheduler, args=(deps,)) for deps in schedulers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(sent) == 3  # Jane's and Kai's nudges, Mia's roll-up
    assert all("locked" in str(error) for error in errors)
    with sessions() as session:
        assert len(outbox_rows(session, NoticeKind.NUDGE)) == 2
        assert len(outbox_rows(session, NoticeKind.NUDGE_ROLLUP)) == 1
        assert session.scalar(select(func.count()).select_from(NudgeLog)) == 2


def test_rollup_goes_once_per_manager_per_day_at_their_morning_across_zones_and_dst(
    engine, sessions
):
    friday = utc(2027, 3, 12)  # New York moves to EDT on Sunday 14 March; Berlin on the 28th
    with sessions.begin() as session:
        org = make_nudge_org(session, friday)
        session.get(Rep, org.mia).workdays = "1234567"  # Mia works weekends too
    deps = nudge_deps(engine, sessions)
    for hour in range(4 * 24):
        run_nudges(deps, friday + timedelta(hours=hour))
    with sessions() as session:
        rollups = outbox_rows(session, NoticeKind.NUDGE_ROLLUP)
        nudges = outbox_rows(session, NoticeKind.NUDGE)
    sent = [(row.channel, row.created_at) for row in rollups]
    assert sent == [
        ("M2", utc(2027, 3, 12, 8)),  # Friday 09:00 CET
        ("M1", utc(2027, 3, 12, 14)),  # Friday 09:00 EST
        ("M1", utc(2027, 3, 13, 14)),  # Saturday 09:00 EST
        ("M1", utc(2027, 3, 14, 13)),  # Sunday 09:00 EDT, the day the clocks change
        ("M2", utc(2027, 3, 15, 8)),  # Monday 09:00 CET
        ("M1", utc(2027, 3, 15, 13)),  # Monday 09:00 EDT
    ]
    assert [row.dedupe_key for row in rollups][:2] == [
        f"nudge_rollup:{org.max}:2027-03-12",
        f"nudge_rollup:{org.mia}:2027-03-12",
    ]
    assert {row.channel for row in nudges} == {"U1", "U2"}  # no copies for the managers


def test_rollup_counts_the_teams_open_nudges_per_rule_with_the_top_items(engine, sessions):
    with sessions.begin() as session:
        org = make_nudge_org(session, TUESDAY_10_NY)
    run_nudges(nudge_deps(engine, sessions), TUESDAY_10_NY)
    with sessions() as session:
        [row] = outbox_rows(session, NoticeKind.NUDGE_ROLLUP)
    rollup = read_notice(RollupNotice, row.payload)
    assert (rollup.manager_id, rollup.team, rollup.day) == (org.mia, "East", "2026-11-24")
    [line] = rollup.lines
    assert (line.rule, line.count) == (Rule.STALE_DEAL, 1)
    assert [n.fact for n in line.top] == ["Acme renewal ($48,000) has had no activity for 40 days"]


def test_no_rollup_outside_the_morning_or_on_a_day_off(engine, sessions):
    with sessions.begin() as session:
        make_nudge_org(session, TUESDAY_10_NY)
    deps = nudge_deps(engine, sessions)
    afternoon = run_nudges(deps, utc(2026, 11, 24, 19))  # 14:00 in New York, 20:00 in Berlin
    saturday = run_nudges(deps, utc(2026, 11, 28, 14))  # 09:00 in New York, a day off
    assert afternoon is not None and saturday is not None
    assert (afternoon.rollups.sent, saturday.rollups.sent) == (0, 0)
