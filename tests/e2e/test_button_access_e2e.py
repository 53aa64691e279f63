"""Who may press the bot's buttons, over real HTTP with signed interactivity payloads: a lead's
or a nudge's owner, their manager and an admin act; a teammate, a rep or a manager of another
team are told privately and nothing changes. After a reassignment the previous owner's DM is
rewritten without buttons, and its old buttons cannot act on the new owner's lead."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.jobs.delivery import Dispatcher, make_sync_client
from bot.jobs.scheduler import run_sweep
from commands.notices import ACTION_IDS, NUDGE_ACTION_IDS
from salesops_core import outbox
from salesops_core.config import SlaPolicy
from salesops_core.db.models import (
    Deal,
    Lead,
    LeadAssignment,
    LeadStatus,
    NudgeLog,
    Outbox,
    Rep,
    Role,
    Team,
)
from salesops_core.leads.notices import LeadAction
from salesops_core.nudges import log
from salesops_core.nudges.facts import Action, Nudge, NudgeNotice, Rule
from salesops_core.timeutil import utcnow
from tests.support.bot_harness import RunningBot, start_bot
from tests.support.slack_server import FakeSlack

TOKEN = "ingest-token"
QUIET = SlaPolicy(  # no ladder step falls due while a test runs
    source="*",
    first_response_minutes=600,
    remind_rep_after_minutes=600,
    alert_manager_after_minutes=1200,
    reassign_after_minutes=None,
    business_hours=False,
)
FAST = SlaPolicy(  # the whole ladder, reassignment included, within a second
    source="*",
    first_response_minutes=0.001,
    remind_rep_after_minutes=0.001,
    alert_manager_after_minutes=0.002,
    reassign_after_minutes=0.003,
    business_hours=False,
)
REFUSED = (
    "Sorry, the lead {company} is Ann Archer's: only they, their manager or a sales-ops admin "
    "can act on it. Nothing was changed."
)


@pytest.fixture
def org(sessions: sessionmaker[Session]) -> None:
    """West: manager Mia (M1), reps Ann (U1) and Tom (U2). East: manager Max (M2), rep Eve
    (U3). Admin Ada (A1). Only Ann and Tom take round-robin leads (Eve is away)."""
    with sessions.begin() as session:
        west, east = Team(name="West"), Team(name="East")
        session.add_all([west, east])
        session.flush()

        def rep(name: str, slack: str, role: Role = Role.REP, **fields: Any) -> Rep:
            email = f"{name.split()[0].lower()}@acme.test"
            person = Rep(name=name, email=email, slack_user_id=slack, role=role, **fields)
            session.add(person)
            session.flush()
            return person

        mia = rep("Mia Manager", "M1", Role.MANAGER, team_id=west.id)
        max_ = rep("Max Manager", "M2", Role.MANAGER, team_id=east.id)
        rep("Ann Archer", "U1", team_id=west.id, manager_id=mia.id, timezone="UTC")
        rep("Tom Teammate", "U2", team_id=west.id, manager_id=mia.id, timezone="UTC")
        rep("Eve East", "U3", team_id=east.id, manager_id=max_.id, away=True)
        rep("Ada Admin", "A1", Role.ADMIN)


def running_bot(database_url: str, fake: FakeSlack, policy: SlaPolicy) -> Iterator[RunningBot]:
    bot = start_bot(database_url, fake.base_url, ingest_token=TOKEN, sla=[policy])
    yield bot
    bot.stop()


@pytest.fixture
def bot(database_url: str, fake_slack: FakeSlack, org: None) -> Iterator[RunningBot]:
    yield from running_bot(database_url, fake_slack, QUIET)


@pytest.fixture
def fast_bot(database_url: str, fake_slack: FakeSlack, org: None) -> Iterator[RunningBot]:
    yield from running_bot(database_url, fake_slack, FAST)


def post_lead(bot: RunningBot, external_id: str, owner: str = "ann@acme.test") -> int:
    answer = httpx.post(
        f"{bot.url}/api/v1/leads",
        json={"external_id": external_id, "company": f"Co {external_id}", "owner": owner},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=10,
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def press(
    bot: RunningBot, fake: FakeSlack, action_id: str, value: int, user: str, where=("D1", "1.0")
) -> str:
    """Press a button as `user` on the message at `where`; the response_url of the press."""
    url = fake.response_url()
    ack = bot.press_button(action_id, str(value), user_id=user, channel_id=where[0],
                           message_ts=where[1], response_url=url)  # fmt: skip
    assert ack.status_code == 200
    return url


def replies(fake: FakeSlack, url: str) -> list[str]:
    return [r["text"] for r in fake.responses if r["_path"] == url.removeprefix(fake.url)]


def lead_state(sessions: sessionmaker[Session], lead_id: int) -> tuple[Any, ...]:
    """Everything a press could change about a lead: its row, its assignments, the outbox."""
    with sessions() as session:
        lead = session.get(Lead, lead_id)
        assert lead is not None
        assignments = session.scalar(select(func.count()).select_from(LeadAssignment))
        messages = session.scalar(select(func.count()).select_from(Outbox))
        return (lead.status, lead.owner_id, lead.responded_by_id, lead.first_response_at,
                lead.snoozed_until, lead.next_due_at, lead.ladder_step,
                assignments, messages)  # fmt: skip


def deliver(bot: RunningBot) -> None:
    """Send everything the outbox holds, as the dispatcher does."""
    dispatcher = Dispatcher(bot.deps.sessions, make_sync_client(bot.deps.settings))
    while dispatcher.drain().claimed:
        pass


def location(sessions: sessionmaker[Session], dedupe_key: str) -> tuple[str, str]:
    """Where the outbox message with this key landed in Slack (channel, ts)."""
    with sessions() as session:
        row = session.scalars(select(Outbox).where(Outbox.dedupe_key == dedupe_key)).one()
        assert row.slack_channel and row.slack_ts, row.status
        return row.slack_channel, row.slack_ts


@pytest.mark.parametrize("action", list(LeadAction))
def test_a_teammate_or_another_team_is_refused_privately_and_the_lead_is_unchanged(
    bot: RunningBot, sessions: sessionmaker[Session], fake_slack: FakeSlack, action: LeadAction
) -> None:
    lead_id = post_lead(bot, "web-1")
    before = lead_state(sessions, lead_id)
    for user in ("U2", "U3", "M2"):  # teammate, a rep of another team, another team's manager
        url = press(bot, fake_slack, ACTION_IDS[action], lead_id, user)
        assert fake_slack.wait_for(lambda: replies(fake_slack, url), timeout=10)  # noqa: B023
        assert replies(fake_slack, url) == [REFUSED.format(company="Co web-1")]
        assert fake_slack.responses[-1]["response_type"] == "ephemeral"
    assert fake_slack.calls_to("chat.update") == []
    assert lead_state(sessions, lead_id) == before


def test_the_owner_their_manager_and_an_admin_act(
    bot: RunningBot, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    snoozed, contacted, moved = (post_lead(bot, f"web-{n}") for n in (1, 2, 3))
    press(bot, fake_slack, ACTION_IDS[LeadAction.SNOOZE], snoozed, "U1")
    press(bot, fake_slack, ACTION_IDS[LeadAction.CONTACTED], contacted, "M1")
    press(bot, fake_slack, ACTION_IDS[LeadAction.REASSIGN], moved, "A1")
    assert fake_slack.wait_for(lambda: len(fake_slack.calls_to("chat.update")) == 3, timeout=10)
    texts = " | ".join(json.dumps(call.params) for call in fake_slack.calls_to("chat.update"))
    assert "Snoozed by <@U1>" in texts
    assert "Contacted by <@M1>" in texts
    assert "Reassigned to Tom Teammate by <@A1>" in texts
    assert fake_slack.responses == []  # nobody was refused
    with sessions() as session:
        mia = session.scalars(select(Rep).where(Rep.slack_user_id == "M1")).one()
        tom = session.scalars(select(Rep).where(Rep.slack_user_id == "U2")).one()
        assert session.get(Lead, snoozed).snoozed_until is not None
        answered = session.get(Lead, contacted)
        assert (answered.status, answered.responded_by_id) == (LeadStatus.RESPONDED, mia.id)
        assert session.get(Lead, moved).owner_id == tom.id


def test_a_manual_reassign_rewrites_the_old_dm_and_its_buttons_no_longer_act(
    bot: RunningBot, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    lead_id = post_lead(bot, "web-9")
    deliver(bot)
    old_dm = location(sessions, f"lead:{lead_id}:assign:1")
    press(bot, fake_slack, ACTION_IDS[LeadAction.REASSIGN], lead_id, "U1", old_dm)
    assert fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"), timeout=10)
    deliver(bot)  # Tom's DM, and the edit of Ann's
    new_dm = fake_slack.calls_to("chat.postMessage")[1]
    assert new_dm.params["channel"] == "U2"
    rewritten = [c.params for c in fake_slack.calls_to("chat.update")
                 if (c.params["channel"], c.params["ts"]) == old_dm]  # fmt: skip
    assert len(rewritten) == 2  # by the press itself, then through the outbox
    assert rewritten[-1]["text"] == "Lead Co web-9 was reassigned to Tom Teammate"
    assert '"actions"' not in json.dumps(rewritten[-1]["blocks"])
    assert_old_buttons_refused(bot, sessions, fake_slack, lead_id, old_dm)


def assert_old_buttons_refused(
    bot: RunningBot,
    sessions: sessionmaker[Session],
    fake: FakeSlack,
    lead_id: int,
    old_dm: tuple[str, str],
) -> None:
    """Ann presses her old DM's buttons on the lead that is now Tom's: refused, unchanged."""
    before = lead_state(sessions, lead_id)
    updates = len(fake.calls_to("chat.update"))
    for action in LeadAction:
        url = press(bot, fake, ACTION_IDS[action], lead_id, "U1", old_dm)
        assert fake.wait_for(lambda: replies(fake, url), timeout=10)  # noqa: B023
        assert "is Tom Teammate's: only they, their manager" in replies(fake, url)[0]
    assert len(fake.calls_to("chat.update")) == updates
    assert lead_state(sessions, lead_id) == before
    assert before[0] == LeadStatus.OPEN


def test_the_sla_reassignment_rewrites_the_old_dm_and_reminder(
    fast_bot: RunningBot, sessions: sessionmaker[Session], fake_slack: FakeSlack
) -> None:
    bot = fast_bot
    lead_id = post_lead(bot, "web-5")
    deliver(bot)  # Ann's DM goes out; the reminder will still be waiting at the reassignment
    old_dm = location(sessions, f"lead:{lead_id}:assign:1")

    def reassigned() -> bool:
        run_sweep(bot.deps)  # every step due by now fires, the reassignment last
        with sessions() as session:
            return session.get(Lead, lead_id).ladder_step == 3  # type: ignore[union-attr]

    assert fake_slack.wait_for(reassigned, timeout=10)
    deliver(bot)
    posts = [c.params["channel"] for c in fake_slack.calls_to("chat.postMessage")]
    assert posts == ["U1", "U1", "M1", "U2"]  # DM, reminder, manager alert, Tom's DM
    reminder = location(sessions, f"lead:{lead_id}:step:1")
    edits = {(c.params["channel"], c.params["ts"]): c.params["text"]
             for c in fake_slack.calls_to("chat.update")}  # fmt: skip
    moved = "Lead Co web-5 was reassigned to Tom Teammate"
    assert edits == {old_dm: moved, reminder: moved}
    assert_old_buttons_refused(bot, sessions, fake_slack, lead_id, old_dm)


@pytest.fixture
def nudge_log_id(sessions: sessionmaker[Session], org: None) -> int:
    """Ann's stale-deal nudge, just sent (logged, and in the outbox)."""
    now = utcnow()
    with sessions.begin() as session:
        ann = session.scalars(select(Rep).where(Rep.slack_user_id == "U1")).one()
        deal = Deal(external_id="OPP-1", name="Acme renewal", owner_id=ann.id, amount=48_000,
                    stage="Proposal", created_at=now - timedelta(days=60))  # fmt: skip
        session.add(deal)
        session.flush()
        nudge = Nudge(Rule.STALE_DEAL, ann.id, ann.name, "deal:OPP-1", "Acme renewal is quiet",
                      "It goes cold.", (Action.SNOOZE_DAY, Action.NOT_RELEVANT),
                      deal_id=deal.id, deal_external_id="OPP-1")  # fmt: skip
        sent = log.record_send(session, ann.id, nudge.rule, nudge.subject, now.date(), now)
        assert sent is not None
        key = log.nudge_key(ann.id, nudge.rule, nudge.subject, now.date())
        outbox.enqueue(session, NudgeNotice(nudge, sent), dedupe_key=key, recipient="U1")
    return sent


def test_nudge_buttons_follow_the_same_rule(
    bot: RunningBot, sessions: sessionmaker[Session], fake_slack: FakeSlack, nudge_log_id: int
) -> None:
    snooze, mute = NUDGE_ACTION_IDS[Action.SNOOZE_DAY], NUDGE_ACTION_IDS[Action.NOT_RELEVANT]
    for user in ("U2", "M2"):
        url = press(bot, fake_slack, mute, nudge_log_id, user)
        assert fake_slack.wait_for(lambda: replies(fake_slack, url), timeout=10)  # noqa: B023
        assert "this nudge is Ann Archer's" in replies(fake_slack, url)[0]
    with sessions() as session:
        row = session.get(NudgeLog, nudge_log_id)
        assert row is not None and (row.action, row.snoozed_until) == (None, None)
    assert fake_slack.calls_to("chat.update") == []
    press(bot, fake_slack, snooze, nudge_log_id, "M1")  # Ann's manager snoozes it for her
    assert fake_slack.wait_for(lambda: fake_slack.calls_to("chat.update"), timeout=10)
    with sessions() as session:
        row = session.get(NudgeLog, nudge_log_id)
        assert row is not None and row.action == Action.SNOOZE_DAY.value
        assert row.snoozed_until is not None
