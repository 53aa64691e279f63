"""Storage: engine and sessions, the typed ORM model, Alembic migrations."""
