"""People and teams: finding a rep, who may see whose numbers, KPI scopes."""
