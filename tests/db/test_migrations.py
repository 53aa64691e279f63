from sqlalchemy import inspect

from salesops_core.db.engine import require_migrated, schema_status
from salesops_core.db.models import Base


def test_migrations_from_empty_reach_head_and_match_the_models(engine):
    current, head = schema_status(engine)
    assert current == head
    require_migrated(engine)
    tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    assert tables == set(Base.metadata.tables)


def test_models_and_migrations_agree(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
