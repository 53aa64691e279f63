"""salesops domain: people, KPIs, the lead clock, imports, the demo org. Knows nothing about Slack."""
