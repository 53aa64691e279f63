"""The numbers: the KPI registry, grouped queries, the engine, read views, explain, format."""
