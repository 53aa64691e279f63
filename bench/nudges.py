"""Benchmark: evaluate every nudge rule for the whole demo org, vs a naive pandas reference.

    python bench/nudges.py --database-url sqlite:////work/bench-data/demo-100.db
    python bench/nudges.py --database-url postgresql+psycopg://postgres@127.0.0.1/so_n1 --scale 10

Builds the demo org (`--scale`, 100 = about 2,400 reps, 1M deals, 5M activities) when the
database holds no reps, then times (median of --runs warm runs) `nudges.service.evaluate`:
every rule and the noise-control decisions for everyone. Reports peak RSS after the timed runs
(before the reference runs; a run that built the demo includes the build). The reference loads
the deal and activity tables into pandas (load included in its time) and computes two rules
the straightforward way: each person's three biggest quiet deals (stale_deal) and their count
of deals past expected close (past_close). Prints times and the ratio; exits 1 if the two
disagree or the targets (5 s, 1 GB) are missed.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import func, select

from salesops_core.config import NudgeConfig, NudgeRule, OrgConfig
from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import Activity, Rep
from salesops_core.demo import load_demo
from salesops_core.nudges.service import Evaluation, evaluate

TARGET_SECONDS = 5.0
TARGET_RSS_MB = 1024.0


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def engine_findings(evaluation: Evaluation) -> tuple[set[tuple[int, str]], dict[int, int]]:
    """(person, deal external id) of every stale_deal nudge; past_close count per person."""
    stale = {
        (d.nudge.rep_id, str(d.nudge.deal_external_id))
        for d in evaluation.decisions
        if d.nudge.rule == NudgeRule.STALE_DEAL
    }
    past = {
        d.nudge.rep_id: int(d.nudge.value or 0)
        for d in evaluation.decisions
        if d.nudge.rule == NudgeRule.PAST_CLOSE
    }
    return stale, past


def pandas_findings(
    connection: Any, now: datetime, stale_days: float, per_person: int
) -> tuple[set[tuple[int, str]], dict[int, int]]:
    """The same two rules over whole tables loaded into pandas."""
    naive_now = pd.Timestamp(now.replace(tzinfo=None))
    people = pd.read_sql("SELECT id FROM rep WHERE active AND NOT away", connection)
    deal = pd.read_sql(
        "SELECT id, external_id, owner_id, amount, created_at, closed_at, expected_close "
        f"FROM deal WHERE closed_at IS NULL OR closed_at >= '{naive_now:%Y-%m-%d %H:%M:%S}'",
        connection,
        parse_dates=["created_at", "closed_at", "expected_close"],
    )
    activity = pd.read_sql(
        "SELECT deal_id, started_at FROM activity WHERE deal_id IS NOT NULL",
        connection,
        parse_dates=["started_at"],
    )
    deal = deal[(deal.created_at < naive_now) & deal.owner_id.isin(people.id)]
    last = activity[activity.started_at < naive_now].groupby("deal_id").started_at.max()
    touched = deal.id.map(last).fillna(deal.created_at)
    deal = deal.assign(
        quiet=touched < naive_now - pd.Timedelta(days=stale_days),
        past=deal.expected_close < naive_now,
        size=deal.amount.fillna(0.0),
    )
    quiet = deal[deal.quiet].sort_values(["owner_id", "size", "id"], ascending=[True, False, True])
    top = quiet.groupby("owner_id").head(per_person)
    stale = {(int(o), str(e)) for o, e in zip(top.owner_id, top.external_id, strict=True)}
    past = deal[deal.past].groupby("owner_id").size()
    return stale, {int(owner): int(n) for owner, n in past.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="sqlite:///bench-nudges.db")
    parser.add_argument("--scale", type=float, default=10.0, help="demo size when building")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--now", help="ISO time (default: the latest activity, the demo's now)")
    parser.add_argument("--timezone", default="America/New_York", help="the org's time zone")
    args = parser.parse_args()

    engine = make_engine(args.database_url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions() as session:
        reps = session.scalar(select(func.count()).select_from(Rep)) or 0
    built = not reps
    if built:
        build_now = datetime.fromisoformat(args.now) if args.now else datetime.now(UTC)
        print(f"building the demo org at scale {args.scale:g} ...", flush=True)
        load_demo(engine, now=build_now, scale=args.scale, timezone=args.timezone)
    with sessions() as session:
        latest = session.scalar(select(func.max(Activity.started_at)))
        reps = session.scalar(select(func.count()).select_from(Rep)) or 0
    now = datetime.fromisoformat(args.now).astimezone(UTC) if args.now else latest
    assert now is not None
    org = OrgConfig(timezone=args.timezone)
    config = NudgeConfig()

    def run_engine() -> Evaluation:
        with sessions() as session:
            return evaluate(session, config, org, now)

    def run_pandas() -> tuple[set[tuple[int, str]], dict[int, int]]:
        with engine.connect() as connection:
            return pandas_findings(
                connection, now, config.stale_days(org), config.stale_deals_per_person
            )

    engine_seconds, evaluation = median_time(run_engine, args.runs)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the reference
    pandas_seconds, reference = median_time(run_pandas, max(1, args.runs // 2))
    agree = engine_findings(evaluation) == reference
    due = sum(1 for d in evaluation.decisions if d.held is None)

    print(f"{engine.dialect.name}, {reps:,} people, now {now:%Y-%m-%d %H:%M} UTC")
    print(f"{'':34}{'median s':>10}{'ratio':>8}")
    print(f"{'evaluate (every rule, decided)':34}{engine_seconds:>10.3f}{1.0:>8.2f}")
    print(f"{'pandas reference (two rules)':34}{pandas_seconds:>10.3f}"
          f"{pandas_seconds / engine_seconds:>8.2f}")  # fmt: skip
    print(f"nudges found {len(evaluation.decisions):,}, due now {due:,}")
    note = " (includes building the demo: run again for the evaluation alone)" if built else ""
    print(f"peak RSS after the evaluations {peak_mb:,.0f} MB{note}")
    print(f"stale_deal and past_close agree with the reference: {'yes' if agree else 'NO'}")
    ok = agree and engine_seconds < TARGET_SECONDS and (built or peak_mb < TARGET_RSS_MB)
    if not ok:
        print(f"FAILED: targets are < {TARGET_SECONDS:g} s and < {TARGET_RSS_MB:g} MB, agreeing")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
