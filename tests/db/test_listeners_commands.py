"""The slash-command listener with fakes: a fake `respond` and Web API client, a real database."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any
from unittest.mock import AsyncMock

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import Deps
from bot.listeners.commands import answer_command
from bot.settings import Settings
from salesops_core.db.models import Deal, Outcome, Rep
from salesops_core.org.identity import UnknownSlackUser
from salesops_core.timeutil import utcnow


@pytest.fixture
def deps(engine: Engine, sessions: sessionmaker[Session]) -> Iterator[Deps]:
    with sessions.begin() as session:
        session.add(Rep(name="Ann Lee", email="ann@acme.test", slack_user_id="UANN"))
        session.add(Rep(name="Bob Stone", email="bob@acme.test"))
    container = Deps(settings=Settings(), engine=engine, sessions=sessions, charts=False)
    yield container
    container.workers.close()


def slash(text: str, user_id: str = "UANN", command: str = "/salesops") -> dict[str, Any]:
    return {"command": command, "text": text, "user_id": user_id, "channel_id": "C0SALES"}


def answer(deps: Deps, command: dict[str, Any], client: AsyncMock) -> AsyncMock:
    """Run the listener; return the fake `respond` it answered through."""
    respond = AsyncMock()
    asyncio.run(answer_command(deps, command=command, client=client, respond=respond))
    return respond


def test_a_known_rep_is_answered_privately_without_asking_slack(deps: Deps) -> None:
    client = AsyncMock(spec=AsyncWebClient)
    respond = answer(deps, slash("whoami"), client)
    (call,) = respond.await_args_list
    assert call.kwargs["response_type"] == "ephemeral"
    assert call.kwargs["replace_original"] is False
    assert "Ann Lee" in str(call.kwargs["blocks"])
    assert client.mock_calls == []
    histogram = "salesops_slash_command_answer_seconds_count"
    assert deps.metrics.registry.get_sample_value(histogram, {"command": "/salesops"}) == 1


def test_share_answers_in_the_channel(deps: Deps) -> None:
    respond = answer(deps, slash("share", command="/quota"), AsyncMock(spec=AsyncWebClient))
    (call,) = respond.await_args_list
    assert call.kwargs["response_type"] == "in_channel"


def test_a_first_time_user_is_found_by_their_slack_email_and_linked(deps: Deps) -> None:
    client = AsyncMock(spec=AsyncWebClient)
    client.users_info.return_value = {"user": {"profile": {"email": "bob@acme.test"}}}
    respond = answer(deps, slash("whoami", user_id="UBOB"), client)
    (call,) = respond.await_args_list
    assert "Bob Stone" in str(call.kwargs["blocks"])
    client.users_info.assert_awaited_once_with(user="UBOB")
    with deps.sessions() as session:
        assert session.scalar(select(Rep.slack_user_id).where(Rep.name == "Bob Stone")) == "UBOB"


def test_a_user_no_rep_matches_raises_unknown_slack_user_with_their_email(deps: Deps) -> None:
    client = AsyncMock(spec=AsyncWebClient)
    client.users_info.return_value = {"user": {"profile": {"email": "zoe@acme.test"}}}
    respond = AsyncMock()
    with pytest.raises(UnknownSlackUser, match=r"zoe@acme\.test"):
        asyncio.run(answer_command(deps, slash("whoami", "UZOE"), client, respond))
    respond.assert_not_awaited()


def add_open_deal(deps: Deps) -> None:
    """An open deal of Ann's closing tomorrow, so /pipeline has a chart to draw."""
    with deps.sessions.begin() as session:
        ann = session.scalars(select(Rep).where(Rep.slack_user_id == "UANN")).one()
        session.add(
            Deal(
                external_id="D1",
                name="Acme",
                owner_id=ann.id,
                amount=10_000,
                stage="Proposal",
                probability=0.5,
                outcome=Outcome.OPEN,
                created_at=utcnow() - timedelta(days=3),
                expected_close=utcnow() + timedelta(days=1),
            )
        )


def test_a_shared_answers_chart_goes_into_the_channel_after_the_answer(deps: Deps) -> None:
    add_open_deal(deps)
    order: list[str] = []
    client = AsyncMock(spec=AsyncWebClient)
    client.files_upload_v2.side_effect = lambda **_: order.append("upload")
    respond = AsyncMock(side_effect=lambda **_: order.append("answer"))
    command = slash("share", command="/pipeline")
    asyncio.run(answer_command(replace(deps, charts=True), command, client, respond))
    assert order == ["answer", "upload"]
    (upload,) = client.files_upload_v2.await_args_list
    assert upload.kwargs["channel"] == "C0SALES"
    assert upload.kwargs["initial_comment"] == "`/pipeline share`"
    assert upload.kwargs["file_uploads"][0]["content"].startswith(b"\x89PNG")


def test_without_charts_nothing_is_uploaded(deps: Deps) -> None:
    add_open_deal(deps)
    client = AsyncMock(spec=AsyncWebClient)
    answer(deps, slash("share", command="/pipeline"), client)
    assert client.mock_calls == []
