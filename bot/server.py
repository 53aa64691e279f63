"""The HTTP process: one ASGI app with Slack's endpoint, health, metrics and the ingest API.

Bolt runs as an AsyncApp behind its async Starlette handler, so an ack never waits behind
blocking work (that runs in worker threads). The ingest API (`bot.api`) is mounted here, and
`bot.jobs.delivery` adds its outbox gauges to /metrics (`register_metrics(metrics, deps)`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import Engine, text

from bot.api import build_ingest_router
from bot.app import build_app
from bot.deps import Deps
from bot.guards import Exposure, RequestGuard, verify_slack_request
from bot.jobs import delivery
from bot.metrics import CONTENT_TYPE_LATEST, RequestMetricsMiddleware
from bot.runtime import SLACK_PATH, AckFirstMiddleware

log = logging.getLogger("salesops.server")

API_PREFIX = "/api/v1"
# On shutdown, answers being computed get this long to reach the user (Kubernetes gives 30 s).
SHUTDOWN_GRACE_SECONDS = 25.0


def database_answers(engine: Engine) -> bool:
    """True when a trivial query succeeds (blocking; run it in a worker thread)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        log.warning("health check: the database does not answer", exc_info=True)
        return False


def create_app(deps: Deps) -> FastAPI:
    """The ASGI app: POST /slack/events, GET /healthz, GET /metrics and the ingest API.

    On start it starts the chart processes. On shutdown it waits (up to
    SHUTDOWN_GRACE_SECONDS) for answers still being computed, then stops the worker threads and
    the chart processes.
    """
    metrics = deps.metrics
    settings = deps.settings
    slack = AsyncSlackRequestHandler(build_app(deps))
    secret = settings.slack_signing_secret
    verifier = SignatureVerifier(secret) if secret else None

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if deps.chart_pool is not None:  # warm chart processes before the first command
            deps.chart_pool.start()
        yield
        await deps.background.drain(SHUTDOWN_GRACE_SECONDS)
        deps.workers.close()
        if deps.chart_pool is not None:
            await asyncio.to_thread(deps.chart_pool.close)

    app = FastAPI(
        lifespan=lifespan,
        title="salesops",
        summary="Slack bot endpoint, health, metrics and the ingest API.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.add_middleware(
        RequestGuard,
        api_prefix=API_PREFIX,
        docs_paths=(f"{API_PREFIX}/openapi.json", f"{API_PREFIX}/docs"),
        ingest_token=settings.ingest_token,
        metrics=Exposure(
            "/metrics",
            public=settings.metrics_public,
            token=settings.metrics_token,
            how_to_open="set SALESOPS_METRICS_TOKEN (then scrape with it) "
            "or SALESOPS_METRICS_PUBLIC=true",
        ),
        docs=Exposure(
            "The API documentation",
            public=settings.api_docs_public,
            token=settings.ingest_token,
            how_to_open="send the ingest token or set SALESOPS_API_DOCS_PUBLIC=true",
        ),
        slack_path=SLACK_PATH,
    )
    app.add_middleware(AckFirstMiddleware)
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)

    @app.post(SLACK_PATH, include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        await verify_slack_request(request, verifier)  # 401/400 before Bolt reads a field
        return await slack.handle(request)  # Bolt reads the same (cached) body

    @app.get("/healthz", tags=["operations"])
    async def healthz() -> JSONResponse:
        """200 when the database answers, 503 otherwise."""
        if await asyncio.to_thread(database_answers, deps.engine):
            return JSONResponse({"status": "ok"})
        return JSONResponse({"status": "database unavailable"}, status_code=503)

    @app.get("/metrics", tags=["operations"], response_class=Response)
    async def prometheus_metrics() -> Response:
        """Prometheus text format."""
        body = await asyncio.to_thread(metrics.render)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    app.include_router(build_ingest_router(deps), prefix=API_PREFIX)
    delivery.register_metrics(metrics, deps)  # outbox gauges
    return app
