"""`/forecast scorecard` end to end: signed slash commands to the running server, answers on
the local Slack's response_url; and the scorecards after a quarter delivered by the dispatcher,
once (tests/support/scorecard_org.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from bot.jobs.delivery import Dispatcher
from bot.jobs.scorecards import run_scorecards
from commands.forecast_scorecard import SHARE_REFUSED
from salesops_core.db.engine import make_session_factory
from salesops_core.db.models import Outbox, OutboxStatus
from tests.conftest import empty_all_tables
from tests.support.bot_harness import RunningBot, start_bot
from tests.support.scorecard_org import build_scorecard_org
from tests.support.slack_server import FakeSlack


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def bot(engine: Engine, slack: FakeSlack) -> Iterator[RunningBot]:
    with make_session_factory(engine)() as session:
        build_scorecard_org(session)
    running = start_bot(engine.url.render_as_string(hide_password=False), slack.base_url)
    yield running
    running.stop()
    empty_all_tables(engine)


@pytest.fixture
def fake(slack: FakeSlack, bot: RunningBot) -> FakeSlack:
    slack.reset()
    for user_id, email in [("UANN", "ann@acme.test"), ("UBOB", "bob@acme.test"),
                           ("UMIA", "mia@acme.test"), ("UDAN", "dan@acme.test")]:  # fmt: skip
        slack.add_user(user_id, email)
    return slack


def ask(bot: RunningBot, fake: FakeSlack, text: str, user: str) -> dict:
    """Post `/forecast <text>`, check the empty ack, return the answer on response_url."""
    url = fake.response_url()
    ack = bot.post_command("/forecast", text, user_id=user, response_url=url)
    assert (ack.status_code, ack.text) == (200, "")
    path = url.removeprefix(fake.url)
    assert fake.wait_for(lambda: any(r["_path"] == path for r in fake.responses), timeout=30)
    return next(r for r in fake.responses if r["_path"] == path)


def test_a_rep_gets_their_scorecard_privately(bot: RunningBot, fake: FakeSlack) -> None:
    answer = ask(bot, fake, "scorecard 2026-Q3", "UANN")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "Your forecast scorecard"
    blocks = json.dumps(answer["blocks"])
    assert "Your forecast scorecard \\u00b7 2025-Q4 to 2026-Q3" in blocks
    assert (
        "Under-called 3 of 3 quarters with a commit and a win (of 4 shown), by 16% on average"
        in blocks
    )


def test_a_rep_asking_for_another_reps_scorecard_is_refused(
    bot: RunningBot, fake: FakeSlack
) -> None:
    answer = ask(bot, fake, "scorecard ann@acme.test 2026-Q3", "UBOB")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == (
        "Sorry, you can only see your own numbers, not Ann Under's. "
        "Your manager or a sales-ops admin can see the team's."
    )
    assert "Ann Under" not in json.dumps(answer.get("blocks", ""))


def test_share_is_refused_with_one_line(bot: RunningBot, fake: FakeSlack) -> None:
    answer = ask(bot, fake, "scorecard share", "UANN")
    assert (answer["response_type"], answer["text"]) == ("ephemeral", SHARE_REFUSED)


def test_the_manager_sees_the_teams_scorecard(bot: RunningBot, fake: FakeSlack) -> None:
    blocks = json.dumps(ask(bot, fake, "scorecard team 2026-Q3", "UMIA")["blocks"])
    assert "East: forecast scorecard" in blocks
    assert "MAPE 20% across 1 rep" in blocks  # 2026-Q3: only Ann committed


def test_the_scorecards_after_a_quarter_are_delivered_once(
    bot: RunningBot, fake: FakeSlack
) -> None:
    nine = datetime(2027, 1, 1, 9, tzinfo=UTC)
    dispatcher = Dispatcher(bot.deps.sessions, fake.web_client(), clock=lambda: nine)
    for _ in range(2):  # the job and the dispatcher twice: the second sends nothing
        run_scorecards(bot.deps, nine)
        dispatcher.drain()
    posts = fake.calls_to("chat.postMessage")
    assert sorted(p.params["channel"] for p in posts) == ["UANN", "UBOB", "UDAN", "UMIA"]
    # everyone is in UTC here: Ann's, Bob's and Dan's own, and Mia's of the team (Cat had
    # nothing in 2026-Q4)
    assert sorted(p.params["text"] for p in posts) == [
        "East: forecast scorecard after 2026-Q4",
        "Your forecast scorecard after 2026-Q4",
        "Your forecast scorecard after 2026-Q4",
        "Your forecast scorecard after 2026-Q4",
    ]
    with bot.deps.sessions() as session:
        assert session.scalars(select(Outbox.status)).all() == [OutboxStatus.SENT] * 4
