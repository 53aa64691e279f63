"""Alembic environment: runs on the engine handed over by salesops_core.db.engine.migrate."""

from alembic import context

from salesops_core.db.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # plain `alembic` CLI use: take the URL from the config
    from salesops_core.db.engine import DEFAULT_DATABASE_URL, make_engine

    engine = make_engine(config.get_main_option("sqlalchemy.url") or DEFAULT_DATABASE_URL)

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
