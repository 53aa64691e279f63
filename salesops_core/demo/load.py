"""Fill a database with the demo org, chunk by chunk, in one transaction."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import OperationalError

from salesops_core.db.engine import SQLITE_CONNECT_PRAGMAS, migrate, shown_url
from salesops_core.db.models import (
    Activity,
    Base,
    Deal,
    DealStageChange,
    Forecast,
    Lead,
    Quota,
    Rep,
    Stage,
    Team,
)
from salesops_core.demo import clock
from salesops_core.demo.deals import generate_deals
from salesops_core.demo.leads import generate_leads, routine_activities
from salesops_core.demo.org import build_org
from salesops_core.demo.plans import quotas_and_forecasts
from salesops_core.demo.store import (
    BulkWriter,
    empty_tables,
    holds_foreign_data,
    indexes_dropped,
    reset_sequences,
)
from salesops_core.errors import SalesopsError
from salesops_core.timeutil import as_utc

SELLERS_PER_CHUNK = 96
HISTORY_DAYS = 730
MAX_SCALE = 1000.0
BIG_TABLES = (Deal, DealStageChange, Lead, Activity)
# SQLite during the load: a rollback journal instead of the WAL (which would take every page
# of the new tables twice, and a page again each time the cache spills it), no fsync, a big
# page cache and sorter threads for the index builds; afterwards what a new connection gets
# (`SQLITE_CONNECT_PRAGMAS`) and the defaults.
SQLITE_LOAD_PRAGMAS = (
    "journal_mode=DELETE", "foreign_keys=OFF", "synchronous=OFF", "cache_size=-262144",
    "temp_store=MEMORY", "threads=2",
)  # fmt: skip
SQLITE_SERVE_PRAGMAS = (
    *SQLITE_CONNECT_PRAGMAS,
    "cache_size=-2000",
    "temp_store=DEFAULT",
    "threads=0",
)


class DemoRefused(SalesopsError):
    """The database holds data the demo did not write."""


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {name: np.concatenate([p[name] for p in parts]) for name in parts[0]}


def load_demo(
    engine: Engine,
    *,
    now: datetime,
    scale: float = 1.0,
    seed: int = 42,
    timezone: str = "UTC",
    fiscal_year_start_month: int = 1,
    fresh: bool = False,
) -> dict[str, int]:
    """Migrate, empty and fill the database with a deterministic demo org; row counts back.

    A database already holding a demo is replaced; one holding other data (imports, real
    reps) is refused unless `fresh`, which deletes everything. The load owns its transaction
    (all or nothing). Same seed and `now` give identical contents.
    """
    if not 0 < scale <= MAX_SCALE:
        raise SalesopsError(f"--scale must be above 0 and at most {MAX_SCALE:g}, got {scale:g}")
    migrate(engine)
    now_s = clock.epoch(as_utc(now).replace(microsecond=0))
    with engine.connect() as connection:
        if not fresh and holds_foreign_data(connection):
            url = shown_url(engine.url)
            raise DemoRefused(
                f"{url} holds data that is not from `salesops demo`; refusing to replace it. "
                "Point DATABASE_URL at another database, or pass --fresh to delete everything."
            )
        sqlite = connection.dialect.name == "sqlite"
        connection.commit()  # end the autobegun read; the load runs in its own transaction
        if sqlite:
            engine.pool.dispose()  # leaving WAL mode needs the only open connection
            _sqlite_pragmas(connection, SQLITE_LOAD_PRAGMAS)
        try:
            with connection.begin():
                if not sqlite:
                    connection.exec_driver_sql("SET LOCAL maintenance_work_mem = '256MB'")
                empty_tables(connection)
                counts = _fill(connection, now_s, scale, seed, timezone, fiscal_year_start_month)
        finally:
            if sqlite:
                _sqlite_pragmas(connection, SQLITE_SERVE_PRAGMAS)
        if sqlite:
            connection.exec_driver_sql("PRAGMA analysis_limit=1000")
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
    if not sqlite:
        # VACUUM sets the visibility map, so the covering indexes answer without the table.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM (ANALYZE)")
    return counts


def _sqlite_pragmas(connection: Connection, pragmas: tuple[str, ...]) -> None:
    """Apply the pragmas outside a transaction; a journal mode another process's open
    connection keeps from changing stays as it is (the load is then only slower)."""
    for pragma in pragmas:
        try:
            connection.exec_driver_sql(f"PRAGMA {pragma}")
        except OperationalError:
            if not pragma.startswith("journal_mode"):
                raise
        connection.commit()


def _fill(
    connection: Connection,
    now: int,
    scale: float,
    seed: int,
    timezone: str,
    fiscal_year_start_month: int,
) -> dict[str, int]:
    history_start = now - HISTORY_DAYS * clock.DAY
    org = build_org(np.random.default_rng([seed, 0]), scale, history_start, now)
    connection.execute(insert(Team.__table__), org.teams)
    connection.execute(insert(Stage.__table__), org.stages)
    connection.execute(insert(Rep.__table__), org.reps)
    moment = datetime.fromtimestamp(now, ZoneInfo("UTC"))
    quarters = clock.quarter_starts(
        moment - timedelta(days=HISTORY_DAYS), moment, ZoneInfo(timezone), fiscal_year_start_month
    )
    writer = BulkWriter(connection)
    counts = {"team": len(org.teams), "rep": len(org.reps), "stage": len(org.stages)}
    next_id = {t.__tablename__: 1 for t in (*BIG_TABLES, Quota, Forecast)}

    def write(model: type[Base], columns: dict[str, np.ndarray]) -> None:
        name = model.__tablename__
        written = writer.write(model.__table__, columns)
        next_id[name] += written
        counts[name] = counts.get(name, 0) + written

    big = [model.__table__ for model in BIG_TABLES]
    with indexes_dropped(connection, big):
        sellers = org.sellers
        for chunk, first in enumerate(range(0, len(sellers), SELLERS_PER_CHUNK)):
            rng = np.random.default_rng([seed, 1, chunk])
            part = sellers.take(slice(first, first + SELLERS_PER_CHUNK))
            batch = generate_deals(
                rng, part, now, next_id["deal"], next_id["deal_stage_change"], timezone
            )
            leads, touches = generate_leads(rng, part, now, next_id["lead"])
            quotas, forecasts = quotas_and_forecasts(
                rng, part, batch, quarters, now, next_id["quota"], next_id["forecast"]
            )
            activities = _concat([batch.activities, touches, routine_activities(rng, part)])
            order = np.lexsort((activities["started_at"], activities["rep_id"]))
            activities = {name: values[order] for name, values in activities.items()}
            ids = np.arange(len(order), dtype=np.int64) + next_id["activity"]
            activities["id"] = ids
            activities["external_id"] = np.array(
                [f"DEMO-A{i:09d}" for i in ids.tolist()], dtype=object
            )
            write(Deal, batch.deals)
            write(DealStageChange, batch.changes)
            write(Lead, leads)
            write(Activity, activities)
            write(Quota, quotas)
            write(Forecast, forecasts)
    reset_sequences(
        connection, [m.__table__ for m in (Team, Rep, Stage, *BIG_TABLES, Quota, Forecast)]
    )
    return counts
