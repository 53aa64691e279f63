"""Tests against a migrated database, on SQLite and (when configured) PostgreSQL."""
