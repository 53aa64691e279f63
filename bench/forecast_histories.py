"""Benchmark: the forecast backtest on synthetic histories the model was not tuned on.

    python bench/forecast_histories.py                  # every history: 4, 8 quarters; 6 months
    python bench/forecast_histories.py --only enterprise --seed 8

Each history is made by a generator of its own (not the demo's): a stage map with its own
stage names and probabilities, reps joining over time, deals whose close dates follow the
history's seasonality and whose cycles, amounts and win rates follow its parameters, each
deal's stage path (the stages it went through, with the amount at each), and the reps'
quarterly commits (their actual won amount times their bias, with noise). It is written as
native CSV files under `--folder`/<name>/ and loaded through `salesops import` into a fresh
SQLite database there, as a user would. Then `salesops forecast backtest ... --format json` runs
on it (as of NOW) for the last 4 and 8 quarters and the last 6 months, and a table per run gives
each period's actual won and each method's error, with MAPE and P10-P90 coverage.

Reference: from the generated rows alone (pandas), each backtest period's actual won, the
weighted pipeline at its start (deals open then, amount and stage as of then, the stage map's
probability) and the submitted commits; exits 1 if the backtest disagrees, or a command fails.
Seeded: the same --seed writes the same files and prints the same figures.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from salesops_core.kpi.format import money, pct
from salesops_core.periods import parse_period

START = np.datetime64("2023-10-01T00:00:00", "s")  # the CRM's first day
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # the demo's "now": 2026-Q4 is running
DAY = np.timedelta64(86400, "s")
RUNS = (("quarter", 4), ("quarter", 8), ("month", 6))
METHODS = ("model", "weighted_pipeline", "run_rate", "submitted")
HEADINGS = "".join(f"{m:>11}" for m in ("model P50", "weighted", "run-rate", "submitted"))


@dataclass(frozen=True)
class History:
    """The parameters of one synthetic sales org."""

    name: str
    story: str
    stages: tuple[tuple[str, float], ...]  # open stages in order, with the map's probability
    reps_first: int  # sellers on the first day
    reps_last: int  # sellers once hiring is done (joining evenly over `hiring_days`)
    hiring_days: tuple[int, int]  # days after START over which the new reps join
    deals_per_rep_month: float
    cycle_days: tuple[int, int]  # created -> closed, uniform
    amount_median: float
    amount_sigma: float  # of the log amount
    win_rate: float  # of all deals created
    quarter_weights: tuple[float, float, float, float]  # close-date density by calendar quarter
    last_month_weight: float  # close-date density in a quarter's last month vs the others
    lost_stage_weights: tuple[float, ...]  # how far a lost deal got (one weight per stage)
    commit_bias: float  # commit / actual won
    commit_noise: float  # sigma of the log noise per rep and quarter
    downturn_from: str | None = None  # deals closing from this date on win at ...
    downturn_factor: float = 1.0  # ... this times the win rate (reps' commits ignore it)


HISTORIES = (
    History(
        name="enterprise",
        story="few large deals, 120-270 day cycles, strong Q4, reps sandbag commits by ~15%",
        stages=(
            ("Qualify", 0.05),
            ("Solution Fit", 0.15),
            ("Business Case", 0.35),
            ("Procurement", 0.6),
            ("Signature", 0.85),
        ),
        reps_first=14,
        reps_last=14,
        hiring_days=(0, 0),
        deals_per_rep_month=3.0,
        cycle_days=(120, 270),
        amount_median=120_000,
        amount_sigma=0.8,
        win_rate=0.28,
        quarter_weights=(0.7, 0.8, 0.9, 2.0),
        last_month_weight=2.0,
        lost_stage_weights=(3, 3, 2, 1, 0.5),
        commit_bias=0.85,
        commit_noise=0.3,
    ),
    History(
        name="velocity",
        story="many small deals, 20-40 day cycles, headcount 10 -> 20 over two years, "
        "optimistic commits (+25%)",
        stages=(("New", 0.1), ("Demo", 0.3), ("Trial", 0.5), ("Quote", 0.75)),
        reps_first=10,
        reps_last=20,
        hiring_days=(180, 910),
        deals_per_rep_month=22.0,
        cycle_days=(20, 40),
        amount_median=6_000,
        amount_sigma=0.5,
        win_rate=0.24,
        quarter_weights=(1.0, 1.0, 1.0, 1.1),
        last_month_weight=1.2,
        lost_stage_weights=(4, 3, 2, 1),
        commit_bias=1.25,
        commit_noise=0.2,
    ),
    History(
        name="downturn",
        story="mid-market, 45-100 day cycles; from 2026-04 win rates halve (commits miss it)",
        stages=(("Discovery", 0.2), ("Evaluation", 0.4), ("Proposal", 0.6), ("Commit", 0.9)),
        reps_first=18,
        reps_last=18,
        hiring_days=(0, 0),
        deals_per_rep_month=7.0,
        cycle_days=(45, 100),
        amount_median=25_000,
        amount_sigma=0.6,
        win_rate=0.3,
        quarter_weights=(1.0, 1.0, 1.0, 1.3),
        last_month_weight=1.5,
        lost_stage_weights=(3, 2, 2, 1),
        commit_bias=1.0,
        commit_noise=0.2,
        downturn_from="2026-04-01",
        downturn_factor=0.5,
    ),
)


def _reps(h: History) -> pd.DataFrame:
    """Two teams, a manager each (not selling), sellers with their joining day."""
    sellers = h.reps_last
    joined = np.zeros(sellers)
    if h.reps_last > h.reps_first:
        joined[h.reps_first :] = np.linspace(*h.hiring_days, sellers - h.reps_first)
    rows = [
        {
            "name": f"Manager {t}",
            "email": f"manager{t}@{h.name}.test",
            "team": f"Team {t}",
            "manager": "",
            "region": "Global",
            "role": "manager",
            "joined_day": 0.0,
        }
        for t in (1, 2)
    ]
    rows += [
        {"name": f"Rep {i + 1:02d}", "email": f"rep{i + 1:02d}@{h.name}.test",
         "team": f"Team {i % 2 + 1}", "manager": f"manager{i % 2 + 1}@{h.name}.test",
         "region": "Global", "role": "rep", "joined_day": float(joined[i])}
        for i in range(sellers)
    ]  # fmt: skip
    return pd.DataFrame(rows)


def _close_dates(h: History, rng: np.random.Generator, end: np.datetime64, n: int) -> np.ndarray:
    """`n` close moments in [START, end) with the history's seasonality (by rejection)."""
    days = (end - START) // DAY
    weights_top = max(h.quarter_weights) * max(h.last_month_weight, 1.0)
    picked: list[np.ndarray] = []
    while sum(len(p) for p in picked) < n:
        seconds = rng.integers(0, days * 86400, size=2 * n)
        moment = START + seconds.astype("timedelta64[s]")
        month = moment.astype("datetime64[M]").astype(int) % 12  # 0 = January
        weight = np.asarray(h.quarter_weights)[month // 3] * np.where(
            month % 3 == 2, h.last_month_weight, 1.0
        )
        picked.append(moment[rng.random(len(moment)) * weights_top < weight])
    return np.concatenate(picked)[:n]


def generate(h: History, seed: int) -> dict[str, pd.DataFrame]:
    """The history's reps, deals, stage changes, quarterly commits and stage map, as of NOW."""
    rng = np.random.default_rng(seed)
    now = np.datetime64(NOW.replace(tzinfo=None), "s")
    reps = _reps(h)
    sellers = reps[reps.role == "rep"].reset_index(drop=True)
    horizon = now + h.cycle_days[1] * DAY  # deals closing after NOW are open at NOW
    months = (horizon - START) / DAY / 30.44
    n = int(h.deals_per_rep_month * h.reps_last * months * 1.6)
    close = _close_dates(h, rng, horizon, n)
    cycle = rng.uniform(*h.cycle_days, size=n) * DAY
    created = close - cycle.astype("timedelta64[s]")
    created_day = (created - START) / DAY
    # a seller is active from their joining day; deals go to one of the active sellers, and
    # the deal rate per seller is constant, so a bigger team makes more deals
    joined = np.sort(sellers.joined_day.to_numpy())
    active = np.searchsorted(joined, created_day, side="right")
    keep = (created >= START) & (created < now) & (rng.random(n) < active / h.reps_last)
    scale = h.deals_per_rep_month * h.reps_last * months / max(keep.sum(), 1)
    keep &= rng.random(n) < min(scale, 1.0)
    close, created, active = close[keep], created[keep], active[keep]
    n = len(close)
    owner = np.floor(rng.random(n) * active).astype(int)  # sellers sorted by joining day
    amount = np.round(np.exp(rng.normal(np.log(h.amount_median), h.amount_sigma, n)), -2)
    would_win = rng.random(n) < h.win_rate
    won = would_win.copy()
    if h.downturn_from:
        hit = close >= np.datetime64(h.downturn_from)
        won &= ~hit | (rng.random(n) < h.downturn_factor)
    stages = len(h.stages)
    lost_weights = np.asarray(h.lost_stage_weights, dtype=float)
    reached = np.where(
        won, stages, rng.choice(stages, size=n, p=lost_weights / lost_weights.sum()) + 1
    )
    deals = pd.DataFrame(
        {
            "external_id": [f"{h.name[:3]}-{i + 1:06d}" for i in range(n)],
            "owner": sellers.email.to_numpy()[np.argsort(sellers.joined_day, kind="stable")][owner],
            "amount": amount,
            "created_at": created,
            "closed_at": close,
            "won": won,
            "would_win": would_win,
        }
    )
    changes = _stage_path(h, rng, deals, reached)
    open_now = deals.closed_at >= now
    last_before = changes[changes.entered_at < now].drop_duplicates("deal", keep="last")
    current = last_before.set_index("deal").reindex(deals.index)
    deals["stage"] = np.where(
        open_now, current.stage, np.where(deals.won, "Closed Won", "Closed Lost")
    )
    deals["amount"] = np.where(open_now, current.amount, deals.amount)
    deals["outcome"] = np.where(open_now, "open", np.where(deals.won, "won", "lost"))
    deals["expected_close"] = deals.closed_at.dt.floor("D")  # an open deal's plan; closed: actual
    deals.loc[open_now, "closed_at"] = pd.NaT
    changes = changes[changes.entered_at < now]
    closes = deals.loc[~open_now, ["closed_at", "stage", "amount"]].rename(
        columns={"closed_at": "entered_at"}
    )
    closes["deal"] = closes.index
    changes = pd.concat([changes, closes]).sort_values(["deal", "entered_at"], kind="stable")
    stage_map = pd.DataFrame(
        [(name, i + 1, p, "open") for i, (name, p) in enumerate(h.stages)]
        + [("Closed Won", stages + 1, 1.0, "won"), ("Closed Lost", stages + 2, 0.0, "lost")],
        columns=["stage", "order", "probability", "outcome"],
    )
    return {
        "reps": reps.drop(columns="joined_day"),
        "deals": deals,
        "stage_changes": changes,
        "forecasts": _commits(h, rng, deals, sellers, now),
        "stage_map": stage_map,
    }


def _stage_path(
    h: History, rng: np.random.Generator, deals: pd.DataFrame, reached: np.ndarray
) -> pd.DataFrame:
    """One row per stage each deal entered (the first at its creation), spread over its
    cycle in order; the amount drifts towards the final one as the deal advances."""
    n, stages = len(deals), len(h.stages)
    # the share of the cycle spent before entering stage k: sorted uniforms, stage 1 at 0
    fractions = np.sort(rng.random((n, stages)), axis=1) * 0.95
    fractions[:, 0] = 0.0
    cycle = (deals.closed_at - deals.created_at).to_numpy()
    entered = deals.created_at.to_numpy()[:, None] + (fractions * cycle[:, None]).astype(
        "timedelta64[s]"
    )
    entered = entered + np.arange(stages).astype("timedelta64[s]")  # strictly increasing
    drift = np.exp(rng.normal(0.08, 0.2, (n, 1)) * (1 - np.arange(stages) / stages))
    amounts = np.round(deals.amount.to_numpy()[:, None] * drift, -2)
    rows = np.arange(stages)[None, :] < reached[:, None]
    deal_index = np.broadcast_to(np.arange(n)[:, None], (n, stages))
    names = np.broadcast_to(np.array([s for s, _ in h.stages], dtype=object), (n, stages))
    return pd.DataFrame(
        {
            "deal": deal_index[rows],
            "stage": names[rows],
            "entered_at": entered[rows],
            "amount": amounts[rows],
        }
    )


def _commits(
    h: History, rng: np.random.Generator, deals: pd.DataFrame, sellers: pd.DataFrame, now: Any
) -> pd.DataFrame:
    """Each seller's commit and best case (35% above) for each quarter from the second on,
    submitted three days before it starts by the sellers who had joined: half what they will
    win (as it would be without a downturn: they do not see it coming), half their mean won of
    the previous four quarters, times their bias and a noise."""
    every = pd.period_range(pd.Timestamp(START), pd.Timestamp(now), freq="Q")
    quarters = every[1:]
    closed = deals[deals.closed_at.notna()]

    def by_quarter(counted: pd.Series) -> pd.DataFrame:
        """quarters x sellers: the amount of the closed deals where `counted`."""
        amount = (closed.amount * counted).groupby(
            [closed.closed_at.dt.to_period("Q"), closed.owner]
        )
        return amount.sum().unstack().reindex(index=every, columns=sellers.email).fillna(0.0)

    actual, would = by_quarter(closed.won), by_quarter(closed.would_win)
    trailing = actual.rolling(4, min_periods=1).mean().shift(1)
    submitted = quarters.start_time - pd.Timedelta(days=3) + pd.Timedelta(hours=16)
    joined = pd.Timestamp(START) + pd.to_timedelta(sellers.joined_day.to_numpy(), unit="D")
    selling = submitted.to_numpy()[:, None] > joined.to_numpy()[None, :]
    noise = np.exp(rng.normal(0, h.commit_noise, selling.shape))
    guess = 0.5 * would.loc[quarters].to_numpy() + 0.5 * trailing.loc[quarters].to_numpy()
    commit = np.round(h.commit_bias * guess * noise, -3)
    q, r = np.nonzero(selling)
    one = pd.DataFrame(
        {
            "owner": sellers.email.to_numpy()[r],
            "period_start": quarters.start_time.strftime("%Y-%m-%d").to_numpy()[q],
            "period_end": (quarters + 1).start_time.strftime("%Y-%m-%d").to_numpy()[q],
            "amount": commit[q, r],
            "submitted_at": submitted.strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy()[q],
        }
    )
    best = one.assign(amount=np.round(one.amount * 1.35, -3), category="best_case")
    return pd.concat([one.assign(category="commit"), best], ignore_index=True)


def _iso(moments: pd.Series) -> pd.Series:
    """ISO 8601 UTC time stamps (empty for none)."""
    return moments.dt.strftime("%Y-%m-%dT%H:%M:%SZ").fillna("")


def write_csvs(frames: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    """The native CSV files a user would import, one per kind, and the stage map."""
    folder.mkdir(parents=True, exist_ok=True)
    deals, changes = frames["deals"], frames["stage_changes"]
    out = {
        "reps": frames["reps"],
        "deals": pd.DataFrame(
            {
                "external_id": deals.external_id,
                "owner": deals.owner,
                "amount": deals.amount,
                "currency": "USD",
                "stage": deals.stage,
                "created_at": _iso(deals.created_at),
                "expected_close": deals.expected_close.dt.strftime("%Y-%m-%d"),
                "closed_at": _iso(deals.closed_at),
                "outcome": deals.outcome,
            }
        ),
        "stage_changes": pd.DataFrame(
            {
                "deal_external_id": deals.external_id.to_numpy()[changes.deal.to_numpy()],
                "stage": changes.stage.to_numpy(),
                "entered_at": _iso(changes.entered_at).to_numpy(),
                "amount": changes.amount.to_numpy(),
            }
        ),
        "forecasts": frames["forecasts"],
        "stage_map": frames["stage_map"],
    }
    paths = {}
    for kind, frame in out.items():
        paths[kind] = folder / f"{kind}.csv"
        frame.to_csv(paths[kind], index=False)
    return paths


def salesops(url: str, folder: Path, *args: str) -> str:
    """Run the `salesops` CLI in `folder` on `url`; its stdout (raises with stderr on failure)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SALESOPS_")}
    env["DATABASE_URL"] = url
    done = subprocess.run(
        ["salesops", *args], cwd=folder, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"salesops {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def build(h: History, folder: Path, seed: int) -> tuple[str, dict[str, pd.DataFrame], float]:
    """Generate the history, write its CSVs, import them into a fresh SQLite database."""
    frames = generate(h, seed)
    paths = write_csvs(frames, folder)
    db = folder / "history.db"
    for stale in folder.glob("history.db*"):
        stale.unlink()
    url = f"sqlite:///{db}"
    started = time.perf_counter()
    salesops(url, folder, "migrate")
    salesops(url, folder, "import", str(paths["reps"]), "--kind", "reps")
    imported = [
        ("deals", "--stage-map", str(paths["stage_map"])),
        ("stage_changes",),
        ("forecasts",),
    ]
    for kind, *extra in imported:
        line = salesops(url, folder, "import", str(paths[kind]), "--kind", kind, *extra)
        print(f"  {line.strip().splitlines()[0]}")
    return url, frames, time.perf_counter() - started


def reference(frames: dict[str, pd.DataFrame], period_label: str) -> dict[str, float | None]:
    """From the generated rows: actual won in the period, the weighted pipeline at its start
    (deals open then; amount and stage from their last change before it; map probability) and
    the commits for it submitted before it started (null when none)."""
    period = parse_period(period_label, tz=ZoneInfo("UTC"), now=NOW)
    start = np.datetime64(period.start.replace(tzinfo=None), "s")
    end = np.datetime64(period.end.replace(tzinfo=None), "s")
    deals, changes = frames["deals"], frames["stage_changes"]
    won = deals[(deals.outcome == "won") & (deals.closed_at >= start) & (deals.closed_at < end)]
    open_then = (deals.created_at < start) & (deals.closed_at.isna() | (deals.closed_at >= start))
    then = changes[changes.deal.isin(deals.index[open_then]) & (changes.entered_at < start)]
    then = then.drop_duplicates("deal", keep="last")
    probability = then.stage.map(frames["stage_map"].set_index("stage").probability)
    commits = frames["forecasts"]
    commits = commits[
        (commits.category == "commit")
        & (commits.period_start == str(period.start.date()))
        & (commits.period_end == str(period.end.date()))
    ]
    return {
        "actual_won": float(won.amount.sum()),
        "weighted_pipeline": float((then.amount * probability).sum()),
        "submitted": float(commits.amount.sum()) if len(commits) else None,
    }


def _close(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return abs(a - b) <= 1e-6 * max(1.0, abs(b)) + 0.01


def check(result: dict[str, Any], frames: dict[str, pd.DataFrame], name: str) -> list[str]:
    """Where the backtest's actual won, weighted pipeline or submitted differ from the
    reference."""
    problems = []
    for row in result["periods"]:
        expected = reference(frames, row["period"])
        for key, value in expected.items():
            if not _close(row[key], value):
                problems.append(f"{name} {row['period']} {key}: backtest {row[key]} vs {value}")
    return problems


def print_table(result: dict[str, Any]) -> None:
    """Per period: actual, the model's P50 and range, each method's error; then MAPE and
    coverage."""
    print(
        f"  {'period':<9}{'actual':>11}{'P10':>11}{'P50':>11}{'P90':>11}{'in':>4}  errors:"
        + HEADINGS
    )
    for row in result["periods"]:
        model = row["model"] or {}
        inside = row.get("inside_range")
        print(
            f"  {row['period']:<9}{money(row['actual_won']):>11}{money(model.get('p10')):>11}"
            f"{money(model.get('p50')):>11}{money(model.get('p90')):>11}"
            f"{'-' if inside is None else 'y' if inside else 'n':>4}{'':9}"
            + "".join(f"{pct(row['errors'][m]):>11}" for m in METHODS)
        )
    summary = result.get("summary", {})
    mape = summary.get("mape", {})
    coverage = summary.get("coverage")
    print(
        f"  {'MAPE':<9}{'':>48}{'':9}"
        + "".join(f"{pct(mape.get(m)):>11}" for m in METHODS)
        + f"   P10-P90 coverage {pct(coverage)}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=Path("/work/bench-data/histories"))
    parser.add_argument("--only", choices=[h.name for h in HISTORIES], action="append")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("salesops") is None:
        print("the salesops CLI is not on PATH (activate the venv)")
        return 1
    problems: list[str] = []
    summaries: list[tuple[str, str, dict[str, Any]]] = []
    for h in HISTORIES:
        if args.only and h.name not in args.only:
            continue
        folder = args.folder / h.name
        print(f"\n{h.name}: {h.story}")
        url, frames, seconds = build(h, folder, args.seed)
        deals = frames["deals"]
        print(
            f"  {len(frames['reps'])} people, {len(deals):,} deals "
            f"({(deals.outcome == 'open').sum():,} open at {NOW:%Y-%m-%d}), "
            f"{len(frames['stage_changes']):,} stage changes, {len(frames['forecasts']):,} "
            f"forecast rows; migrate + import {seconds:.1f} s; files in {folder}"
        )
        for every, count in RUNS:
            command = ["forecast", "backtest", "--periods", str(count), "--every", every]
            command += ["--now", NOW.isoformat(), "--format", "json"]
            started = time.perf_counter()
            try:
                result = json.loads(salesops(url, folder, *command))
            except RuntimeError as error:
                problems.append(f"{h.name}: {error}")
                print(f"  FAILED: {error}")
                continue
            print(f"\n  salesops {' '.join(command)}   ({time.perf_counter() - started:.1f} s)")
            print_table(result)
            problems += check(result, frames, h.name)
            summaries.append((h.name, f"{count} {every}s", result.get("summary", {})))
    print(f"\nMAPE by method, and P10-P90 coverage\n{'history':<12}{'run':<12}{HEADINGS}  cover")
    for name, run, summary in summaries:
        mape = summary.get("mape", {})
        print(
            f"{name:<12}{run:<12}"
            + "".join(f"{pct(mape.get(m)):>11}" for m in METHODS)
            + f"{pct(summary.get('coverage')):>7}"
        )
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
