"""A nudge's buttons and its "Log activity" modal, pressed and submitted in the real app
(signed requests dispatched in-process, the local Slack recording what the bot sends), and
`/salesops settings` round trips."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from commands.activity_modal import LOG_ACTIVITY_CALLBACK, ModalOrigin
from commands.notices import NUDGE_ACTION_IDS
from salesops_core import outbox
from salesops_core.config import NudgeConfig, OrgConfig
from salesops_core.db.models import Activity, Deal, NudgeLog, NudgeMute, NudgeSettings, Rep
from salesops_core.nudges import log
from salesops_core.nudges.facts import Action, Nudge, NudgeNotice, Rule
from salesops_core.nudges.service import evaluate
from salesops_core.timeutil import utcnow
from tests.support.inprocess import InProcessBot, in_process_bot
from tests.support.slack_server import FakeSlack

DM, TS = "DANN", "1700000000.000100"
REFUSED = (
    "Sorry, this nudge is Ann Lee's: only they, their manager or a sales-ops admin can act on "
    "it. Nothing was changed."
)


@pytest.fixture
def log_id(sessions: sessionmaker[Session]) -> int:
    """Ann's stale-deal nudge about OPP-1, sent a minute ago (logged and in the outbox)."""
    now = utcnow()
    with sessions.begin() as session:
        ann = Rep(name="Ann Lee", email="ann@acme.test", slack_user_id="UANN", timezone="UTC")
        bob = Rep(name="Bob Stone", email="bob@acme.test", slack_user_id="UBOB")
        session.add_all([ann, bob])
        session.flush()
        deal = Deal(external_id="OPP-1", name="Acme renewal", owner_id=ann.id, amount=48_000,
                    stage="Proposal", created_at=now - timedelta(days=60),
                    expected_close=now + timedelta(days=30))  # fmt: skip
        session.add(deal)
        session.flush()
        nudge = Nudge(Rule.STALE_DEAL, ann.id, ann.name, "deal:OPP-1",
                      "Acme renewal ($48,000) has had no activity for 60 days", "It goes cold.",
                      (Action.LOG_ACTIVITY, Action.SNOOZE_DAY, Action.SNOOZE_WEEK,
                       Action.NOT_RELEVANT), deal_id=deal.id, deal_external_id="OPP-1")  # fmt: skip
        day = now.date()
        sent = log.record_send(session, ann.id, nudge.rule, nudge.subject, day, now)
        assert sent is not None
        key = log.nudge_key(ann.id, nudge.rule, nudge.subject, day)
        outbox.enqueue(session, NudgeNotice(nudge, sent), dedupe_key=key, recipient="UANN")
    return sent


@pytest.fixture
def bot(database_url: str, fake_slack: FakeSlack, log_id: int) -> Iterator[InProcessBot]:
    with in_process_bot(database_url, fake_slack) as running:
        yield running


def press(bot: InProcessBot, fake: FakeSlack, action: Action, log_id: int, user: str) -> str:
    """Press the nudge's button as `user`; the response_url its private replies go to."""
    url = fake.response_url()
    ack = bot.press_button(NUDGE_ACTION_IDS[action], str(log_id), user_id=user, channel_id=DM,
                           message_ts=TS, response_url=url)  # fmt: skip
    assert (ack.status, ack.body) == (200, "")
    return url


def as_json(value: Any) -> Any:
    """A Web API parameter as sent: JSON in a form field, or already JSON in a JSON body."""
    return json.loads(value) if isinstance(value, str) else value


def replies(fake: FakeSlack, url: str) -> list[str]:
    return [r["text"] for r in fake.responses if r["_path"] == url.removeprefix(fake.url)]


def log_row(sessions: sessionmaker[Session], log_id: int) -> NudgeLog:
    with sessions() as session:
        row = session.get(NudgeLog, log_id)
        assert row is not None
        return row


def update_text(fake: FakeSlack) -> str:
    (update,) = fake.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (DM, TS)
    return str(update.params["text"])


@pytest.mark.parametrize(("action", "days"), [(Action.SNOOZE_DAY, 1), (Action.SNOOZE_WEEK, 7)])
def test_snooze_holds_the_nudge_and_the_message_says_until_when(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int,
    action: Action, days: int,
) -> None:  # fmt: skip
    before = utcnow()
    press(bot, fake_slack, action, log_id, "UANN")
    row = log_row(sessions, log_id)
    assert row.action == action.value and row.acted_on_at is None
    assert row.snoozed_until is not None
    assert timedelta(days=days) <= row.snoozed_until - before < timedelta(days=days, minutes=1)
    assert ":zzz: Snoozed until <!date^" in update_text(fake_slack)
    (update,) = fake_slack.calls_to("chat.update")
    assert not [b for b in as_json(update.params["blocks"]) if b["type"] == "actions"]


def test_not_relevant_mutes_the_subject_for_the_rule(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int
) -> None:
    press(bot, fake_slack, Action.NOT_RELEVANT, log_id, "UANN")
    with sessions() as session:
        mutes = session.execute(select(NudgeMute.rule, NudgeMute.subject)).all()
    assert [tuple(m) for m in mutes] == [("stale_deal", "deal:OPP-1")]
    assert update_text(fake_slack).endswith(
        ":no_bell: Muted: you won't hear about OPP-1 again (stale deals)."
    )


def test_open_in_crm_is_recorded_as_acted_on_and_the_message_is_left_alone(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int
) -> None:
    url = press(bot, fake_slack, Action.OPEN_DEAL, log_id, "UANN")
    row = log_row(sessions, log_id)
    assert (row.action, row.acted_how) == ("open_deal", "open_deal")
    assert fake_slack.calls_to("chat.update") == [] and replies(fake_slack, url) == []


@pytest.mark.parametrize("action", list(Action))
def test_a_press_by_anyone_but_the_owner_is_refused_privately_and_changes_nothing(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int,
    action: Action,
) -> None:  # fmt: skip
    url = press(bot, fake_slack, action, log_id, "UBOB")
    assert replies(fake_slack, url) == [REFUSED]
    row = log_row(sessions, log_id)
    assert (row.action, row.acted_on_at, row.snoozed_until) == (None, None, None)
    with sessions() as session:
        assert session.scalars(select(NudgeMute)).all() == []
    sent = {c.method for c in fake_slack.calls}
    assert not sent & {"chat.update", "views.open"}


def test_a_press_on_a_nudge_that_is_gone_says_so(
    bot: InProcessBot, fake_slack: FakeSlack, log_id: int
) -> None:
    url = press(bot, fake_slack, Action.SNOOZE_DAY, log_id + 1000, "UANN")
    assert replies(fake_slack, url) == [
        "That nudge is no longer known; a newer one may be on its way."
    ]


def test_log_activity_opens_the_modal_for_the_owner(
    bot: InProcessBot, fake_slack: FakeSlack, log_id: int
) -> None:
    press(bot, fake_slack, Action.LOG_ACTIVITY, log_id, "UANN")
    (opened,) = fake_slack.calls_to("views.open")
    view = as_json(opened.params["view"])
    assert opened.params["trigger_id"] == "1.2.3"
    assert view["callback_id"] == LOG_ACTIVITY_CALLBACK
    assert ModalOrigin.load(view["private_metadata"]) == ModalOrigin(log_id, DM, TS)


def form(type_value: str | None = "call", minutes: str | None = "30", note: str | None = None,
         prospect: bool = False) -> dict[str, Any]:  # fmt: skip
    """The modal's `state.values` as Slack submits them."""
    return {
        "type": {"value": {"type": "static_select",
                           "selected_option": {"value": type_value} if type_value else None}},
        "minutes": {"value": {"type": "plain_text_input", "value": minutes}},
        "note": {"value": {"type": "plain_text_input", "value": note}},
        "external_attendee": {"value": {"type": "checkboxes",
                                        "selected_options": [{"value": "yes"}] if prospect
                                        else []}},
    }  # fmt: skip


def submit(bot: InProcessBot, log_id: int, values: dict[str, Any], user: str = "UANN") -> Any:
    metadata = ModalOrigin(log_id, DM, TS).dump()
    return bot.submit_view(LOG_ACTIVITY_CALLBACK, values, user_id=user, private_metadata=metadata)


@pytest.mark.parametrize(
    ("values", "errors"),
    [
        (form(minutes="-10"), {"minutes": "minutes cannot be negative"}),
        (form(minutes="half an hour"),
         {"minutes": "'half an hour' is not a number of minutes, e.g. 30"}),
        (form(minutes="1500"), {"minutes": "at most 1,440 minutes (24 h)"}),
        (form(type_value=None), {"type": "choose what you did"}),
    ],
)  # fmt: skip
def test_a_bad_form_comes_back_in_the_modal_with_each_fields_error_and_writes_nothing(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int,
    values: dict[str, Any], errors: dict[str, str],
) -> None:  # fmt: skip
    ack = submit(bot, log_id, values)
    assert ack.status == 200
    assert json.loads(ack.body) == {"response_action": "errors", "errors": errors}
    with sessions() as session:
        assert session.scalars(select(Activity)).all() == []
    assert log_row(sessions, log_id).action is None
    assert fake_slack.calls_to("chat.update") == []


def test_a_good_form_writes_the_activity_on_the_deal_and_clears_the_stale_deal_nudge(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int
) -> None:
    ack = submit(bot, log_id, form("meeting", "45", "Renewal terms agreed", prospect=True))
    assert (ack.status, ack.body) == (200, "")
    with sessions() as session:
        (activity,) = session.scalars(select(Activity)).all()
        deal_id = session.scalars(select(Deal.id)).one()
        assert activity.external_id.startswith("slack-")
        assert (activity.deal_id, activity.type, activity.minutes) == (deal_id, "meeting", 45)
        assert (activity.note, activity.external_attendee) == ("Renewal terms agreed", True)
        found = evaluate(session, NudgeConfig(), OrgConfig(), utcnow(), rep_id=activity.rep_id)
        assert [d.nudge.subject for d in found.decisions if d.nudge.rule == Rule.STALE_DEAL] == []
    row = log_row(sessions, log_id)
    assert (row.action, row.acted_how) == ("log_activity", "log_activity")
    assert update_text(fake_slack).endswith(":white_check_mark: Logged your 45 min meeting.")


def test_a_form_submitted_by_someone_else_writes_nothing_and_tells_them_in_their_dm(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], log_id: int
) -> None:
    ack = submit(bot, log_id, form(), user="UBOB")
    assert ack.status == 200
    with sessions() as session:
        assert session.scalars(select(Activity)).all() == []
    (told,) = fake_slack.calls_to("chat.postMessage")
    assert (told.params["channel"], told.params["text"]) == ("UBOB", REFUSED)
    assert fake_slack.calls_to("chat.update") == []


# ---- /salesops settings ----------------------------------------------------------------------


def settings(bot: InProcessBot, fake: FakeSlack, text: str) -> str:
    url = fake.response_url()
    bot.command("/salesops", f"settings {text}".strip(), user_id="UANN", response_url=url)
    (answer,) = [r for r in fake.responses if r["_path"] == url.removeprefix(fake.url)]
    return json.dumps(answer.get("blocks")) + answer["text"]


def test_salesops_settings_shows_and_changes_a_persons_own_nudge_settings(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session]
) -> None:
    assert "18:00-09:00 (the default)" in settings(bot, fake_slack, "")
    assert "19:00-08:00 (yours)" in settings(bot, fake_slack, "quiet 19:00-08:00")
    shown = settings(bot, fake_slack, "off few_meetings low_selling_time")
    assert "Few prospect meetings: off" in shown and "Low selling time: off" in shown
    assert "Stale deals: on" in shown
    assert "Few prospect meetings: on" in settings(bot, fake_slack, "on few-meetings")
    with sessions() as session:
        (own,) = session.scalars(select(NudgeSettings)).all()
        assert (own.quiet_hours, own.rules_off) == ("19:00-08:00", ["low_selling_time"])
    assert "18:00-09:00 (the default)" in settings(bot, fake_slack, "quiet default")


@pytest.mark.parametrize(
    ("text", "told"),
    [
        ("quiet 25:00-08:00", "quiet hours '25:00-08:00' must look like 18:00-09:00"),
        ("off lunch", 'There is no nudge \\"lunch\\"; the nudges are stale_deal, past_close'),
        ("loud", 'I don\'t understand \\"settings loud\\"'),
    ],
)
def test_salesops_settings_refuses_what_it_does_not_understand_and_keeps_the_settings(
    bot: InProcessBot, fake_slack: FakeSlack, sessions: sessionmaker[Session], text: str, told: str
) -> None:
    assert told in json.dumps(settings(bot, fake_slack, text))
    with sessions() as session:
        assert session.scalars(select(NudgeSettings)).all() == []
