"""The listeners' wiring with fakes: `guarded`, the error handler, the repeat guard, uploads."""

from __future__ import annotations

import asyncio
import re
from types import SimpleNamespace
from typing import Any
from unittest.mock import AsyncMock

import pytest
from slack_bolt.async_app import AsyncAck
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.orm import sessionmaker

from bot.deps import Deps
from bot.listeners.commands import acknowledge, upload_charts
from bot.listeners.errors import guarded, tell_user_about_error
from bot.listeners.events import SeenEvents, skip_repeated_events
from bot.settings import Settings
from commands.base import Chart
from salesops_core.db.engine import make_engine
from salesops_core.errors import NotAllowed

WENT_WRONG = re.compile(r"Something went wrong \(ref [0-9a-f]{6}\)\. ")


@pytest.fixture
def deps() -> Deps:
    """A container whose database is never opened (these listeners do not touch it)."""
    engine = make_engine("sqlite://")
    return Deps(settings=Settings(), engine=engine, sessions=sessionmaker(engine))


def bolt_args(**values: Any) -> SimpleNamespace:
    """Stand-in for Bolt's AsyncArgs: a slash command request with a response_url."""
    defaults: dict[str, Any] = {
        "body": {"command": "/kpi"},
        "command": {"command": "/kpi", "user_id": "UANN"},
        "client": AsyncMock(spec=AsyncWebClient),
        "respond": AsyncMock(),
        "context": SimpleNamespace(response_url="https://hooks.slack.test/1"),
    }
    return SimpleNamespace(**{**defaults, **values})


def metric(deps: Deps, name: str, **labels: str) -> float | None:
    return deps.metrics.registry.get_sample_value(name, labels)


def test_the_ack_function_acks_with_nothing() -> None:
    ack = AsyncMock(spec=AsyncAck)
    asyncio.run(acknowledge(ack))
    ack.assert_awaited_once_with()


def test_guarded_calls_the_listener_with_deps_and_the_bolt_arguments_it_names(deps: Deps) -> None:
    seen: list[tuple[Any, ...]] = []

    async def answer(deps: Deps, command: dict[str, Any], respond: Any) -> None:
        seen.append((deps, command, respond))

    args = bolt_args()
    asyncio.run(guarded(answer, deps)(args))  # type: ignore[arg-type]
    assert seen == [(deps, args.command, args.respond)]
    args.respond.assert_not_awaited()


def test_a_failing_guarded_listener_tells_the_user_privately_with_a_ref(deps: Deps) -> None:
    outcomes: list[str] = []

    async def answer(deps: Deps) -> None:
        raise KeyError("boom")

    args = bolt_args()
    wrapped = guarded(answer, deps, on_outcome=lambda _, __, outcome: outcomes.append(outcome))
    asyncio.run(wrapped(args))  # type: ignore[arg-type]
    (call,) = args.respond.await_args_list
    assert WENT_WRONG.match(call.kwargs["text"])
    assert call.kwargs["response_type"] == "ephemeral"
    assert outcomes == ["error"]
    assert metric(deps, "salesops_errors_total", where="answer") == 1


def test_a_domain_error_in_a_guarded_listener_is_shown_as_it_is(deps: Deps) -> None:
    outcomes: list[str] = []

    async def answer(deps: Deps) -> None:
        raise NotAllowed("Sorry, that is not your team.")

    args = bolt_args()
    wrapped = guarded(answer, deps, on_outcome=lambda _, __, outcome: outcomes.append(outcome))
    asyncio.run(wrapped(args))  # type: ignore[arg-type]
    (call,) = args.respond.await_args_list
    assert call.kwargs["text"] == "Sorry, that is not your team."
    assert outcomes == ["user_error"]
    assert metric(deps, "salesops_errors_total", where="answer") is None


def test_guarded_work_counts_as_background_work_while_it_runs(deps: Deps) -> None:
    running: list[float | None] = []

    async def answer(deps: Deps) -> None:
        running.append(metric(deps, "salesops_background_tasks"))

    asyncio.run(guarded(answer, deps)(bolt_args()))  # type: ignore[arg-type]
    assert running == [1]
    assert metric(deps, "salesops_background_tasks") == 0


def test_the_error_handler_replies_privately_on_the_response_url(deps: Deps) -> None:
    respond = AsyncMock()
    respond.response_url = "https://hooks.slack.test/2"
    asyncio.run(tell_user_about_error(deps, KeyError("x"), {"type": "block_actions"}, respond))
    (call,) = respond.await_args_list
    assert WENT_WRONG.match(call.kwargs["text"]) and call.kwargs["response_type"] == "ephemeral"
    assert metric(deps, "salesops_errors_total", where="listener for block_actions") == 1


def test_the_error_handler_says_nothing_where_there_is_no_response_url(deps: Deps) -> None:
    respond = AsyncMock()
    respond.response_url = None
    asyncio.run(tell_user_about_error(deps, KeyError("x"), {"type": "event_callback"}, respond))
    respond.assert_not_awaited()


def test_the_repeat_guard_runs_an_event_once_and_acks_the_repeat(deps: Deps) -> None:
    seen = SeenEvents()
    body = {"type": "event_callback", "event_id": "Ev1", "event": {"type": "app_home_opened"}}
    first_next, repeat_next = AsyncMock(), AsyncMock()
    assert asyncio.run(skip_repeated_events(deps, seen, body, first_next)) is None
    repeat = asyncio.run(skip_repeated_events(deps, seen, body, repeat_next))
    first_next.assert_awaited_once()
    repeat_next.assert_not_awaited()
    assert isinstance(repeat, BoltResponse) and (repeat.status, repeat.body) == (200, "")


def test_the_repeat_guard_lets_requests_without_an_event_id_through(deps: Deps) -> None:
    next_ = AsyncMock()
    asyncio.run(skip_repeated_events(deps, SeenEvents(), {"command": "/kpi"}, next_))
    next_.assert_awaited_once()
    assert metric(deps, "salesops_slack_events_total", type="None", duplicate="no") is None


def refused(error: str) -> SlackApiError:
    return SlackApiError(error, {"ok": False, "error": error})


def test_a_chart_the_channel_refuses_goes_to_the_users_dm() -> None:
    client = AsyncMock(spec=AsyncWebClient)
    client.files_upload_v2.side_effect = [refused("not_in_channel"), {"ok": True}]
    client.conversations_open.return_value = {"channel": {"id": "DANN"}}
    chart = Chart("kpi.png", "Won", lambda: b"png")
    shared_in = asyncio.run(
        upload_charts(
            client, [(chart, b"png")], user_id="UANN", channel_id="C0SALES", comment="`/kpi`"
        )
    )
    assert shared_in == "DANN"
    client.conversations_open.assert_awaited_once_with(users="UANN")
    channels = [call.kwargs["channel"] for call in client.files_upload_v2.await_args_list]
    assert channels == ["C0SALES", "DANN"]


def test_an_upload_error_other_than_a_refusal_is_raised() -> None:
    client = AsyncMock(spec=AsyncWebClient)
    client.files_upload_v2.side_effect = refused("invalid_auth")
    chart = Chart("kpi.png", "Won", lambda: b"png")
    with pytest.raises(SlackApiError):
        asyncio.run(
            upload_charts(
                client, [(chart, b"png")], user_id="UANN", channel_id="C0SALES", comment=""
            )
        )
    client.conversations_open.assert_not_awaited()
