"""Who may read /metrics and the OpenAPI pages: the app as `serve` builds it, asked in-process
from a client address outside this host (and from loopback)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from bot.deps import build_deps
from bot.server import create_app
from tests.support.bot_harness import bot_settings

REMOTE = ("203.0.113.9", 40000)
LOOPBACK_V6 = ("::1", 40000)


def _get(
    database_url: str, path: str, client: tuple[str, int], headers: dict[str, str] | None = None,
    **settings: Any,
) -> httpx.Response:  # fmt: skip
    """GET `path` from `client`'s address, from the app built with `settings`."""
    return asyncio.run(_fetch(database_url, path, client, headers or {}, settings))


async def _fetch(
    database_url: str, path: str, client: tuple[str, int], headers: dict[str, str],
    settings: dict[str, Any],
) -> httpx.Response:  # fmt: skip
    deps = build_deps(bot_settings(database_url, "http://127.0.0.1:9/api/", **settings))
    transport = httpx.ASGITransport(app=create_app(deps), client=client)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
            return await http.get(path, headers=headers)
    finally:
        deps.engine.dispose()


@pytest.mark.parametrize("path", ["/metrics", "/api/v1/openapi.json", "/api/v1/docs"])
def test_operations_pages_refuse_a_remote_client_by_default(database_url: str, path: str) -> None:
    response = _get(database_url, path, REMOTE)
    assert response.status_code == 403
    assert "answers this host only" in response.json()["detail"]


@pytest.mark.parametrize("path", ["/metrics", "/api/v1/openapi.json"])
def test_operations_pages_answer_loopback_over_ipv6(database_url: str, path: str) -> None:
    assert _get(database_url, path, LOOPBACK_V6).status_code == 200


def test_metrics_public_opens_metrics_to_everyone(database_url: str) -> None:
    response = _get(database_url, "/metrics", REMOTE, metrics_public=True)
    assert response.status_code == 200 and "salesops_" in response.text


def test_metrics_token_lets_a_remote_scraper_in_and_no_one_else(database_url: str) -> None:
    token = {"metrics_token": "scrape-me"}
    good = _get(database_url, "/metrics", REMOTE, {"Authorization": "Bearer scrape-me"}, **token)
    wrong = _get(database_url, "/metrics", REMOTE, {"Authorization": "Bearer nope"}, **token)
    none = _get(database_url, "/metrics", REMOTE, **token)
    assert good.status_code == 200
    assert wrong.status_code == 401 and none.status_code == 401
    assert none.headers["WWW-Authenticate"] == "Bearer"


def test_api_docs_open_to_the_ingest_token_or_when_public(database_url: str) -> None:
    path = "/api/v1/openapi.json"
    with_token = _get(
        database_url, path, REMOTE, {"Authorization": "Bearer in-tok"}, ingest_token="in-tok"
    )
    public = _get(database_url, path, REMOTE, api_docs_public=True)
    assert with_token.status_code == 200 and public.status_code == 200
    assert "/api/v1/leads" in public.json()["paths"]


def test_metrics_public_does_not_open_the_api_docs(database_url: str) -> None:
    response = _get(database_url, "/api/v1/openapi.json", REMOTE, metrics_public=True)
    assert response.status_code == 403


def test_a_root_path_in_front_does_not_open_the_operations_pages(database_url: str) -> None:
    """Mounted under a root path (`uvicorn --root-path`, a parent app), the router still answers
    /metrics and the OpenAPI document: the guard judges the route, not the URL's prefix."""

    async def fetch(path: str) -> httpx.Response:
        deps = build_deps(bot_settings(database_url, "http://127.0.0.1:9/api/"))
        app = create_app(deps)
        transport = httpx.ASGITransport(app=app, client=REMOTE, root_path="/salesops")
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
                return await http.get(f"/salesops{path}")
        finally:
            deps.engine.dispose()

    for path in ("/metrics", "/api/v1/openapi.json"):
        assert asyncio.run(fetch(path)).status_code == 403
