"""`/forecast submit` end to end: signed requests over real HTTP to the real server, the local
Slack recording what the bot sends. The slash command opens the modal (views.open), a bad form
comes back with each field's error in the ack, a good one writes the rows and is confirmed
privately (chat.postEphemeral, or a DM when that fails); a rep's team call is refused, a forged
team in the modal's metadata writes nothing, and a badly signed submission is rejected."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commands.forecast_modal import FORECAST_CALLBACK
from salesops_core.config import OrgConfig
from salesops_core.db.models import Forecast, Rep, Role, Team
from salesops_core.forecast.submissions import default_quarter, open_quarters
from salesops_core.timeutil import utcnow
from tests.support.bot_harness import RunningBot, sign, start_bot, view_submission_body
from tests.support.slack_server import FakeSlack


@pytest.fixture
def bot(
    database_url: str, fake_slack: FakeSlack, sessions: sessionmaker[Session]
) -> Iterator[RunningBot]:
    """NA East: manager Freya (UFREYA), rep Grace (UGRACE); West: manager Max (UMAX)."""
    with sessions.begin() as session:
        east, west = Team(name="NA East"), Team(name="West")
        session.add_all([east, west])
        session.flush()
        freya = Rep(name="Freya Moreau", email="freya@example.com", slack_user_id="UFREYA",
                    role=Role.MANAGER, team_id=east.id)  # fmt: skip
        session.add(freya)
        session.flush()
        session.add_all([
            Rep(name="Grace Becker", email="grace@example.com", slack_user_id="UGRACE",
                team_id=east.id, manager_id=freya.id),
            Rep(name="Max West", email="max@example.com", slack_user_id="UMAX",
                role=Role.MANAGER, team_id=west.id),
        ])  # fmt: skip
    running = start_bot(database_url, fake_slack.base_url)
    yield running
    running.stop()


def as_json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def open_form(bot: RunningBot, fake: FakeSlack, user: str, text: str = "submit") -> dict:  # type: ignore[type-arg]
    """Send `/forecast <text>` as `user`; the view the bot opened."""
    before = len(fake.calls_to("views.open"))
    url = fake.response_url()
    ack = bot.post_command("/forecast", text, user_id=user, response_url=url)
    assert (ack.status_code, ack.text) == (200, "")
    assert fake.wait_for(lambda: len(fake.calls_to("views.open")) > before, timeout=10)
    opened = fake.calls_to("views.open")[-1]
    assert opened.params["trigger_id"] == "1.2.3"
    return dict(as_json(opened.params["view"]))


def values(period: str, commit: str, best: str | None = None, note: str | None = None) -> dict:  # type: ignore[type-arg]
    """The modal's `state.values` as Slack submits them."""
    return {
        "period": {"value": {"type": "static_select", "selected_option": {"value": period}}},
        "commit": {"value": {"type": "plain_text_input", "value": commit}},
        "best_case": {"value": {"type": "plain_text_input", "value": best}},
        "note": {"value": {"type": "plain_text_input", "value": note}},
    }


def submit(
    bot: RunningBot, form: dict[str, Any], user: str, metadata: str, secret: str | None = None
) -> httpx.Response:
    body = view_submission_body(FORECAST_CALLBACK, form, user_id=user, private_metadata=metadata)
    headers = sign(body) if secret is None else sign(body, secret=secret)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    return httpx.post(f"{bot.url}/slack/events", content=body, headers=headers, timeout=10)


def stored(sessions: sessionmaker[Session]) -> list[tuple[str, str, float, int | None, str | None]]:
    with sessions() as session:
        found = session.execute(
            select(Rep.name, Forecast.category, Forecast.amount, Forecast.team_id, Forecast.note)
            .join(Rep, Rep.id == Forecast.rep_id)
            .order_by(Forecast.category)
        ).all()
    return [(name, cat, float(amount), team, note) for name, cat, amount, team, note in found]


def test_a_rep_submits_a_forecast_through_the_modal_and_is_told_privately(
    bot: RunningBot, fake_slack: FakeSlack, sessions: sessionmaker[Session]
) -> None:
    now, org = utcnow(), OrgConfig()
    current, following = open_quarters(now, org)
    view = open_form(bot, fake_slack, "UGRACE")
    assert view["callback_id"] == FORECAST_CALLBACK
    metadata = view["private_metadata"]
    assert json.loads(metadata) == {"channel": "C0SALES", "team_id": None}
    select_ = view["blocks"][1]["element"]
    assert [o["value"] for o in select_["options"]] == [current.label, following.label]
    assert select_["initial_option"]["value"] == default_quarter(now, org).label == following.label

    bad = submit(bot, values(following.label, "lots", "-5"), "UGRACE", metadata)
    assert bad.status_code == 200
    assert bad.json() == {"response_action": "errors", "errors": {
        "commit": "'lots' is not an amount; e.g. 250000, $250,000, 250k or 1.2M",
        "best_case": "negative amount -5; amounts must be 0 or more",
    }}  # fmt: skip
    below = submit(bot, values(following.label, "300k", "250k"), "UGRACE", metadata)
    assert below.json()["errors"] == {"best_case": "the best case cannot be below the commit"}
    assert stored(sessions) == []

    good = submit(bot, values(following.label, "$250k", "320,000", "Acme renewal"), "UGRACE",
                  metadata)  # fmt: skip
    assert (good.status_code, good.text) == (200, "")
    assert fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"), timeout=10)
    (told,) = fake_slack.calls_to("chat.postEphemeral")
    assert (told.params["channel"], told.params["user"]) == ("C0SALES", "UGRACE")
    assert told.params["text"].startswith(
        f"Commit $250,000 and best case $320,000 for {following.label} recorded. "
        "It counts for accuracy until <!date^"
    )
    assert stored(sessions) == [
        ("Grace Becker", "best_case", 320_000, None, "Acme renewal"),
        ("Grace Becker", "commit", 250_000, None, "Acme renewal"),
    ]


def test_the_confirmation_goes_by_dm_when_the_channel_refuses_it(
    bot: RunningBot, fake_slack: FakeSlack, sessions: sessionmaker[Session]
) -> None:
    view = open_form(bot, fake_slack, "UGRACE")
    fake_slack.fail("chat.postEphemeral", error="channel_not_found")
    label = view["blocks"][1]["element"]["initial_option"]["value"]
    good = submit(bot, values(label, "1.2M"), "UGRACE", view["private_metadata"])
    assert good.status_code == 200
    assert fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"), timeout=10)
    (dm,) = fake_slack.calls_to("chat.postMessage")
    assert dm.params["channel"] == "UGRACE"
    assert dm.params["text"].startswith(f"Commit $1,200,000 for {label} recorded.")
    assert [row[:3] for row in stored(sessions)] == [("Grace Becker", "commit", 1_200_000)]


def test_a_manager_submits_the_team_call_and_a_rep_is_refused(
    bot: RunningBot, fake_slack: FakeSlack, sessions: sessionmaker[Session]
) -> None:
    url = fake_slack.response_url()
    ack = bot.post_command("/forecast", "submit team", user_id="UGRACE", response_url=url)
    assert ack.status_code == 200
    path = url.removeprefix(fake_slack.url)
    assert fake_slack.wait_for(lambda: [r for r in fake_slack.responses if r["_path"] == path])
    (refused,) = [r for r in fake_slack.responses if r["_path"] == path]
    assert refused["text"] == (
        "Sorry, only NA East's manager or a sales-ops admin can submit its team call. "
        "Your own forecast: `/forecast submit`."
    )
    assert fake_slack.calls_to("views.open") == []

    view = open_form(bot, fake_slack, "UFREYA", "submit team")
    with sessions() as session:
        east = session.scalars(select(Team.id).where(Team.name == "NA East")).one()
    assert json.loads(view["private_metadata"]) == {"channel": "C0SALES", "team_id": east}
    assert view["title"]["text"] == "Team call"
    label = view["blocks"][1]["element"]["initial_option"]["value"]

    # Grace replays Freya's modal (its metadata names NA East): access is checked again
    forged = submit(bot, values(label, "900k"), "UGRACE", view["private_metadata"])
    assert forged.status_code == 200
    assert fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postMessage"), timeout=10)
    (told,) = fake_slack.calls_to("chat.postMessage")
    assert told.params["channel"] == "UGRACE"
    assert told.params["text"].startswith("Sorry, only NA East's manager")
    assert stored(sessions) == []

    good = submit(bot, values(label, "900k", "1.1M"), "UFREYA", view["private_metadata"])
    assert good.status_code == 200
    assert fake_slack.wait_for(lambda: fake_slack.calls_to("chat.postEphemeral"), timeout=10)
    (confirmed,) = fake_slack.calls_to("chat.postEphemeral")
    assert confirmed.params["text"] == (
        f"Team call for NA East: commit $900,000 and best case $1,100,000 for {label} "
        f"recorded. `/forecast team {label}` shows it next to the reps' commits."
    )
    assert stored(sessions) == [
        ("Freya Moreau", "best_case", 1_100_000, east, None),
        ("Freya Moreau", "commit", 900_000, east, None),
    ]


@pytest.mark.parametrize("secret", ["wrong-secret", ""])
def test_a_badly_signed_submission_is_rejected_and_writes_nothing(
    bot: RunningBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], secret: str
) -> None:
    label = default_quarter(utcnow(), OrgConfig()).label
    metadata = json.dumps({"channel": "C0SALES", "team_id": None})
    if secret:
        answer = submit(bot, values(label, "250k"), "UGRACE", metadata, secret=secret)
    else:  # no signature at all
        body = view_submission_body(FORECAST_CALLBACK, values(label, "250k"), user_id="UGRACE",
                                    private_metadata=metadata)  # fmt: skip
        form = {"Content-Type": "application/x-www-form-urlencoded"}
        answer = httpx.post(f"{bot.url}/slack/events", content=body, headers=form, timeout=10)
    assert answer.status_code == 401
    assert stored(sessions) == []
    assert fake_slack.calls_to("chat.postEphemeral") == []
