"""Engine, session factory and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.errors import DatabaseNotReady

DEFAULT_DATABASE_URL = "sqlite:///salesops.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgres:// and postgresql:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def make_engine(url: str = DEFAULT_DATABASE_URL) -> Engine:
    """An engine for the URL; SQLite gets WAL, foreign keys and a busy timeout; Postgres no JIT."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # jit=off: the KPI queries are short analytic scans; JIT compiling them costs more than
    # it saves (about 30 ms per query measured at 1M deals)
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        connect_args={"options": "-c jit=off"},
    )


# What every SQLite connection is set to when it opens.
SQLITE_CONNECT_PRAGMAS = ("journal_mode=WAL", "foreign_keys=ON", "synchronous=NORMAL")


def _sqlite_pragmas(dbapi_connection: DBAPIConnection, _record: object) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_CONNECT_PRAGMAS:
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """The one session factory for an engine (expire_on_commit off)."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    with factory.begin() as session:
        yield session


def connection_lost(exc: BaseException) -> bool:
    """True when a database error means the connection dropped (terminated backend, network
    failure; the pool has discarded it) or could not be opened (an OperationalError with no
    statement). Either way the next transaction starts on a fresh connection."""
    if not isinstance(exc, DBAPIError):
        return False
    return exc.connection_invalidated or (isinstance(exc, OperationalError) and not exc.statement)


def is_postgres(engine_or_session: Engine | Session) -> bool:
    """True when the bind is PostgreSQL."""
    bind = (
        engine_or_session.get_bind()
        if isinstance(engine_or_session, Session)
        else engine_or_session
    )
    return bind.dialect.name == "postgresql"


def try_job_lock(session: Session, name: str) -> bool:
    """Take the transaction-level advisory lock of the job `name` on PostgreSQL (held until
    commit or rollback); False when another process holds it. Always True on SQLite, whose
    single writer (and the outbox's unique keys) already keep a run to one."""
    if not is_postgres(session):
        return True
    key = zlib.crc32(f"salesops:{name}".encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration."""
    command.upgrade(_alembic_config(engine), "head")


def schema_status(engine: Engine) -> tuple[str | None, str]:
    """The database's current revision and the code's head revision."""
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, str(head)


def require_migrated(engine: Engine) -> None:
    """Raise DatabaseNotReady unless the schema is at the newest migration."""
    current, head = schema_status(engine)
    if current != head:
        where = "is empty" if current is None else f"is at revision {current}, code needs {head}"
        raise DatabaseNotReady(
            f"The database {engine.url.render_as_string(hide_password=True)} {where}. "
            "Run `salesops migrate` first."
        )


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE statement changed (its DBAPI rowcount)."""
    return cast(CursorResult[Any], result).rowcount
