"""Benchmark: `salesops import --kind deals` of a generated native CSV (new rows, then the
same file again, which must change nothing).

    python bench/import_deals.py --rows 100000
    python bench/import_deals.py --database-url postgresql+psycopg://postgres@127.0.0.1/so_x

Generates a deterministic deals file (ISO and US style dates, amounts with symbols, 40 reps
given by email), then times (median of --runs) the import into an empty deal table and the
re-import of the same file, in CPU seconds of this process and wall seconds. Without
`--database-url` it uses a fresh SQLite file; a given database must hold no deals (use a
scratch database: the bench empties the deal tables between runs). Prints a table with rows/s
and peak RSS; exits 1 if the stored deals disagree with the generated ones.
"""

from __future__ import annotations

import argparse
import csv
import gc
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import Deal, DealStageChange, Outcome, Rep, Stage
from salesops_core.importers.loader import import_file
from salesops_core.importers.options import ImportOptions
from salesops_core.importers.report import ImportResult

REPS = 40
STAGES = ("Prospecting", "Qualification", "Negotiation", "Closed Won", "Closed Lost")
HEADER = [
    "external_id",
    "name",
    "account",
    "owner",
    "amount",
    "currency",
    "stage",
    "probability",
    "created_at",
    "expected_close",
    "closed_at",
    "outcome",
    "product",
    "forecast_category",
]


def generate(path: Path, rows: int, seed: int = 7) -> dict[str, tuple[str, float, datetime]]:
    """Write the deals file; {external_id: (stage, amount, created_at)} to check against."""
    rnd = random.Random(seed)
    base = datetime(2024, 1, 1, tzinfo=UTC)
    expected: dict[str, tuple[str, float, datetime]] = {}
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i in range(rows):
            stage = STAGES[rnd.randrange(len(STAGES))]
            created = base + timedelta(seconds=rnd.randrange(700 * 86400))
            closed = created + timedelta(days=rnd.randrange(1, 120), seconds=rnd.randrange(86400))
            cents = rnd.randrange(50_000, 10_000_000)
            us_style = i % 4 == 0
            created_text = (
                f"{created.month}/{created.day}/{created.year} {created:%H:%M}"
                if us_style
                else created.strftime("%Y-%m-%dT%H:%M:%SZ")
            )
            created = created.replace(second=0) if us_style else created
            is_closed = stage.startswith("Closed")
            writer.writerow(
                [
                    f"D-{i}",
                    f"Deal {i}",
                    f"Account {i % 5000}",
                    f"rep{i % REPS}@example.com",
                    f"${cents // 100:,}.{cents % 100:02d}" if i % 3 == 0 else f"{cents / 100:.2f}",
                    "USD",
                    stage,
                    f"{rnd.random():.2f}",
                    created_text,
                    "" if is_closed else closed.date().isoformat(),
                    closed.strftime("%Y-%m-%dT%H:%M:%SZ") if is_closed else "",
                    "",
                    ("Platform", "Pilot", "Add-on")[i % 3],
                    ("commit", "pipeline", "best_case")[i % 3],
                ]
            )
            expected[f"D-{i}"] = (stage, cents / 100, created)
    return expected


def run(sessions: sessionmaker[Session], path: Path) -> tuple[float, float, ImportResult]:
    """One import in its own transaction: (cpu s, wall s, result); the garbage collector is
    paused meanwhile, as `salesops import` does."""
    cpu, wall = time.process_time(), time.perf_counter()
    gc.disable()
    try:
        with sessions.begin() as session:
            result = import_file(session, path, ImportOptions(kind="deals", tz=ZoneInfo("UTC")))
    finally:
        gc.enable()
    return time.process_time() - cpu, time.perf_counter() - wall, result


def empty_deals(sessions: sessionmaker[Session]) -> None:
    """Remove the imported deals and their stage history."""
    with sessions.begin() as session:
        session.execute(delete(DealStageChange))
        session.execute(delete(Deal))


def _outcome(stage: str) -> Outcome:
    return {"Closed Won": Outcome.WON, "Closed Lost": Outcome.LOST}.get(stage, Outcome.OPEN)


def check(sessions: sessionmaker[Session], expected: dict[str, tuple[str, float, datetime]]) -> int:
    """How many stored deals differ from (or are missing against) the generated ones."""
    with sessions() as session:
        stored = {
            ext: (stage, amount, created, outcome)
            for ext, stage, amount, created, outcome in session.execute(
                select(Deal.external_id, Deal.stage, Deal.amount, Deal.created_at, Deal.outcome)
            )
        }
        changes = session.scalar(select(func.count()).select_from(DealStageChange))
    bad = abs(len(stored) - len(expected)) + abs((changes or 0) - len(expected))
    for ext, (stage, amount, created) in expected.items():
        got = stored.get(ext)
        if got is None:
            bad += 1
            continue
        stored_stage, stored_amount, stored_created, outcome = got
        expected_row = (stage, created, _outcome(stage))
        bad += (stored_stage, stored_created, outcome) != expected_row
        bad += abs(stored_amount - amount) > 1e-6
    return bad


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-import-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        if session.scalar(select(func.count()).select_from(Deal)):
            print("the database already holds deals; use a scratch database", file=sys.stderr)
            return 2
        known = set(session.scalars(select(Rep.email)))
        stages = set(session.scalars(select(Stage.name)))
        added: list[Rep | Stage] = [
            Stage(name=name, sort_order=i, outcome=_outcome(name))
            for i, name in enumerate(STAGES)
            if name not in stages
        ]
        added += [
            Rep(name=f"Rep {i}", email=f"rep{i}@example.com")
            for i in range(REPS)
            if f"rep{i}@example.com" not in known
        ]
        session.add_all(added)
    path = workdir / "deals.csv"
    expected = generate(path, args.rows)
    new: list[tuple[float, float]] = []
    again: list[tuple[float, float]] = []
    bad = 0
    for n in range(args.runs):
        empty_deals(sessions)
        cpu, wall, result = run(sessions, path)
        new.append((cpu, wall))
        bad += result.created != args.rows
        cpu, wall, result = run(sessions, path)
        again.append((cpu, wall))
        bad += result.unchanged != args.rows
        if n == args.runs - 1:
            bad += check(sessions, expected)
    empty_deals(sessions)
    with sessions.begin() as session:  # leave the database as it was
        for row in added:
            session.delete(session.merge(row))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"deals import, {args.rows} rows, {engine.dialect.name}, median of {args.runs}")
    print(f"{'case':<22}{'cpu s':>8}{'wall s':>8}{'rows/s (wall)':>15}")
    for label, times in (("new rows", new), ("re-import unchanged", again)):
        cpu = statistics.median(t[0] for t in times)
        wall = statistics.median(t[1] for t in times)
        print(f"{label:<22}{cpu:>8.2f}{wall:>8.2f}{args.rows / wall:>15,.0f}")
    print(f"peak RSS {peak_mb:.0f} MB; mismatches: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
