"""salesops domain: data model, KPI engine, lead clock, nudges. Knows nothing about Slack."""
