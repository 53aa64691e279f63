"""Engine, session factory and schema migrations (Alembic) for SQLite and PostgreSQL."""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, CursorResult, Engine, Result, create_engine, event, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import make_url
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.errors import DatabaseNotReady, DatabaseUnavailable

DEFAULT_DATABASE_URL = "sqlite:///salesops.db"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgres:// and postgresql:// URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


EXAMPLE_URLS = "sqlite:///salesops.db or postgresql+psycopg://user:password@host:5432/salesops"
CONNECT_TIMEOUT_SECONDS = 10  # a Postgres host that does not answer fails in seconds, not minutes


def shown_url(url: str | URL) -> str:
    """The URL as it may be shown to a user: the password hidden, even when it does not parse."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", str(url))


def make_engine(url: str = DEFAULT_DATABASE_URL) -> Engine:
    """An engine for the URL; SQLite gets WAL, foreign keys and a busy timeout; Postgres no JIT.

    A URL salesops cannot use (not a URL, an unknown database kind, a driver that is not
    installed) raises DatabaseUnavailable naming it, password hidden."""
    url = normalize_url(url)
    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise DatabaseUnavailable(
            f"DATABASE_URL {shown_url(url)!r} is not a database URL; use e.g. {EXAMPLE_URLS}"
        ) from None
    try:
        return _create_engine(parsed)
    except NoSuchModuleError:
        problem = f"salesops does not know the database kind `{parsed.drivername}`"
    except ImportError as exc:
        problem = f"the driver for `{parsed.drivername}` is not installed ({exc.name})"
    raise DatabaseUnavailable(
        f"DATABASE_URL {shown_url(parsed)}: {problem}; use e.g. {EXAMPLE_URLS}"
    ) from None


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # jit=off: the KPI queries are short analytic scans; JIT compiling them costs more than
    # it saves (about 30 ms per query measured at 1M deals)
    connect_args: dict[str, Any] = {"options": "-c jit=off"}
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        connect_args["connect_timeout"] = CONNECT_TIMEOUT_SECONDS
    return create_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args
    )


def sqlite_file(engine: Engine) -> Path | None:
    """The absolute path of the engine's SQLite database file; None for in-memory SQLite and
    other databases."""
    url = engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    if "uri" in url.query:  # sqlite:///file:...?uri=true: SQLite reads the name itself
        return None
    return Path(url.database).resolve()


def new_sqlite_file(engine: Engine) -> Path | None:
    """The SQLite file that the engine's first connection would create (None when it exists,
    or when the database is not a SQLite file)."""
    path = sqlite_file(engine)
    return path if path is not None and not path.exists() else None


def check_connection(engine: Engine) -> None:
    """Open one connection; when that fails, DatabaseUnavailable says which database (password
    hidden), why, and what to check."""
    url = shown_url(engine.url)
    path = sqlite_file(engine)
    if path is not None and not path.parent.is_dir():
        raise DatabaseUnavailable(
            f"DATABASE_URL {url}: the folder {path.parent} does not exist; create it, or point "
            "DATABASE_URL at a file in a folder that exists"
        )
    try:
        with engine.connect():
            pass
    except DBAPIError as exc:
        reason = next((line.strip() for line in str(exc.orig or exc).splitlines() if line), "")
        raise DatabaseUnavailable(
            f"cannot open the database {url} ({reason}); check DATABASE_URL and that the "
            "database is running and reachable (`salesops doctor` checks the setup)"
        ) from exc


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


def upsert_insert(session: Session, table: Any) -> Any:
    """An INSERT of `table` in the bound dialect, so `.on_conflict_do_nothing(...)` and
    `.on_conflict_do_update(...)` are there on PostgreSQL and SQLite alike."""
    return (pg_insert if is_postgres(session) else sqlite_insert)(table)


def try_job_lock(session: Session, name: str) -> bool:
    """Take the transaction-level advisory lock of the job `name` on PostgreSQL (held until
    commit or rollback); False when another process holds it. Always True on SQLite, whose
    single writer (and the outbox's unique keys) already keep a run to one."""
    if not is_postgres(session):
        return True
    key = zlib.crc32(f"salesops:{name}".encode())
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}))


@contextmanager
def held_job_lock(engine: Engine, name: str) -> Iterator[bool]:
    """Hold the session-level advisory lock of the job `name` on PostgreSQL for a run that
    spans many transactions (a sync commits batch by batch); yields False when another
    process holds it. Always True on SQLite (one writer)."""
    if not is_postgres(engine):
        yield True
        return
    key = zlib.crc32(f"salesops:{name}".encode())
    with engine.connect() as connection:
        taken = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}))
        connection.commit()
        try:
            yield taken
        finally:
            if taken:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()


def _alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema up to the newest migration (a database it cannot open: see
    `check_connection`)."""
    check_connection(engine)
    command.upgrade(_alembic_config(engine), "head")


def schema_status(engine: Engine) -> tuple[str | None, str]:
    """The database's current revision and the code's head revision."""
    head = ScriptDirectory.from_config(_alembic_config(engine)).get_current_head()
    with engine.connect() as connection:
        current = MigrationContext.configure(connection).get_current_revision()
    return current, str(head)


def open_existing(engine: Engine) -> None:
    """Check that the database exists and opens, without creating it: a SQLite file that does
    not exist raises DatabaseNotReady (run from the wrong folder, a command would otherwise
    leave an empty salesops.db there), one that cannot be opened DatabaseUnavailable."""
    missing = new_sqlite_file(engine)
    if missing is not None and missing.parent.is_dir():
        raise DatabaseNotReady(
            f"no database file {missing} (DATABASE_URL {shown_url(engine.url)}). Run "
            "`salesops demo` (a demo org) or `salesops migrate` (an empty database) in "
            f"{missing.parent}, or set DATABASE_URL to your database"
        )
    check_connection(engine)


def require_migrated(engine: Engine) -> None:
    """Raise DatabaseNotReady unless the database exists (`open_existing`) and its schema is
    at the newest migration."""
    open_existing(engine)
    current, head = schema_status(engine)
    if current != head:
        where = "is empty" if current is None else f"is at revision {current}, code needs {head}"
        raise DatabaseNotReady(
            f"The database {shown_url(engine.url)} {where}. Run `salesops migrate` first."
        )


def rows_changed(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE statement changed (its DBAPI rowcount)."""
    return cast(CursorResult[Any], result).rowcount
