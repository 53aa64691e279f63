"""The HTTP process: one ASGI app with Slack's endpoint, health, metrics and the ingest API.

Bolt runs as an AsyncApp behind its async Starlette handler, so an ack never waits behind
blocking work (that runs in worker threads). The ingest API (`bot.api`) and any module that
contributes metrics (`register_metrics(metrics, deps)`, e.g. `bot.delivery`) are mounted here.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.util
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from sqlalchemy import Engine, text

from bot.app import build_app
from bot.context import Deps
from bot.metrics import CONTENT_TYPE_LATEST, RequestMetricsMiddleware
from bot.runtime import Runtime

log = logging.getLogger("salesops.server")

API_PREFIX = "/api/v1"
# Modules that may add collectors to /metrics through `register_metrics(metrics, deps)`.
METRICS_CONTRIBUTORS = ("bot.delivery",)
# On shutdown, answers being computed get this long to reach the user (Kubernetes gives 30 s).
SHUTDOWN_GRACE_SECONDS = 25.0


def _optional_module(name: str):  # type: ignore[no-untyped-def]
    """The module if it is part of this installation, else None (parts land independently)."""
    return importlib.import_module(name) if importlib.util.find_spec(name) is not None else None


def database_answers(engine: Engine) -> bool:
    """True when a trivial query succeeds (blocking; run it in a worker thread)."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return True
    except Exception:
        log.warning("health check: the database does not answer", exc_info=True)
        return False


def create_app(
    deps: Deps,
    *,
    runtime: Runtime | None = None,
    bolt: AsyncApp | None = None,
) -> FastAPI:
    """The ASGI app: POST /slack/events, GET /healthz, GET /metrics and the ingest API.

    On shutdown it waits (up to SHUTDOWN_GRACE_SECONDS) for answers still being computed.
    """
    runtime = runtime or Runtime()
    metrics = runtime.metrics
    bolt = bolt or build_app(deps, runtime=runtime)
    slack = AsyncSlackRequestHandler(bolt)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        await runtime.background.drain(SHUTDOWN_GRACE_SECONDS)

    app = FastAPI(
        lifespan=lifespan,
        title="salesops",
        summary="Slack bot endpoint, health, metrics and the ingest API.",
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.add_middleware(RequestMetricsMiddleware, metrics=metrics)

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request) -> Response:
        return await slack.handle(request)

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

    ingest = _optional_module("bot.api")
    if ingest is not None:
        app.include_router(ingest.build_ingest_router(deps), prefix=API_PREFIX)
    for name in METRICS_CONTRIBUTORS:
        module = _optional_module(name)
        if module is not None and hasattr(module, "register_metrics"):
            module.register_metrics(metrics, deps)
    return app
