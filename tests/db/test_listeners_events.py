"""The App Home listener with a fake Web API client and a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from types import SimpleNamespace
from unittest.mock import AsyncMock

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import Deps
from bot.listeners.errors import guarded
from bot.listeners.events import publish_home, publish_notice
from bot.settings import Settings
from salesops_core.db.models import Rep


@pytest.fixture
def deps(engine: Engine, sessions: sessionmaker[Session]) -> Iterator[Deps]:
    with sessions.begin() as session:
        session.add(Rep(name="Ann Lee", email="ann@acme.test", slack_user_id="UANN"))
    container = Deps(settings=Settings(), engine=engine, sessions=sessions)
    yield container
    container.workers.close()


def opened(user: str, tab: str = "home") -> dict[str, str]:
    return {"type": "app_home_opened", "user": user, "tab": tab}


def test_opening_the_home_tab_publishes_the_viewers_dashboard(deps: Deps) -> None:
    client = AsyncMock(spec=AsyncWebClient)
    asyncio.run(publish_home(deps, opened("UANN"), client))
    (call,) = client.views_publish.await_args_list
    assert call.kwargs["user_id"] == "UANN"
    assert call.kwargs["view"]["type"] == "home" and call.kwargs["view"]["blocks"]


def test_opening_the_messages_tab_publishes_nothing(deps: Deps) -> None:
    client = AsyncMock(spec=AsyncWebClient)
    asyncio.run(publish_home(deps, opened("UANN", tab="messages"), client))
    assert client.mock_calls == []


def test_an_unknown_user_is_told_on_their_home_tab_whom_to_ask(deps: Deps) -> None:
    client = AsyncMock(spec=AsyncWebClient)
    client.users_info.return_value = {"user": {"profile": {"email": "zoe@acme.test"}}}
    event = opened("UZOE")
    args = SimpleNamespace(event=event, client=client, body={"event": event})
    asyncio.run(guarded(publish_home, deps, present=publish_notice)(args))  # type: ignore[arg-type]
    (call,) = client.views_publish.await_args_list
    assert call.kwargs["user_id"] == "UZOE"
    text = call.kwargs["view"]["blocks"][0]["text"]["text"]
    assert "I don't know you yet" in text and "zoe@acme.test" in text
