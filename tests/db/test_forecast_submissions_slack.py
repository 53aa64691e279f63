"""The "Submit forecast" button of a no_forecast nudge, pressed in the real app (signed requests
dispatched in-process, the local Slack recording what the bot sends): it opens the forecast
modal for the quarter the nudge is about, the press is recorded as acted on, and only the
nudge's owner, their manager or an admin may press it."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commands.forecast_modal import FORECAST_CALLBACK, FormOrigin
from commands.notices import NUDGE_ACTION_IDS
from salesops_core import outbox
from salesops_core.config import OrgConfig
from salesops_core.db.models import Forecast, NudgeLog, Rep
from salesops_core.forecast.submissions import open_quarters
from salesops_core.nudges import log
from salesops_core.nudges.facts import DEFERRALS, Action, Nudge, NudgeNotice, Rule
from salesops_core.timeutil import utcnow
from tests.support.inprocess import InProcessBot, in_process_bot
from tests.support.slack_server import FakeSlack

DM, TS = "DANN", "1700000000.000100"
NEXT = open_quarters(utcnow(), OrgConfig())[1]


@pytest.fixture
def log_id(sessions: sessionmaker[Session]) -> int:
    """Ann's no_forecast nudge about the next quarter, sent a minute ago."""
    now = utcnow()
    with sessions.begin() as session:
        ann = Rep(name="Ann Lee", email="ann@acme.test", slack_user_id="UANN", timezone="UTC")
        bob = Rep(name="Bob Stone", email="bob@acme.test", slack_user_id="UBOB")
        session.add_all([ann, bob])
        session.flush()
        nudge = Nudge(Rule.NO_FORECAST, ann.id, ann.name, f"period:{NEXT.label}",
                      f"No commit forecast for {NEXT.label} yet, due Friday", "Roll-up.",
                      (Action.SUBMIT_FORECAST, *DEFERRALS))  # fmt: skip
        sent = log.record_send(session, ann.id, nudge.rule, nudge.subject, now.date(), now)
        assert sent is not None
        key = log.nudge_key(ann.id, nudge.rule, nudge.subject, now.date())
        outbox.enqueue(session, NudgeNotice(nudge, sent), dedupe_key=key, recipient="UANN")
    return sent


@pytest.fixture
def bot(database_url: str, fake_slack: FakeSlack, log_id: int) -> Iterator[InProcessBot]:
    with in_process_bot(database_url, fake_slack) as running:
        yield running


def press(bot: InProcessBot, fake: FakeSlack, log_id: int, user: str) -> str:
    url = fake.response_url()
    ack = bot.press_button(NUDGE_ACTION_IDS[Action.SUBMIT_FORECAST], str(log_id), user_id=user,
                           channel_id=DM, message_ts=TS, response_url=url)  # fmt: skip
    assert (ack.status, ack.body) == (200, "")
    return url


def action_of(sessions: sessionmaker[Session], log_id: int) -> str | None:
    with sessions() as session:
        row = session.get(NudgeLog, log_id)
        assert row is not None
        return row.action


def test_submit_forecast_opens_the_modal_for_the_nudges_quarter_and_counts_as_acted_on(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int
) -> None:
    press(bot, fake_slack, log_id, "UANN")
    (opened,) = fake_slack.calls_to("views.open")
    view = opened.params["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["callback_id"] == FORECAST_CALLBACK
    assert FormOrigin.load(view["private_metadata"]) == FormOrigin(DM, None)
    assert view["blocks"][1]["element"]["initial_option"]["value"] == NEXT.label
    assert action_of(sessions, log_id) == "submit_forecast"

    values = {
        "period": {"value": {"type": "static_select", "selected_option": {"value": NEXT.label}}},
        "commit": {"value": {"type": "plain_text_input", "value": "75k"}},
    }
    ack = bot.submit_view(FORECAST_CALLBACK, values, user_id="UANN",
                          private_metadata=view["private_metadata"])  # fmt: skip
    assert (ack.status, ack.body) == (200, "")
    (told,) = fake_slack.calls_to("chat.postEphemeral")
    assert (told.params["channel"], told.params["user"]) == (DM, "UANN")
    assert told.params["text"].startswith(f"Commit $75,000 for {NEXT.label} recorded.")
    with sessions() as session:
        (row,) = session.scalars(select(Forecast)).all()
        assert (row.category, float(row.amount), row.period_start) == ("commit", 75_000, NEXT.start)


def test_someone_else_pressing_it_is_refused_and_nothing_opens(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int
) -> None:
    url = press(bot, fake_slack, log_id, "UBOB")
    path = url.removeprefix(fake_slack.url)
    assert [r["text"] for r in fake_slack.responses if r["_path"] == path] == [
        "Sorry, this nudge is Ann Lee's: only they, their manager or a sales-ops admin can act "
        "on it. Nothing was changed."
    ]
    assert fake_slack.calls_to("views.open") == []
    assert action_of(sessions, log_id) is None
