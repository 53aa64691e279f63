"""The salesops process: Slack app, HTTP server, scheduler, delivery and CLI."""
