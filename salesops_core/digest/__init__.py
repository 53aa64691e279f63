"""The weekly digest: a team's (or region's) period in numbers, for its manager. Data, not Slack."""
