"""The process's wiring: settings, engine and session factory, built once per process."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.settings import Settings, load_settings
from salesops_core.db.engine import make_engine, make_session_factory, require_migrated


@dataclass(frozen=True)
class Deps:
    """What every entry point needs: settings and the database."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]


def build_deps(settings: Settings | None = None) -> Deps:
    """Load settings (unless given) and open the database they name."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    return Deps(settings=settings, engine=engine, sessions=make_session_factory(engine))


def build_ready_deps() -> Deps:
    """`build_deps()` for commands that need the schema: refuses an unmigrated database."""
    deps = build_deps()
    require_migrated(deps.engine)
    return deps
