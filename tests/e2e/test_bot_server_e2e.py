"""The server over real HTTP: request signing, events (App Home, retries), health, metrics."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from salesops_core.db.models import Rep, Role
from tests.support.bot_harness import RunningBot, start_bot
from tests.support.slack_server import FakeSlack


@pytest.fixture
def bot(
    database_url: str, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> Iterator[RunningBot]:
    with sessions.begin() as session:
        session.add(Rep(name="Ann Lee", email="ann@acme.test", slack_user_id="UANN"))
        session.add(Rep(name="Ada Admin", email="ada@acme.test", role=Role.ADMIN))
    fake_slack.add_user("UADA", "ada@acme.test")
    fake_slack.add_user("UZOE", "zoe@acme.test")
    running = start_bot(database_url, fake_slack.base_url)
    yield running
    running.stop()


def home_opened(user: str) -> dict:
    return {
        "type": "app_home_opened",
        "user": user,
        "channel": "D0HOME",
        "tab": "home",
        "event_ts": f"{time.time():.6f}",
    }


def test_a_request_with_a_bad_signature_gets_401_and_runs_nothing(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    url = fake_slack.response_url()
    response = bot.post_command("/kpi", "", user_id="UANN", response_url=url, secret="wrong")
    assert response.status_code == 401
    assert fake_slack.calls == [] and fake_slack.responses == []


def test_a_request_signed_more_than_five_minutes_ago_gets_401(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    url = fake_slack.response_url()
    old = int(time.time()) - 6 * 60
    response = bot.post_command("/kpi", "", user_id="UANN", response_url=url, timestamp=old)
    assert response.status_code == 401
    assert fake_slack.responses == []


def test_app_home_opened_publishes_the_viewers_dashboard(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    assert bot.post_event(home_opened("UANN"), "Ev001").status_code == 200
    assert fake_slack.wait_for(lambda: fake_slack.calls_to("views.publish"), timeout=30)
    (publish,) = fake_slack.calls_to("views.publish")
    assert publish.params["user_id"] == "UANN"
    view = publish.params["view"]
    assert view["type"] == "home"
    assert 0 < len(view["blocks"]) <= 100


def test_app_home_of_an_unknown_user_says_whom_to_ask(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    bot.post_event(home_opened("UZOE"), "Ev002")
    assert fake_slack.wait_for(lambda: fake_slack.calls_to("views.publish"), timeout=30)
    view = fake_slack.calls_to("views.publish")[0].params["view"]
    assert "I don't know you yet" in str(view) and "zoe@acme.test" in str(view)


def test_a_retried_event_is_acked_but_not_processed_twice(
    bot: RunningBot, fake_slack: FakeSlack
) -> None:
    assert bot.post_event(home_opened("UANN"), "Ev003").status_code == 200
    assert bot.post_event(home_opened("UANN"), "Ev003", retry_num=1).status_code == 200
    assert bot.post_event(home_opened("UANN"), "Ev003", retry_num=2).status_code == 200
    assert bot.post_event(home_opened("UADA"), "Ev004").status_code == 200
    assert fake_slack.wait_for(lambda: len(fake_slack.calls_to("views.publish")) >= 2, 30)
    users = sorted(c.params["user_id"] for c in fake_slack.calls_to("views.publish"))
    assert users == ["UADA", "UANN"]
    metrics = bot.get("/metrics").text
    assert 'salesops_slack_events_total{duplicate="yes",type="app_home_opened"} 2.0' in metrics


def test_healthz_is_200_when_the_database_answers(bot: RunningBot) -> None:
    response = bot.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_healthz_is_503_when_the_database_does_not_answer(fake_slack: FakeSlack, tmp_path) -> None:  # type: ignore[no-untyped-def]
    running = start_bot(f"sqlite:///{tmp_path}/missing/dir/x.db", fake_slack.base_url)
    try:
        assert running.get("/healthz").status_code == 503
    finally:
        running.stop()


def test_metrics_are_prometheus_text_with_request_counts(bot: RunningBot) -> None:
    bot.get("/healthz")
    response = bot.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert re.search(
        r'salesops_http_requests_total\{method="GET",route="/healthz",status="200"\} 1\.0',
        response.text,
    )


def test_openapi_is_served_under_api_v1(bot: RunningBot) -> None:
    spec = bot.get("/api/v1/openapi.json").json()
    assert spec["info"]["title"] == "salesops"
    assert "/healthz" in spec["paths"] and "/slack/events" not in spec["paths"]
