"""The real app over real HTTP: the server, the local Slack, the console script."""
