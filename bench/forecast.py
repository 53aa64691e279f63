"""Benchmark: the history-based forecast for the whole demo org, against a KPI report's time.

    python bench/forecast.py                     # demo --scale 1, 10 and 100
    python bench/forecast.py --scale 100 --runs 5
    python bench/forecast.py --scale 10 --database-url postgresql+psycopg://postgres@127.0.0.1/so_bench

For each scale, builds the demo org once into /work/bench-data/forecast-<scale>.db (or
--database-url; a pinned "now", as bench/digest.py does), then times (median of --runs warm
runs) the model's forecast (`forecast.model.forecast`) for the whole org
- for the running quarter at the demo's now, and
- for the last closed quarter at its start (what the backtest computes per period),
with, as the reference in the same process, the KPI report for the same scope, period and
moment (`kpi.engine.compute_report`, what `salesops kpi` runs), so each time reads as a ratio;
also the weighted-pipeline baseline. Peak memory: tracemalloc over one extra (untimed) run of
each, and the process's peak RSS.

Checks, exiting 1 on any disagreement:
- the model's open_expected is the sum over its deals of amount x probability, its expected is
  won so far + open_expected + new_expected, and its per-rep figures add up to expected;
- its deals are exactly the deals open at that moment, with the amounts they had then, and its
  won so far is the won amount since the period start, both from a pandas reading of the raw
  tables (deals open at T, their stage and amount as of T from deal_stage_change: bench/kpis.py's
  `as_of`, the pandas reference of `kpi.asof`);
- the weighted-pipeline baseline is won so far + sum of amount x probability as of T over those
  deals (probability: the deal's own while it is still in that stage, else the stage map's).
Target: the whole org at scale 100 under 5 s.
"""

from __future__ import annotations

import argparse
import math
import resource
import sys
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import and_, or_, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.digest import DEMO_NOW, build_once
from bench.kpis import as_of, median_time
from salesops_core.config import OrgConfig
from salesops_core.db.engine import make_engine, make_session_factory
from salesops_core.db.models import Deal, DealStageChange, Outcome, Stage
from salesops_core.forecast.baselines import weighted_pipeline
from salesops_core.forecast.model import ModelForecast, forecast
from salesops_core.kpi.engine import compute_report
from salesops_core.kpi.format import money
from salesops_core.org.scopes import ORG_SCOPE
from salesops_core.periods import Period, quarter_containing

TARGET_SECONDS = 5.0  # the whole org at scale 100


@dataclass(frozen=True)
class Case:
    """A forecast to time: the period and the moment it is made at."""

    name: str
    period: Period
    at: datetime


def traced_peak_mb(fn: Callable[[], Any]) -> float:
    """Peak traced memory (Python objects and numpy buffers) of one call, in MB."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def _utc(moment: datetime) -> pd.Timestamp:
    return pd.Timestamp(moment.astimezone(UTC))


def reference_state(connection: Any, period: Period, at: datetime) -> dict[str, Any]:
    """From the raw tables with pandas: the deals open at `at` with their amount and
    probability as of then, and the amount won in [period.start, at)."""
    open_at = and_(Deal.created_at < at, or_(Deal.closed_at.is_(None), Deal.closed_at >= at))
    deal = pd.read_sql(
        select(
            Deal.id,
            Deal.owner_id,
            Deal.amount,
            Deal.outcome,
            Deal.stage,
            Deal.probability,
            Deal.created_at,
            Deal.closed_at,
        ).where(open_at),
        connection,
    )
    deal["outcome"] = deal.outcome.map(lambda v: getattr(v, "value", v))
    changes = pd.read_sql(
        select(
            DealStageChange.id,
            DealStageChange.deal_id,
            DealStageChange.stage,
            DealStageChange.entered_at,
            DealStageChange.amount,
            DealStageChange.probability,
        )
        .join(Deal, Deal.id == DealStageChange.deal_id)
        .where(open_at),
        connection,
        parse_dates=["entered_at"],
    )
    stage = pd.read_sql(
        select(Stage.name, Stage.probability.label("stage_probability"), Stage.outcome),
        connection,
    )
    stage["outcome"] = stage.outcome.map(lambda v: getattr(v, "value", v))
    open_ = deal.merge(stage, how="left", left_on="stage", right_on="name", suffixes=("", "_s"))
    open_ = open_.rename(columns={"outcome_s": "stage_outcome"})
    amount, probability = as_of(open_, changes, stage, _utc(at))
    won = pd.read_sql(
        select(Deal.amount).where(
            Deal.outcome == Outcome.WON, Deal.closed_at >= period.start, Deal.closed_at < at
        ),
        connection,
    )
    return {
        "deals": pd.DataFrame({"amount": amount.to_numpy(float)}, index=open_.id.to_numpy()),
        "weighted": float((amount * probability).sum()),
        "won_so_far": float(won.amount.sum()),
    }


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.01)


def check(name: str, model: ModelForecast, weighted: float, ref: dict[str, Any]) -> list[str]:
    """Where the model or the weighted baseline disagree with the arithmetic or the reference."""
    problems = []
    amounts = np.array([d.amount for d in model.deals], dtype=float)
    probabilities = np.array([d.probability for d in model.deals], dtype=float)
    own_sum = float((amounts * probabilities).sum())
    if not _same(model.open_expected, own_sum):
        problems.append(f"{name}: open_expected {model.open_expected} vs deals' sum {own_sum}")
    parts = (model.won_so_far, model.open_expected, model.new_expected)
    if model.expected is None or any(p is None for p in parts):
        problems.append(f"{name}: the model learned nothing ({model.training.reason})")
    else:
        total = sum(p for p in parts if p is not None)
        if not _same(model.expected, total):
            problems.append(f"{name}: expected {model.expected} vs its parts' sum {total}")
        if not _same(sum(model.per_rep.values()), model.expected):
            problems.append(f"{name}: per-rep sum {sum(model.per_rep.values())} vs expected")
    if not _same(model.won_so_far, ref["won_so_far"]):
        problems.append(f"{name}: won so far {model.won_so_far} vs pandas {ref['won_so_far']}")
    ours = pd.Series(amounts, index=[d.deal_id for d in model.deals]).sort_index()
    theirs = ref["deals"]["amount"].sort_index()
    if not ours.index.equals(theirs.index):
        missing, extra = theirs.index.difference(ours.index), ours.index.difference(theirs.index)
        problems.append(
            f"{name}: open deals differ: {len(missing)} missing (e.g. {list(missing[:3])}), "
            f"{len(extra)} extra (e.g. {list(extra[:3])})"
        )
    elif not np.allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-9, atol=0.01):
        bad = ours.index[~np.isclose(ours.to_numpy(), theirs.to_numpy(), atol=0.01)]
        problems.append(f"{name}: {len(bad)} deals' amounts as of T differ (e.g. {list(bad[:3])})")
    reference_weighted = ref["won_so_far"] + ref["weighted"]
    if not _same(weighted, reference_weighted):
        problems.append(f"{name}: weighted pipeline {weighted} vs pandas {reference_weighted}")
    return problems


def bench_scale(
    scale: float, url: str | None, runs: int, simulations: int
) -> tuple[list[tuple], list[str]]:
    """Build (once) and time one scale; its table rows and problems."""
    if url is None:
        folder = Path("/work/bench-data")
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / f'forecast-{scale:g}.db'}"
    build_once(url, scale)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    org = OrgConfig(timezone="UTC")
    running = quarter_containing(DEMO_NOW.date(), org.tz)
    closed = running.previous()
    cases = (
        Case(f"{running.label} running, at {DEMO_NOW:%m-%d}", running, DEMO_NOW),
        Case(f"{closed.label} closed, at its start", closed, closed.start),
    )
    rows, problems = [], []
    for case in cases:

        def run_model(case: Case = case) -> ModelForecast:
            with sessions() as session:
                return forecast(session, ORG_SCOPE, case.period, case.at, simulations=simulations)

        def run_report(case: Case = case) -> Any:
            with sessions() as session:
                return compute_report(session, ORG_SCOPE, case.period, org, (), now=case.at)

        def run_weighted(case: Case = case) -> float:
            with sessions() as session:
                return weighted_pipeline(session, ORG_SCOPE, case.period, case.at)

        model_s, model = median_time(run_model, runs)
        report_s, _ = median_time(run_report, runs)
        weighted_s, weighted = median_time(run_weighted, runs)
        model_mb, report_mb = traced_peak_mb(run_model), traced_peak_mb(run_report)
        with engine.connect() as connection:
            ref = reference_state(connection, case.period, case.at)
        problems += check(f"scale {scale:g} {case.name}", model, weighted, ref)
        rows.append(
            (scale, case.name, len(model.deals), model_s, report_s, weighted_s, model_mb,
             report_mb, model.training.sample_share, model)
        )  # fmt: skip
    engine.dispose()
    return rows, problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, action="append", help="default: 1, 10 and 100")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per figure (median)")
    parser.add_argument("--simulations", type=int, default=4000)
    parser.add_argument(
        "--database-url", help="one --scale only; default sqlite:////work/bench-data/forecast-N.db"
    )
    args = parser.parse_args()
    scales = args.scale or [1, 10, 100]
    if args.database_url and len(scales) != 1:
        parser.error("--database-url takes exactly one --scale")
    rows, problems = [], []
    for scale in scales:
        scale_rows, scale_problems = bench_scale(
            scale, args.database_url, args.runs, args.simulations
        )
        rows += scale_rows
        problems += scale_problems
    print(
        f"\n{'scale':>5}  {'whole org':<30}{'open':>8}{'forecast s':>12}{'KPI s':>8}"
        f"{'ratio':>8}{'weighted s':>11}{'fc MB':>7}{'KPI MB':>8}{'sample':>8}"
    )
    for scale, name, deals, model_s, report_s, weighted_s, model_mb, report_mb, share, _ in rows:
        print(
            f"{scale:>5g}  {name:<30}{deals:>8,}{model_s:>12.2f}{report_s:>8.2f}"
            f"{model_s / report_s:>7.2f}x{weighted_s:>11.2f}{model_mb:>7.0f}{report_mb:>8.0f}"
            f"{share:>8.3f}"
        )
    print("\nmodel figures (won so far / open expected / new expected -> P10 P50 P90):")
    for scale, name, *_, model in rows:
        parts = (model.won_so_far, model.open_expected, model.new_expected)
        ranges = (model.p10, model.p50, model.p90)
        print(
            f"  scale {scale:g} {name}: {' / '.join(money(v, exact=True) for v in parts)} -> "
            + " ".join(money(v, exact=True) for v in ranges)
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")
    for scale, name, _, model_s, *_ in rows:
        if scale == 100:
            ok = model_s < TARGET_SECONDS
            print(f"  {'ok  ' if ok else 'MISS'} scale 100 {name}: {model_s:.2f} s "
                  f"(target < {TARGET_SECONDS:g} s)")  # fmt: skip
    for problem in problems:
        print(f"FAIL {problem}")
    if not problems:
        print("all checks agree (open_expected, expected, per-rep, open deals and their "
              "amounts as of T, won so far, weighted pipeline)")  # fmt: skip
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
