"""The Bolt app in-process: signed requests dispatched into `build_app`, no HTTP server.

What the bot sends lands on the local Slack server; each request returns once its work is done.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from commands.digest import OPEN_IN_CRM
from commands.kit.help import USAGES
from salesops_core.db.models import Rep
from tests.support.inprocess import InProcessBot, in_process_bot
from tests.support.slack_server import FakeSlack

WENT_WRONG = re.compile(r"Something went wrong \(ref [0-9a-f]{6}\)\. ")


@pytest.fixture
def bot(
    database_url: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> Iterator[InProcessBot]:
    with sessions.begin() as session:
        session.add(Rep(name="Ann Lee", email="ann@acme.test", slack_user_id="UANN"))
    fake_slack.add_user("UZOE", "zoe@acme.test")
    with in_process_bot(database_url, fake_slack) as running:
        yield running


def answer_to(fake_slack: FakeSlack, url: str) -> dict[str, Any]:
    """The one post the bot made to this response_url."""
    (answer,) = [r for r in fake_slack.responses if r["_path"] == url.removeprefix(fake_slack.url)]
    return answer


def sample(bot: InProcessBot, name: str, **labels: str) -> float | None:
    return bot.deps.metrics.registry.get_sample_value(name, labels)


def home_opened(user: str) -> dict[str, Any]:
    return {"type": "app_home_opened", "user": user, "tab": "home", "event_ts": f"{time.time()}"}


def test_a_slash_command_is_acked_empty_and_answered_privately_on_response_url(
    bot: InProcessBot, fake_slack: FakeSlack
) -> None:
    url = fake_slack.response_url()
    ack = bot.command("/salesops", "whoami", user_id="UANN", response_url=url)
    assert (ack.status, ack.body) == (200, "")
    answer = answer_to(fake_slack, url)
    assert answer["response_type"] == "ephemeral" and answer["replace_original"] is False
    assert "Ann Lee" in str(answer["blocks"])
    assert fake_slack.calls_to("users.info") == []  # a stored Slack id needs no lookup
    assert sample(bot, "salesops_slash_commands_total", command="/salesops", outcome="ok") == 1


def test_help_answers_with_the_commands_usage(bot: InProcessBot, fake_slack: FakeSlack) -> None:
    url = fake_slack.response_url()
    bot.command("/kpi", "help", user_id="UANN", response_url=url)
    answer = answer_to(fake_slack, url)
    assert answer["text"] == f"Usage: {USAGES['/kpi'].line}"
    assert answer["blocks"][0]["text"]["text"] == "/kpi help"
    assert answer["response_type"] == "ephemeral"


def test_a_request_with_a_bad_signature_gets_401_and_runs_nothing(
    bot: InProcessBot, fake_slack: FakeSlack
) -> None:
    url = fake_slack.response_url()
    ack = bot.command("/kpi", "", user_id="UANN", response_url=url, secret="wrong")
    assert ack.status == 401
    assert fake_slack.calls == [] and fake_slack.responses == []


def test_app_home_opened_publishes_the_viewers_home_tab(
    bot: InProcessBot, fake_slack: FakeSlack
) -> None:
    assert bot.event(home_opened("UANN"), "Ev1").status == 200
    (publish,) = fake_slack.calls_to("views.publish")
    assert publish.params["user_id"] == "UANN"
    assert publish.params["view"]["type"] == "home" and publish.params["view"]["blocks"]


def test_a_retried_event_is_acked_and_handled_once(
    bot: InProcessBot, fake_slack: FakeSlack
) -> None:
    first = bot.event(home_opened("UANN"), "Ev2")
    retry = bot.event(home_opened("UANN"), "Ev2", retry_num=1)
    assert (first.status, retry.status) == (200, 200)
    assert len(fake_slack.calls_to("views.publish")) == 1
    labels = {"type": "app_home_opened"}
    assert sample(bot, "salesops_slack_events_total", **labels, duplicate="no") == 1
    assert sample(bot, "salesops_slack_events_total", **labels, duplicate="yes") == 1


def test_a_failing_lazy_listener_still_tells_the_user_with_a_ref(
    bot: InProcessBot, fake_slack: FakeSlack
) -> None:
    fake_slack.fail("users.info", error="fatal_error")  # the lookup of a first-time user fails
    url = fake_slack.response_url()
    ack = bot.command("/kpi", "", user_id="UZOE", response_url=url)
    assert ack.status == 200
    answer = answer_to(fake_slack, url)
    assert WENT_WRONG.match(answer["text"]) and answer["response_type"] == "ephemeral"
    assert sample(bot, "salesops_slash_commands_total", command="/kpi", outcome="error") == 1
    assert sample(bot, "salesops_errors_total", where="answer_command") == 1


def test_a_lead_button_on_a_lead_that_is_gone_rewrites_the_message(
    bot: InProcessBot, fake_slack: FakeSlack
) -> None:
    ack = bot.press_button(
        "lead_contacted", "999", user_id="UANN", channel_id="DANN", message_ts="1.000100"
    )
    assert ack.status == 200
    (update,) = fake_slack.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == ("DANN", "1.000100")
    assert update.params["text"] == "This lead no longer exists."


def test_the_digests_open_in_crm_link_button_is_acked_and_nothing_is_sent(
    bot: InProcessBot, fake_slack: FakeSlack
) -> None:
    ack = bot.press_button(OPEN_IN_CRM, "11", user_id="UANN", channel_id="DANN", message_ts="1.2")
    assert ack.status == 200
    assert [c.method for c in fake_slack.calls if c.method.startswith("chat.")] == []
    assert fake_slack.responses == []
