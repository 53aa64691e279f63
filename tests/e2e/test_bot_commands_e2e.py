"""Every slash command end to end: signed HTTP posts to the running server, answers on the
local Slack's response_url, charts through the files v2 flow."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from commands.kit.help import USAGES
from salesops_core.db.engine import make_session_factory
from salesops_core.db.models import Deal, Outcome, Quota, Rep, Role, Team
from salesops_core.periods import parse_period
from salesops_core.timeutil import utcnow
from tests.conftest import empty_all_tables
from tests.support.bot_harness import RunningBot, start_bot
from tests.support.slack_server import FakeSlack

COMMANDS = ("/kpi", "/pipeline", "/leads", "/forecast", "/quota", "/meetings", "/team", "/salesops")
WENT_WRONG = re.compile(r"Something went wrong \(ref [0-9a-f]{6}\)")
PNG = b"\x89PNG\r\n\x1a\n"


def build_org(session: Session) -> None:
    """Two teams, a manager, three reps, an admin, a few deals and quotas this quarter."""
    west = Team(name="West", region="Americas")
    east = Team(name="East", region="Americas")
    session.add_all([west, east])
    session.flush()
    maria = Rep(
        name="Maria Manager",
        email="maria@acme.test",
        role=Role.MANAGER,
        team_id=west.id,
        slack_user_id="UMARIA",
    )
    session.add(maria)
    session.flush()
    reps = [
        Rep(
            name="Ann Lee",
            email="ann@acme.test",
            team_id=west.id,
            manager_id=maria.id,
            slack_user_id="UANN",
        ),
        Rep(name="Bob Stone", email="bob@acme.test", team_id=west.id, manager_id=maria.id),
        Rep(name="Cat Ray", email="cat@acme.test", team_id=west.id, manager_id=maria.id),
        Rep(name="Eve East", email="eve@acme.test", team_id=east.id, slack_user_id="UEVE"),
        Rep(name="Ada Admin", email="ada@acme.test", role=Role.ADMIN, slack_user_id="UADA"),
    ]
    session.add_all(reps)
    session.flush()
    now = utcnow()
    quarter = parse_period("this-quarter", tz=ZoneInfo("UTC"), now=now)
    for index, rep in enumerate([maria, *reps[:4]]):
        session.add(
            Quota(rep_id=rep.id, period_start=quarter.start, period_end=quarter.end, amount=100_000)
        )
        session.add_all(
            [
                Deal(
                    external_id=f"won-{index}",
                    name=f"Won {index}",
                    owner_id=rep.id,
                    amount=40_000 + 5_000 * index,
                    stage="Closed Won",
                    outcome=Outcome.WON,
                    created_at=quarter.start - timedelta(days=40),
                    closed_at=quarter.start + (now - quarter.start) / 2,
                ),
                Deal(
                    external_id=f"open-{index}",
                    name=f"Open {index}",
                    owner_id=rep.id,
                    amount=30_000,
                    stage="Proposal",
                    probability=0.5,
                    outcome=Outcome.OPEN,
                    created_at=quarter.start - timedelta(days=10),
                    expected_close=quarter.end - timedelta(days=1),
                ),
            ]
        )
    session.commit()


@pytest.fixture(scope="module")
def slack() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture(scope="module")
def bot(engine: Engine, slack: FakeSlack) -> Iterator[RunningBot]:
    """The real server on the test database with the hand-built org (once per backend); its
    charts are drawn in a real chart process, as `salesops serve` draws them."""
    with make_session_factory(engine)() as session:
        build_org(session)
    url = engine.url.render_as_string(hide_password=False)
    running = start_bot(url, slack.base_url, chart_processes=1)
    yield running
    running.stop()
    empty_all_tables(engine)


@pytest.fixture
def fake(slack: FakeSlack, bot: RunningBot) -> FakeSlack:
    # The previous test's charts may still be drawing: let them land before the reset.
    assert slack.wait_for(lambda: len(bot.deps.background) == 0, timeout=60)
    slack.reset()
    for user_id, email in [
        ("UANN", "ann@acme.test"),
        ("UBOB", "bob@acme.test"),
        ("UCAT", "cat@acme.test"),
        ("UZOE", "zoe@acme.test"),
        ("UMARIA", "maria@acme.test"),
        ("UEVE", "eve@acme.test"),
        ("UADA", "ada@acme.test"),
    ]:
        slack.add_user(user_id, email)
    return slack


def ask(bot: RunningBot, fake: FakeSlack, command: str, text: str, user: str) -> dict:
    """Post the command, check the ack, and return the answer posted to response_url."""
    url = fake.response_url()
    ack = bot.post_command(command, text, user_id=user, response_url=url)
    assert ack.status_code == 200
    assert ack.text == ""  # an empty ack: Slack shows nothing until the answer comes
    path = url.removeprefix(fake.url)
    assert fake.wait_for(lambda: any(r["_path"] == path for r in fake.responses), timeout=30)
    return next(r for r in fake.responses if r["_path"] == path)


def all_text(answer: dict) -> str:
    return answer.get("text", "") + " " + str(answer.get("blocks", ""))


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_answers_a_manager_privately_on_response_url(
    bot: RunningBot, fake: FakeSlack, command: str
) -> None:
    answer = ask(bot, fake, command, "", "UMARIA")
    assert answer["response_type"] == "ephemeral"
    assert answer["blocks"], "a Block Kit answer"
    assert not WENT_WRONG.search(all_text(answer))


@pytest.mark.parametrize("command", [c for c in COMMANDS if c != "/salesops"])
def test_every_command_answers_help_with_its_usage_and_examples(
    bot: RunningBot, fake: FakeSlack, command: str
) -> None:
    answer = ask(bot, fake, command, "help", "UANN")
    usage = USAGES[command]
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == f"Usage: {usage.line}"
    assert all(f"`{example}`" in all_text(answer) for example in usage.examples)


def test_salesops_help_lists_every_command_with_its_arguments(
    bot: RunningBot, fake: FakeSlack
) -> None:
    answer = ask(bot, fake, "/salesops", "help", "UANN")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == "salesops commands: " + ", ".join(COMMANDS)
    assert all(f"`{usage.line}`" in all_text(answer) for usage in USAGES.values())


@pytest.mark.parametrize("command", COMMANDS)
def test_bad_arguments_get_a_private_message_saying_what_was_wrong(
    bot: RunningBot, fake: FakeSlack, command: str
) -> None:
    answer = ask(bot, fake, command, "2026-Q7 frobnicate", "UMARIA")
    assert answer["response_type"] == "ephemeral"
    usage = USAGES[command]
    assert answer["text"].startswith('I don\'t understand "2026-Q7 frobnicate"')
    assert answer["text"].endswith(f"Usage: `{usage.line}`. Example: `{usage.example}`")


@pytest.mark.parametrize("command", [c for c in COMMANDS if c not in ("/team", "/salesops")])
def test_a_rep_asking_for_another_teams_rep_is_refused_politely(
    bot: RunningBot, fake: FakeSlack, command: str
) -> None:
    answer = ask(bot, fake, command, "eve@acme.test", "UANN")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == (
        "Sorry, you can only see your own numbers, not Eve East's. "
        "Your manager or a sales-ops admin can see the team's."
    )


def test_team_and_settings_are_refused_to_a_plain_rep(bot: RunningBot, fake: FakeSlack) -> None:
    team = all_text(ask(bot, fake, "/team", "", "UANN"))
    settings = all_text(ask(bot, fake, "/salesops", "settings", "UANN"))
    assert "for managers and admins" in team
    assert not WENT_WRONG.search(team + settings)
    assert "admin" in settings.lower()


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unknown_slack_user_is_told_whom_to_ask_with_their_email(
    bot: RunningBot, fake: FakeSlack, command: str
) -> None:
    answer = ask(bot, fake, command, "", "UZOE")
    assert answer["response_type"] == "ephemeral"
    assert answer["text"] == (
        "I don't know you yet - ask your sales-ops admin to add you "
        "(your Slack email: zoe@acme.test)."
    )


def test_a_first_time_user_is_found_by_email_and_linked(bot: RunningBot, fake: FakeSlack) -> None:
    answer = ask(bot, fake, "/salesops", "whoami", "UBOB")
    assert "Bob Stone" in all_text(answer)
    assert len(fake.calls_to("users.info")) == 1
    with bot.deps.sessions() as session:
        assert session.scalar(select(Rep.slack_user_id).where(Rep.name == "Bob Stone")) == "UBOB"
    ask(bot, fake, "/salesops", "whoami", "UBOB")
    assert len(fake.calls_to("users.info")) == 1, "the second time the stored id is used"


def test_a_private_answers_chart_goes_to_the_users_dm_via_files_v2_after_the_answer(
    bot: RunningBot, fake: FakeSlack
) -> None:
    answer = ask(bot, fake, "/kpi", "", "UANN")
    assert answer["response_type"] == "ephemeral"
    assert fake.wait_for(lambda: fake.calls_to("files.completeUploadExternal"), timeout=30)
    assert [c.params["users"] for c in fake.calls_to("conversations.open")] == ["UANN"]
    (get_url,) = fake.calls_to("files.getUploadURLExternal")
    (complete,) = fake.calls_to("files.completeUploadExternal")
    assert complete.params["channel_id"].startswith("D")  # the DM conversations.open gave
    assert get_url.params["filename"].endswith(".png")
    assert complete.at > get_url.at
    (png,) = fake.uploads.values()
    assert png.startswith(PNG) and len(png) == int(get_url.params["length"])


def test_share_posts_in_channel_and_the_chart_into_that_channel(
    bot: RunningBot, fake: FakeSlack
) -> None:
    answer = ask(bot, fake, "/kpi", "share", "UANN")
    assert answer["response_type"] == "in_channel"
    assert fake.wait_for(lambda: fake.calls_to("files.completeUploadExternal"), timeout=30)
    assert fake.calls_to("files.completeUploadExternal")[0].params["channel_id"] == "C0SALES"
    assert fake.calls_to("conversations.open") == []


def test_a_shared_chart_falls_back_to_the_dm_when_the_bot_is_not_in_the_channel(
    bot: RunningBot, fake: FakeSlack
) -> None:
    fake.fail("files.completeUploadExternal", error="not_in_channel")
    ask(bot, fake, "/kpi", "share", "UANN")
    assert fake.wait_for(lambda: len(fake.calls_to("files.completeUploadExternal")) == 2, 30)
    channels = [c.params["channel_id"] for c in fake.calls_to("files.completeUploadExternal")]
    assert channels[0] == "C0SALES" and channels[1].startswith("D")


def test_a_rate_limited_web_api_call_is_retried_after_retry_after(
    bot: RunningBot, fake: FakeSlack
) -> None:
    fake.fail("users.info", status=429, retry_after=1)
    answer = ask(bot, fake, "/salesops", "whoami", "UCAT")
    assert "Cat Ray" in all_text(answer)
    first, second = fake.calls_to("users.info")
    assert second.at - first.at >= 0.9  # Retry-After: 1 was honoured


def test_an_unexpected_failure_tells_the_user_a_ref_instead_of_staying_silent(
    bot: RunningBot, fake: FakeSlack, caplog: pytest.LogCaptureFixture
) -> None:
    fake.fail("users.info", error="fatal_error")
    answer = ask(bot, fake, "/kpi", "", "UZOE")
    match = WENT_WRONG.search(answer["text"])
    assert match and answer["response_type"] == "ephemeral"
    ref = match.group(0).split("ref ")[1].rstrip(")")
    assert any(ref in record.getMessage() for record in caplog.records)


def test_metrics_count_commands_by_name_and_outcome(bot: RunningBot, fake: FakeSlack) -> None:
    ask(bot, fake, "/quota", "", "UANN")
    ask(bot, fake, "/quota", "2026-Q9", "UANN")
    body = bot.get("/metrics").text
    assert re.search(r'salesops_slash_commands_total\{command="/quota",outcome="ok"\} [1-9]', body)
    assert re.search(
        r'salesops_slash_commands_total\{command="/quota",outcome="user_error"\} [1-9]', body
    )
    assert 'salesops_http_requests_total{method="POST",route="/slack/events",status="200"}' in body
