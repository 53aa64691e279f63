"""Benchmark: org KPI snapshot + every team's leaderboard for a quarter, vs pandas and DuckDB.

    python bench/kpis.py --database-url sqlite:////work/bench-data/demo-100.db
    python bench/kpis.py --database-url postgresql+psycopg://postgres@127.0.0.1/so_kpi --scale 10

Builds the demo org (`--scale`, 100 = about 1M deals, 5M activities, 1M leads) when the
database is empty, then times (median of --runs warm runs) the engine's org snapshot (every KPI
of the period and the previous one, the lead-response percentiles, the stage funnel) with the
per-rep leaderboard grouped into team leaderboards, the funnel alone and one rep's report;
reports peak RSS; computes the same numbers (per rep and org, the funnel's reached / advanced
counts, the median and p90 response) (a) with a straightforward pandas script that loads the
tables (load included in its time) and (b) with DuckDB over the same rows held in memory (loaded
outside the timed part). Prints a table of times and ratios; exits 1 if any number differs.
"""

from __future__ import annotations

import argparse
import math
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import duckdb
import pandas as pd
from sqlalchemy import func, select

from salesops_core.config import OrgConfig
from salesops_core.db.engine import make_engine, make_session_factory
from salesops_core.db.models import Deal, Lead, Rep
from salesops_core.demo import load_demo
from salesops_core.kpi.details import stage_conversion
from salesops_core.kpi.engine import compute_report
from salesops_core.org.scopes import ORG_SCOPE, Scope
from salesops_core.periods import parse_period

# The numbers compared with both references, per rep and for the org.
CHECKED = (
    "won_count",
    "lost_count",
    "won_amount",
    "win_rate",
    "avg_deal_size",
    "avg_sales_cycle_days",
    "open_pipeline_value",
    "weighted_pipeline_value",
    "stale_deal_share",
    "leads_unanswered",
    "lead_response_minutes_median",
    "lead_response_minutes_p90",
    "selling_time_share",
    "quota_attainment",
)


def median_time(fn: Callable[[], Any], runs: int) -> tuple[float, Any]:
    fn()  # warm-up
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), result


def engine_snapshot(sessions, period, org, now) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    with sessions() as session:
        report = compute_report(session, ORG_SCOPE, period, org, (), now=now)
    boards: dict[str, list[dict]] = {}
    for row in report.leaderboard:
        boards.setdefault(row["team"] or "", []).append(row)
    return {
        "org": report.kpis,
        "reps": {r["rep_id"]: r for r in report.leaderboard},
        "teams": boards,
        "funnel": funnel_counts(report.stage_conversion),
    }


def funnel_counts(rows: list[dict[str, Any]]) -> list[tuple[str, int, int | None]]:
    """(stage, reached, advanced) in funnel order: what the references are compared on."""
    return [(r["stage"], r["reached"], r["advanced"]) for r in rows]


def funnel_from_furthest(stages: pd.DataFrame, furthest: pd.Series) -> list[tuple]:
    """The funnel from each deal's furthest non-lost stage order (`stages`: name, sort_order
    of the non-lost stages, in funnel order): reached k = deals whose furthest >= k."""
    orders = list(stages.sort_order)
    return [
        (
            name,
            int((furthest >= order).sum()),
            int((furthest >= orders[i + 1]).sum()) if i + 1 < len(orders) else None,
        )
        for i, (name, order) in enumerate(zip(stages.name, orders, strict=True))
    ]


def load_tables(connection) -> dict[str, pd.DataFrame]:  # type: ignore[no-untyped-def]
    """The straightforward way: read whole tables."""
    return {
        "deal": pd.read_sql(
            "SELECT id, owner_id, amount, outcome, stage, probability, created_at, closed_at, "
            "expected_close FROM deal",
            connection,
            parse_dates=["created_at", "closed_at", "expected_close"],
        ),
        "stage": pd.read_sql(
            "SELECT name, probability AS stage_probability, sort_order, outcome FROM stage",
            connection,
        ),
        "deal_stage_change": pd.read_sql(
            "SELECT id, deal_id, stage, entered_at, amount, probability FROM deal_stage_change",
            connection,
            parse_dates=["entered_at"],
        ),
        "activity": pd.read_sql(
            "SELECT rep_id, deal_id, type, started_at, minutes FROM activity",
            connection,
            parse_dates=["started_at"],
        ),
        "lead": pd.read_sql(
            "SELECT owner_id, created_at, first_response_at FROM lead",
            connection,
            parse_dates=["created_at", "first_response_at"],
        ),
        "quota": pd.read_sql(
            "SELECT rep_id, period_start, period_end, amount FROM quota",
            connection,
            parse_dates=["period_start", "period_end"],
        ),
    }


def funnel_stages(stage: pd.DataFrame) -> pd.DataFrame:
    """The stages of the funnel (not lost), in funnel order."""
    return stage[stage.outcome != "lost"].sort_values(["sort_order", "name"])


def as_of(open_: pd.DataFrame, changes: pd.DataFrame, stage: pd.DataFrame, at) -> tuple:  # type: ignore[no-untyped-def]
    """Each open deal's amount and probability at `at` (kpi.asof): today's when it is open
    today with no change from `at` on; else its last change before `at` (amount: else the
    deal's; probability: else the deal's own at the same stage, else the stage's), unless
    that stage is unknown or won/lost (then not weighted: NaN)."""
    before = changes[changes.entered_at < at].sort_values(["deal_id", "entered_at", "id"])
    last = before.drop_duplicates("deal_id", keep="last").set_index("deal_id")
    then = last.reindex(open_.id.to_numpy()).set_index(open_.index)
    later = changes.deal_id[changes.entered_at >= at].unique()
    today = (open_.outcome == "open") & ~open_.id.isin(later)
    stages = stage.set_index("name")
    then_outcome = then.stage.map(stages.outcome)
    recorded = then.stage.notna() & (then_outcome.isna() | (then_outcome == "open"))
    own = open_.probability.where(then.stage == open_.stage)
    then_probability = (
        then.probability.fillna(own).fillna(then.stage.map(stages.stage_probability)).fillna(0.0)
    )
    now_probability = open_.probability.fillna(open_.stage_probability).fillna(0.0)
    amount = open_.amount.where(today, then.amount.fillna(open_.amount))
    probability = now_probability.where(today, then_probability.where(recorded))
    return amount, probability


def pandas_numbers(t: dict[str, pd.DataFrame], start, end, at, now, stale_days) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    """Per-rep sums with pandas (index: rep id); the org row is the column sums; the org
    percentiles and the funnel in `attrs`."""
    deal = t["deal"]
    closed = deal[(deal.closed_at >= start) & (deal.closed_at < end)]
    won = closed[closed.outcome == "won"]
    lost = closed[closed.outcome == "lost"]
    columns = {
        "won_count": won.groupby("owner_id").size(),
        "lost_count": lost.groupby("owner_id").size(),
        "won_amount": won.groupby("owner_id").amount.sum(),
        "won_with_amount": won.groupby("owner_id").amount.count(),
        "cycle_days_sum": ((won.closed_at - won.created_at).dt.total_seconds() / 86400)
        .groupby(won.owner_id)
        .sum(),
    }
    open_ = deal[(deal.created_at < at) & (deal.closed_at.isna() | (deal.closed_at >= at))]
    open_ = open_.merge(
        t["stage"], how="left", left_on="stage", right_on="name", suffixes=("", "_of_stage")
    )
    amount, probability = as_of(open_, t["deal_stage_change"], t["stage"], at)
    act = t["activity"]
    last = act[act.started_at < at].groupby("deal_id").started_at.max()
    touched = open_.id.map(last).fillna(open_.created_at)
    stale = (touched < at - pd.Timedelta(days=stale_days)) | (open_.expected_close < at)
    columns["open_count"] = open_.groupby("owner_id").size()
    columns["open_amount"] = amount.groupby(open_.owner_id).sum()
    columns["weighted_amount"] = (amount * probability).groupby(open_.owner_id).sum()
    columns["stale_count"] = stale.groupby(open_.owner_id).sum()
    lead = t["lead"]
    lead = lead[(lead.created_at >= start) & (lead.created_at < end)]
    columns["leads_unanswered"] = lead.first_response_at.isna().groupby(lead.owner_id).sum()
    minutes = (lead.first_response_at - lead.created_at).dt.total_seconds() / 60
    columns["median"] = minutes.dropna().groupby(lead.owner_id).median()
    waited = (lead.first_response_at.fillna(now) - lead.created_at).dt.total_seconds() / 60
    columns["p90"] = waited.groupby(lead.owner_id).quantile(0.9)
    act = act[(act.started_at >= start) & (act.started_at < at)]
    selling = act.type.isin(["call", "email", "meeting", "demo"])
    columns["selling_minutes"] = act.minutes.where(selling).groupby(act.rep_id).sum()
    columns["logged_minutes"] = act.minutes.groupby(act.rep_id).sum()
    quota = t["quota"]
    quota = quota[(quota.period_start >= start) & (quota.period_end <= end)]
    columns["quota"] = quota.groupby("rep_id").amount.sum()
    out = pd.DataFrame(columns)  # the union of every owner index
    out.attrs["org_median"] = minutes.dropna().median()
    out.attrs["org_p90"] = waited.quantile(0.9)
    created = deal[(deal.created_at >= start) & (deal.created_at < end)]
    touched = pd.concat(
        [
            t["deal_stage_change"][t["deal_stage_change"].deal_id.isin(created.id)],
            created[["id", "stage"]].rename(columns={"id": "deal_id"}),
        ]
    )
    stages = funnel_stages(t["stage"])
    orders = touched.merge(stages, left_on="stage", right_on="name")
    out.attrs["funnel"] = funnel_from_furthest(stages, orders.groupby("deal_id").sort_order.max())
    return out


DUCK_SQL = """
WITH closed AS (
  SELECT owner_id,
    count(*) FILTER (WHERE outcome = 'won') AS won_count,
    count(*) FILTER (WHERE outcome = 'lost') AS lost_count,
    sum(amount) FILTER (WHERE outcome = 'won') AS won_amount,
    count(amount) FILTER (WHERE outcome = 'won') AS won_with_amount,
    sum(epoch(closed_at - created_at) / 86400.0) FILTER (WHERE outcome = 'won') AS cycle_days_sum
  FROM deal WHERE closed_at >= $start AND closed_at < $end GROUP BY owner_id),
last AS (SELECT deal_id, max(started_at) AS last FROM activity WHERE started_at < $at
  GROUP BY deal_id),
changed AS (
  SELECT deal_id, stage, amount, probability FROM (
    SELECT *, row_number() OVER (PARTITION BY deal_id ORDER BY entered_at DESC, id DESC) AS rn
    FROM deal_stage_change WHERE entered_at < $at) WHERE rn = 1),
later AS (SELECT DISTINCT deal_id FROM deal_stage_change WHERE entered_at >= $at),
at_t AS (
  SELECT d.*, l.last, later.deal_id IS NULL AND d.outcome = 'open' AS today,
    c.stage AS then_stage, coalesce(c.amount, d.amount) AS then_amount,
    coalesce(c.probability, CASE WHEN c.stage = d.stage THEN d.probability END,
      t.stage_probability, 0) AS then_probability,
    c.stage IS NOT NULL AND (t.outcome IS NULL OR t.outcome = 'open') AS recorded,
    coalesce(d.probability, s.stage_probability, 0) AS now_probability
  FROM deal d LEFT JOIN stage s ON s.name = d.stage LEFT JOIN last l ON l.deal_id = d.id
    LEFT JOIN changed c ON c.deal_id = d.id LEFT JOIN stage t ON t.name = c.stage
    LEFT JOIN later ON later.deal_id = d.id
  WHERE d.created_at < $at AND (d.closed_at IS NULL OR d.closed_at >= $at)),
open_ AS (
  SELECT owner_id, count(*) AS open_count,
    sum(CASE WHEN today THEN amount ELSE then_amount END) AS open_amount,
    sum(CASE WHEN today THEN amount * now_probability
        WHEN recorded THEN then_amount * then_probability END) AS weighted_amount,
    sum(CASE WHEN coalesce(last, created_at) < $stale OR expected_close < $at
        THEN 1 ELSE 0 END) AS stale_count
  FROM at_t GROUP BY owner_id),
leads AS (
  SELECT owner_id, count(*) FILTER (WHERE first_response_at IS NULL) AS leads_unanswered,
    median(epoch(first_response_at - created_at) / 60.0) AS median,
    quantile_cont(epoch(coalesce(first_response_at, $now) - created_at) / 60.0, 0.9) AS p90
  FROM lead WHERE created_at >= $start AND created_at < $end GROUP BY owner_id),
acts AS (
  SELECT rep_id AS owner_id,
    sum(minutes) FILTER (WHERE type IN ('call', 'email', 'meeting', 'demo')) AS selling_minutes,
    sum(minutes) AS logged_minutes
  FROM activity WHERE started_at >= $start AND started_at < $at GROUP BY rep_id),
quotas AS (SELECT rep_id AS owner_id, sum(amount) AS quota FROM quota
  WHERE period_start >= $start AND period_end <= $end GROUP BY rep_id),
owners AS (SELECT owner_id FROM closed UNION SELECT owner_id FROM open_
  UNION SELECT owner_id FROM leads UNION SELECT owner_id FROM acts
  UNION SELECT owner_id FROM quotas)
SELECT * FROM owners LEFT JOIN closed USING (owner_id) LEFT JOIN open_ USING (owner_id)
  LEFT JOIN leads USING (owner_id) LEFT JOIN acts USING (owner_id) LEFT JOIN quotas USING (owner_id)
"""

DUCK_ORG_SQL = """
SELECT median(epoch(first_response_at - created_at) / 60.0) AS median,
  quantile_cont(epoch(coalesce(first_response_at, $now) - created_at) / 60.0, 0.9) AS p90
FROM lead WHERE created_at >= $start AND created_at < $end
"""

DUCK_FURTHEST_SQL = """
WITH created AS (SELECT id, stage FROM deal WHERE created_at >= $start AND created_at < $end),
touched AS (SELECT c.deal_id, c.stage FROM deal_stage_change c JOIN created d ON d.id = c.deal_id
  UNION ALL SELECT id, stage FROM created)
SELECT max(s.sort_order) AS furthest FROM touched JOIN stage s ON s.name = touched.stage
WHERE s.outcome <> 'lost' GROUP BY touched.deal_id
"""


def kpis_from_sums(row: dict[str, Any]) -> dict[str, Any]:
    """The checked KPIs from one row of sums (NaN / missing = 0 for sums)."""

    def v(key: str) -> float:
        value = row.get(key)
        return 0.0 if value is None or (isinstance(value, float) and math.isnan(value)) else value

    closed = v("won_count") + v("lost_count")
    median, p90 = row.get("median"), row.get("p90")
    return {
        "won_count": int(v("won_count")),
        "lost_count": int(v("lost_count")),
        "won_amount": v("won_amount"),
        "win_rate": v("won_count") / closed if closed else None,
        "avg_deal_size": v("won_amount") / v("won_with_amount") if v("won_with_amount") else None,
        "avg_sales_cycle_days": v("cycle_days_sum") / v("won_count") if v("won_count") else None,
        "open_pipeline_value": v("open_amount"),
        "weighted_pipeline_value": v("weighted_amount"),
        "stale_deal_share": v("stale_count") / v("open_count") if v("open_count") else None,
        "leads_unanswered": int(v("leads_unanswered")),
        "lead_response_minutes_median": None if median is None or pd.isna(median) else median,
        "lead_response_minutes_p90": None if p90 is None or pd.isna(p90) else p90,
        "selling_time_share": (
            v("selling_minutes") / v("logged_minutes") if v("logged_minutes") else None
        ),
        "quota_attainment": v("won_amount") / v("quota") if v("quota") > 0 else None,
    }


def reference_result(
    frame: pd.DataFrame, org_median: float | None, org_p90: float | None, funnel: list[tuple]
) -> dict[str, Any]:
    frame = frame.astype(float)
    reps = {
        int(owner): kpis_from_sums(row)
        for owner, row in frame.to_dict("index").items()
        if owner is not None and not pd.isna(owner)
    }
    totals = frame.sum(numeric_only=True).to_dict()
    with_quota = frame[frame["quota"] > 0] if "quota" in frame else frame.iloc[0:0]
    totals["quota"] = with_quota["quota"].sum() if len(with_quota) else 0.0
    totals["median"], totals["p90"] = org_median, org_p90
    return {"org": kpis_from_sums(totals), "reps": reps, "funnel": funnel}


def differences(name: str, engine: dict, other: dict) -> list[str]:
    problems = []

    def same(a: Any, b: Any) -> bool:
        if a is None or b is None:
            return a is None and b is None
        return math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6)

    for key in CHECKED:
        if not same(engine["org"][key], other["org"][key]):
            problems.append(
                f"{name}: org {key}: engine {engine['org'][key]} vs {other['org'][key]}"
            )
    if engine["funnel"] != other["funnel"]:
        problems.append(f"{name}: funnel: engine {engine['funnel']} vs {other['funnel']}")
    for rep_id, row in engine["reps"].items():
        theirs = other["reps"].get(rep_id, kpis_from_sums({}))
        for key in CHECKED:
            if not same(row[key], theirs[key]):
                problems.append(f"{name}: rep {rep_id} {key}: engine {row[key]} vs {theirs[key]}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="sqlite:////work/bench-data/demo-100.db")
    parser.add_argument("--scale", type=float, default=100, help="demo scale if the db is empty")
    parser.add_argument("--period", default="last-quarter")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--skip-pandas", action="store_true")
    args = parser.parse_args()

    engine = make_engine(args.database_url)
    sessions = make_session_factory(engine)
    org = OrgConfig()
    with sessions() as session:
        has_data = (
            session.scalar(select(func.count()).select_from(Deal)) if _has_tables(engine) else 0
        )
    if not has_data:
        print(f"building the demo org at scale {args.scale:g} ...", flush=True)
        load_demo(engine, now=datetime.now(UTC).replace(microsecond=0), scale=args.scale)
    with sessions() as session:
        now = session.scalar(select(func.max(Lead.created_at)))
        counts = {
            "deals": session.scalar(select(func.count()).select_from(Deal)),
            "leads": session.scalar(select(func.count()).select_from(Lead)),
            "reps": session.scalar(select(func.count()).select_from(Rep)),
        }
        rep = session.scalars(select(Rep).order_by(Rep.id).limit(1)).one()
        rep_scope = Scope("rep", rep.id, rep.name)
    period = parse_period(args.period, tz=org.tz, now=now)
    at = period.effective_end(now)
    print(f"{args.database_url}: {counts}; period {period.label}; now {now:%Y-%m-%d %H:%M}")

    snapshot_s, ours = median_time(lambda: engine_snapshot(sessions, period, org, now), args.runs)

    def one_rep() -> Any:
        with sessions() as session:
            return compute_report(session, rep_scope, period, org, (), now=now)

    rep_s, _ = median_time(one_rep, args.runs)

    def funnel_only() -> Any:
        with sessions() as session:
            return stage_conversion(session, ORG_SCOPE, period)

    funnel_s, _ = median_time(funnel_only, args.runs)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    start, end, at_naive, now_naive = (
        x.astimezone(UTC).replace(tzinfo=None) for x in (period.start, period.end, at, now)
    )
    problems: list[str] = []
    rows = [("engine: org snapshot + team leaderboards", snapshot_s, 1.0)]  # with previous
    rows.append(("engine: one rep's report", rep_s, rep_s / snapshot_s))
    rows.append(("engine: org stage funnel (in the snapshot)", funnel_s, funnel_s / snapshot_s))
    with engine.connect() as connection:
        load_started = time.perf_counter()
        tables = load_tables(connection)
        load_s = time.perf_counter() - load_started
    if not args.skip_pandas:
        compute_started = time.perf_counter()
        frame = pandas_numbers(tables, start, end, at_naive, now_naive, org.stale_deal_days)
        pandas_s = load_s + time.perf_counter() - compute_started
        reference = reference_result(
            frame, frame.attrs["org_median"], frame.attrs["org_p90"], frame.attrs["funnel"]
        )
        problems += differences("pandas", ours, reference)
        rows.append(("pandas: load tables + compute", pandas_s, pandas_s / snapshot_s))
    duck = duckdb.connect()
    for name, table in tables.items():
        duck.register(f"{name}_df", table)
        duck.execute(f"CREATE TABLE {name} AS SELECT * FROM {name}_df")
    params = {
        "start": start,
        "end": end,
        "at": at_naive,
        "stale": at_naive - pd.Timedelta(days=org.stale_deal_days),
        "now": now_naive,
    }
    stages = funnel_stages(tables["stage"])
    del tables

    def duck_run() -> tuple[pd.DataFrame, tuple, list[tuple]]:
        frame = duck.execute(DUCK_SQL, params).df().set_index("owner_id")
        lead_minutes = duck.execute(DUCK_ORG_SQL, _used(DUCK_ORG_SQL, params)).fetchone()
        furthest = duck.execute(DUCK_FURTHEST_SQL, _used(DUCK_FURTHEST_SQL, params)).df()
        return frame, lead_minutes, funnel_from_furthest(stages, furthest.furthest)

    duck_s, (duck_frame, lead_minutes, duck_funnel) = median_time(duck_run, args.runs)
    problems += differences(
        "duckdb", ours, reference_result(duck_frame, *lead_minutes, duck_funnel)
    )
    rows.append(("duckdb: same numbers, rows in memory", duck_s, duck_s / snapshot_s))

    print(f"\n{'what':<44}{'median s':>10}{'vs engine':>11}")
    for what, seconds, ratio in rows:
        print(f"{what:<44}{seconds:>10.3f}{ratio:>10.2f}x")
    print(f"peak RSS after the engine runs: {rss_mb:,.0f} MB")
    print(f"teams: {len(ours['teams'])}, reps on leaderboards: {len(ours['reps'])}")
    if problems:
        print(f"\n{len(problems)} DIFFERENCES:")
        for line in problems[:30]:
            print("  " + line)
        return 1
    print(f"all checked numbers agree ({', '.join(CHECKED)})")
    return 0


def _used(sql: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters the statement names (DuckDB refuses unused ones)."""
    return {k: v for k, v in params.items() if f"${k}" in sql}


def _has_tables(engine) -> bool:  # type: ignore[no-untyped-def]
    from sqlalchemy import inspect

    return inspect(engine).has_table("deal")


if __name__ == "__main__":
    sys.exit(main())
