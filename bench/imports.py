"""Benchmark: `salesops import` of every kind (reps, deals, leads, activities, quotas,
forecasts, stage_changes) from generated native CSV files, new rows and a re-import that
changes nothing.

    python bench/imports.py --rows 100000
    python bench/imports.py --database-url postgresql+psycopg://postgres@127.0.0.1/so_x

Each file is deterministic and mixes the cell shapes real exports have (ISO and US dates,
`$1,234.50` amounts, owners by email and by name). Per kind it times (median of --runs, wall
and CPU seconds of this process) the import into an empty table (leads: with their SLA
deadlines, as the CLI does) and the re-import of the same file, and, as the reference, a bare
driver insert of the very rows the import stored (executemany on SQLite, COPY on Postgres,
values already typed): the ratio says what the importer costs over writing the rows at all.
Without `--database-url` it uses a fresh SQLite file; a given database must be empty (use a
scratch database). Exits 1 if a count or the stored values disagree with the generated file.
"""

from __future__ import annotations

import argparse
import csv
import enum
import gc
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Table, delete, func, select, true
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import (
    Activity,
    Deal,
    DealStageChange,
    Forecast,
    Lead,
    Outcome,
    Quota,
    Rep,
    Stage,
    Team,
)
from salesops_core.importers.loader import import_file
from salesops_core.importers.options import ImportOptions
from salesops_core.leads.deadlines import fill_sla_deadlines

OWNERS = 1000  # reps owning the generated rows (quotas need many owner x period pairs)
STAGES = ("Prospecting", "Qualification", "Negotiation", "Closed Won", "Closed Lost")
BASE = datetime(2024, 1, 1, tzinfo=UTC)
KINDS = ("reps", "deals", "leads", "activities", "quotas", "forecasts", "stage_changes")
# kinds whose rows refer to rows of other kinds: those are imported (and kept) first
LINKED = {"activities": ("deals", "leads"), "stage_changes": ("deals",)}
# stage changes are entered after every generated deal was created or closed (a deal import
# writes its own change at either), so an imported change never meets a deal's own
CHANGES_FROM = BASE + timedelta(days=830)


@dataclass
class Generated:
    """A kind's file and what the importer must store: row count and a checksum column."""

    path: Path
    rows: int
    total: float  # sum of the checked column (amount, minutes, ...) over the file
    check: Callable[[Session], float]  # the same sum over what is stored


def _owner(i: int) -> str:
    """Owners alternate between email and full name, as exports mix them."""
    n = i % OWNERS
    return f"owner{n}@example.com" if i % 2 else f"Owner {n}"


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _us(moment: datetime) -> str:
    return f"{moment.month}/{moment.day}/{moment.year} {moment:%H:%M}"


def _write(path: Path, header: list[str], rows: Iterator[list[str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def _sum(column: object) -> Callable[[Session], float]:
    return lambda session: float(session.scalar(select(func.sum(column))) or 0)


def generate(kind: str, workdir: Path, rows: int, seed: int = 7) -> Generated:
    """Write the kind's file (deterministic for a seed)."""
    rnd = random.Random(f"{seed}-{kind}")
    path = workdir / f"{kind}.csv"
    total = 0.0
    if kind == "reps":
        header = ["name", "email", "team", "manager", "region", "role", "timezone", "active"]

        def reps() -> Iterator[list[str]]:
            for i in range(rows):
                boss = "" if i % 10 == 0 else f"rep{i - i % 10}@corp.example.com"
                yield [
                    f"Rep {i}", f"rep{i}@corp.example.com", f"Team {i // 10}", boss,
                    ("AMER", "EMEA", "APAC")[i // 10 % 3], "manager" if i % 10 == 0 else "",
                    ("America/New_York", "Europe/Berlin", "")[i % 3], ("yes", "1", "true")[i % 3],
                ]  # fmt: skip

        _write(path, header, reps())
        managers = (rows + 9) // 10
        return Generated(
            path,
            rows,
            float(managers),
            lambda s: float(s.scalar(select(func.count()).where(Rep.role == "manager")) or 0),
        )
    if kind == "deals":
        header = ["external_id", "name", "account", "owner", "amount", "currency", "stage",
                  "probability", "created_at", "expected_close", "closed_at", "product",
                  "forecast_category"]  # fmt: skip
        out = []
        for i in range(rows):
            stage = STAGES[rnd.randrange(len(STAGES))]
            created = BASE + timedelta(seconds=rnd.randrange(700 * 86400))
            closed = created + timedelta(days=rnd.randrange(1, 120), seconds=rnd.randrange(86400))
            cents = rnd.randrange(50_000, 10_000_000)
            total += cents / 100
            done = stage.startswith("Closed")
            out.append([
                f"D-{i}", f"Deal {i}", f"Account {i % 5000}", _owner(i),
                f"${cents // 100:,}.{cents % 100:02d}" if i % 3 == 0 else f"{cents / 100:.2f}",
                "USD", stage, f"{rnd.random():.2f}",
                _us(created) if i % 4 == 0 else _iso(created),
                "" if done else closed.date().isoformat(), _iso(closed) if done else "",
                ("Platform", "Pilot", "Add-on")[i % 3], ("commit", "pipeline", "best_case")[i % 3],
            ])  # fmt: skip
        _write(path, header, iter(out))
        return Generated(path, rows, total, _sum(Deal.amount))
    if kind == "leads":
        header = ["external_id", "owner", "source", "company", "created_at", "first_response_at"]
        out = []
        for i in range(rows):
            created = BASE + timedelta(minutes=rnd.randrange(700 * 1440))
            answered = i % 5 != 0
            wait = rnd.randrange(60, 7200)
            total += wait if answered else 0
            out.append([
                f"L-{i}", _owner(i) if i % 7 else "", ("web", "referral", "event")[i % 3],
                f"Company {i % 9000}", _us(created) if i % 4 == 0 else _iso(created),
                _iso(created + timedelta(seconds=wait)) if answered else "",
            ])  # fmt: skip
        _write(path, header, iter(out))
        return Generated(path, rows, total, _lead_waits)
    if kind == "stage_changes":
        header = ["deal_external_id", "stage", "entered_at", "amount", "probability"]
        out = []
        for i in range(rows):  # two changes a deal, for the first half of the deals
            entered = CHANGES_FROM + timedelta(minutes=i)
            cents = rnd.randrange(50_000, 10_000_000)
            total += cents / 100
            out.append([
                f"D-{i // 2}", STAGES[rnd.randrange(3)],
                _us(entered) if i % 4 == 0 else _iso(entered),
                f"${cents // 100:,}.{cents % 100:02d}" if i % 3 == 0 else f"{cents / 100:.2f}",
                f"{rnd.random():.2f}",
            ])  # fmt: skip
        _write(path, header, iter(out))
        return Generated(path, rows, total, _imported_change_amounts)
    if kind == "activities":
        header = ["external_id", "owner", "type", "started_at", "minutes", "deal_external_id",
                  "lead_external_id", "external_attendee"]  # fmt: skip
        out = []
        for i in range(rows):
            minutes = rnd.randrange(5, 90)
            total += minutes
            started = BASE + timedelta(seconds=rnd.randrange(700 * 86400))
            out.append([
                f"A-{i}", _owner(i), ("call", "Email", "meeting", "Demo", "admin")[i % 5],
                _us(started) if i % 4 == 0 else _iso(started), str(minutes),
                f"D-{i}" if i % 2 == 0 else "", f"L-{i}" if i % 3 == 0 else "",
                ("yes", "no", "")[i % 3],
            ])  # fmt: skip
        _write(path, header, iter(out))
        return Generated(path, rows, total, _sum(Activity.minutes))
    # quotas and forecasts: one row per owner and month (forecasts: and submission)
    forecast = kind == "forecasts"
    header = ["owner", "period_start", "period_end", "amount"]
    header += ["category", "submitted_at"] if forecast else []
    out = []
    for i in range(rows):
        month = i // OWNERS
        start = datetime(2000 + month // 12, month % 12 + 1, 1, tzinfo=UTC)
        end = datetime(start.year + start.month // 12, start.month % 12 + 1, 1, tzinfo=UTC)
        amount = rnd.randrange(10, 500) * 1000
        total += amount
        row = [_owner(i), start.date().isoformat(), end.date().isoformat()]
        row.append(f"{amount:,}" if i % 2 else str(amount))
        if forecast:
            row += [("Commit", "Best Case")[i % 2], _iso(start - timedelta(days=3))]
        out.append(row)
    _write(path, header, iter(out))
    return Generated(path, rows, total, _sum(Forecast.amount if forecast else Quota.amount))


def _lead_waits(session: Session) -> float:
    """Seconds from creation to first response, summed over the stored leads."""
    return sum(
        (answered - created).total_seconds()
        for created, answered in session.execute(
            select(Lead.created_at, Lead.first_response_at).where(
                Lead.first_response_at.is_not(None)
            )
        )
    )


def _imported_change_amounts(session: Session) -> float:
    """The amounts of the stage changes the stage_changes import wrote, summed."""
    only = _imported("stage_changes", DealStageChange.__table__)
    return float(session.scalar(select(func.sum(DealStageChange.amount)).where(only)) or 0)


def _imported(kind: str, table: Table) -> ColumnElement[bool]:
    """Which rows of the table the kind's import wrote: not the owners (reps), not the deals'
    own stage changes (stage_changes); every row otherwise."""
    if table is Rep.__table__:
        return Rep.email.like("%@corp.example.com")
    if kind == "stage_changes":
        return DealStageChange.entered_at >= CHANGES_FROM
    return true()


_TABLES: dict[str, tuple[Table, ...]] = {
    "reps": (Team.__table__, Rep.__table__),
    "deals": (Deal.__table__, DealStageChange.__table__),
    "leads": (Lead.__table__,),
    "activities": (Activity.__table__,),
    "quotas": (Quota.__table__,),
    "forecasts": (Forecast.__table__,),
    "stage_changes": (DealStageChange.__table__,),
}


@contextmanager
def _timed(out: list[tuple[float, float]]) -> Iterator[None]:
    """Append (cpu s, wall s) of the block; the garbage collector paused, as the CLI does."""
    cpu, wall = time.process_time(), time.perf_counter()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        out.append((time.process_time() - cpu, time.perf_counter() - wall))


def import_once(sessions: sessionmaker[Session], kind: str, path: Path) -> tuple[int, int]:
    """One `salesops import` of the file in its own transaction: (created, unchanged)."""
    with sessions.begin() as session:
        result = import_file(session, path, ImportOptions(kind=kind, tz=ZoneInfo("UTC")))
        if kind == "leads":
            fill_sla_deadlines(session, OrgConfig(), [SlaPolicy()])
    return result.created, result.unchanged


def empty(sessions: sessionmaker[Session], kind: str) -> None:
    """Remove what an import of the kind wrote (reps: all but the owners)."""
    with sessions.begin() as session:
        if kind == "reps":
            session.execute(delete(Rep).where(_imported(kind, Rep.__table__)))
            session.execute(delete(Team))
        elif kind == "stage_changes":
            session.execute(
                delete(DealStageChange).where(_imported(kind, DealStageChange.__table__))
            )
        elif kind == "deals":
            session.execute(delete(DealStageChange))
            session.execute(delete(Deal))
        else:
            session.execute(delete(_TABLES[kind][0]))


def reference(sessions: sessionmaker[Session], kind: str) -> float:
    """Wall seconds of a bare driver insert of the rows the import stored (read first, the
    import undone, then every table of the kind written again as it was, values typed)."""
    stored: list[tuple[Table, list[str], list[tuple[object, ...]]]] = []
    with sessions() as session:
        for table in _TABLES[kind]:
            names = [c.name for c in table.columns]
            rows = session.execute(select(*table.columns).where(_imported(kind, table))).all()
            stored.append((table, names, [tuple(map(_plain, row)) for row in rows]))
    empty(sessions, kind)
    with sessions.begin() as session:
        connection = session.connection()
        raw = connection.connection.driver_connection
        quote = connection.dialect.identifier_preparer.quote
        postgres = connection.dialect.name == "postgresql"
        gc.disable()
        wall = time.perf_counter()
        for table, names, rows in stored:
            columns = ", ".join(quote(n) for n in names)
            if postgres:
                sql = f"COPY {quote(table.name)} ({columns}) FROM STDIN"
                with raw.cursor() as cursor, cursor.copy(sql) as copy:  # type: ignore[union-attr]
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" * len(names))
                sql = f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})"
                raw.executemany(sql, rows)  # type: ignore[union-attr]
        wall = time.perf_counter() - wall
        gc.enable()
    return wall


def _plain(value: object) -> object:
    """A stored value as the driver takes it (SQLite: time stamps as SQLAlchemy's text)."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    if isinstance(value, dtime):
        return value.isoformat()
    return value


def setup(sessions: sessionmaker[Session]) -> bool:
    """The stage map and the owners; False when the database is not empty."""
    with sessions.begin() as session:
        if session.scalar(select(func.count()).select_from(Rep)):
            return False
        session.add_all(
            Stage(name=name, sort_order=i, outcome=_outcome(name)) for i, name in enumerate(STAGES)
        )
        session.add_all(
            Rep(name=f"Owner {i}", email=f"owner{i}@example.com") for i in range(OWNERS)
        )
    return True


def _outcome(stage: str) -> Outcome:
    return {"Closed Won": Outcome.WON, "Closed Lost": Outcome.LOST}.get(stage, Outcome.OPEN)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--kinds", default=",".join(KINDS), help="comma-separated kinds")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-imports-"))
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    engine = make_engine(url)
    migrate(engine)
    sessions = make_session_factory(engine)
    if not setup(sessions):
        print("the database is not empty; use a scratch database", file=sys.stderr)
        return 2
    kinds = [k for k in KINDS if k in args.kinds.split(",")]
    # Activities and stage changes link to deals (and leads): those are imported (and kept)
    # before them, after the reps (deleting reps is slow while many rows refer to reps).
    keep = sorted({linked for kind in kinds for linked in LINKED.get(kind, ())})
    loaded: set[str] = set()
    print(f"import, {args.rows:,} rows per kind, {engine.dialect.name}, median of {args.runs}")
    print(
        f"{'kind':<14}{'new wall s':>11}{'cpu s':>7}{'rows/s':>9}{'again wall s':>13}"
        f"{'reference s':>12}{'ratio':>7}{'peak MB':>9}"
    )
    bad = 0
    for kind in kinds:
        for linked in LINKED.get(kind, ()):
            if linked not in kinds and linked not in loaded:
                import_once(sessions, linked, generate(linked, workdir, args.rows).path)
                loaded.add(linked)
        made = generate(kind, workdir, args.rows)
        new: list[tuple[float, float]] = []
        again: list[tuple[float, float]] = []
        ref: list[float] = []
        for n in range(args.runs):
            empty(sessions, kind)
            with _timed(new):
                created, _ = import_once(sessions, kind, made.path)
            bad += created != made.rows
            with _timed(again):
                _, unchanged = import_once(sessions, kind, made.path)
            bad += unchanged != made.rows
            if n == args.runs - 1:
                with sessions() as session:
                    stored = made.check(session)
                if abs(stored - made.total) > 1e-6 * max(1.0, made.total):
                    print(f"{kind}: stored {stored} != generated {made.total}", file=sys.stderr)
                    bad += 1
            ref.append(reference(sessions, kind))
        wall = statistics.median(t[1] for t in new)
        cpu = statistics.median(t[0] for t in new)
        again_wall = statistics.median(t[1] for t in again)
        ref_wall = statistics.median(ref)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"{kind:<14}{wall:>11.2f}{cpu:>7.2f}{made.rows / wall:>9,.0f}{again_wall:>13.2f}"
            f"{ref_wall:>12.2f}{wall / ref_wall:>7.1f}{peak:>9.0f}",
            flush=True,
        )
        if kind in keep:
            import_once(sessions, kind, made.path)  # the activities link to these again
    for kind in ("stage_changes", "activities", "forecasts", "quotas", "leads", "deals", "reps"):
        empty(sessions, kind)
    with sessions.begin() as session:  # leave a given database as it was
        session.execute(delete(Rep))
        session.execute(delete(Stage))
    print(f"peak MB is this process's peak RSS so far; mismatches: {bad}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
