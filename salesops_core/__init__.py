"""salesops domain: people, KPIs, the lead clock, imports, the demo org. No Slack here."""
