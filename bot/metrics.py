"""Prometheus metrics of one server process, in a registry of its own (no global state).

Other parts of the bot contribute by registering a collector on the server's `Metrics`:
a module may define `register_metrics(metrics: Metrics, deps: Deps) -> None`, which
`bot.server.create_app` calls when it builds the app (the outbox gauges come in this way).
A collector that reads the database should do so in `collect()`, at scrape time.
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_TYPE_LATEST", "Metrics", "RequestMetricsMiddleware"]


class Metrics:
    """The counters and histograms the bot keeps, and the registry they live in."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "salesops_http_requests",
            "HTTP requests served, by route and status code.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.commands = Counter(
            "salesops_slash_commands",
            "Slash commands answered, by command and outcome "
            "(ok, user_error, unknown_user, error).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self.command_seconds = Histogram(
            "salesops_slash_command_answer_seconds",
            "Time from the start of the background work to the answer on response_url.",
            ["command"],
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 1.5, 2.5, 5, 10, 30),
            registry=self.registry,
        )
        self.actions = Counter(
            "salesops_button_presses",
            "Button presses answered, by action id and outcome (ok, user_error, error).",
            ["action", "outcome"],
            registry=self.registry,
        )
        self.errors = Counter(
            "salesops_errors",
            "Unexpected errors (the ones users see as 'something went wrong'), by where.",
            ["where"],
            registry=self.registry,
        )
        self.events = Counter(
            "salesops_slack_events",
            "Slack events received, by type; duplicates are Slack retries that were skipped.",
            ["type", "duplicate"],
            registry=self.registry,
        )
        self.digest_chart_failures = Counter(
            "salesops_digest_chart_failures",
            "Digest charts that could not be drawn (the digest went out without its chart).",
            registry=self.registry,
        )

        self.background_tasks = Gauge(
            "salesops_background_tasks",
            "Slash-command answers and other lazy work running now.",
            registry=self.registry,
        )

    def add_collector(self, collector: Collector) -> None:
        """Add a custom collector (e.g. gauges read from the database at scrape time)."""
        self.registry.register(collector)

    def render(self) -> bytes:
        """The Prometheus text exposition of everything registered."""
        return generate_latest(self.registry)


class RequestMetricsMiddleware:
    """Counts every HTTP request by route template and status (pure ASGI: adds no await)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route = scope.get("route")
            path = getattr(route, "path", None) or "unmatched"
            self.metrics.requests.labels(scope["method"], path, str(status)).inc()
