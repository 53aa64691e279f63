"""Forecast submissions on the database (SQLite and Postgres): the rows a submission writes,
history kept on resubmission, the latest submission read back and shown by /forecast, team
calls (who may make one; they never change the reps' forecast accuracy) and what
`/forecast submit` offers.

The org is tests/support/command_org.py (now 2026-11-16 12:00 UTC, in 2026-Q4): Jane's Q4
commits 90,000 (Sep 25) and 80,000 (Nov 1), Q4 won 40,000; Q3 forecast 25,000 before Q3
against 20,000 won (accuracy 1 - 5,000 / 20,000 = 0.75).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.text import reply_as_text
from salesops_core.config import OrgConfig
from salesops_core.db.models import Forecast, Team
from salesops_core.errors import BadArguments, NotAllowed
from salesops_core.forecast.submissions import (
    ForecastEntry,
    latest_submission,
    quarter_named,
    submit_forecast,
)
from salesops_core.kpi.views import forecast_vs_won
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import Scope, team_scope
from tests.support.command_org import NOW, Org, build_org, context, t, text_of

ORG = OrgConfig()
Q3 = quarter_named("2026-Q3", ORG, NOW)
Q4 = quarter_named("2026-Q4", ORG, NOW)
Q1 = quarter_named("2027-Q1", ORG, NOW)


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


def team_id(session: Session, name: str) -> int:
    return session.scalars(select(Team.id).where(Team.name == name)).one()


def rows(session: Session, viewer: Viewer) -> list[tuple]:  # type: ignore[type-arg]
    found = session.scalars(
        select(Forecast)
        .where(Forecast.rep_id == viewer.rep_id, Forecast.period_start == Q1.start)
        .order_by(Forecast.submitted_at, Forecast.category)
    )
    return [(r.category, float(r.amount), r.submitted_at, r.note, r.team_id,
             r.period_end) for r in found]  # fmt: skip


def test_a_submission_writes_a_commit_and_a_best_case_row_at_one_time_with_its_note(
    session: Session, org: Org
) -> None:
    at = t(11, 16, 11)
    submit_forecast(session, org.jane, ForecastEntry(Q1, 250_000, 320_000, "Acme in"), at)
    assert rows(session, org.jane) == [
        ("best_case", 320_000, at, "Acme in", None, Q1.end),
        ("commit", 250_000, at, "Acme in", None, Q1.end),
    ]


def test_a_submission_without_a_best_case_writes_only_the_commit(
    session: Session, org: Org
) -> None:
    submit_forecast(session, org.jane, ForecastEntry(Q1, 250_000), t(11, 16, 11))
    assert [r[:2] for r in rows(session, org.jane)] == [("commit", 250_000)]


def test_a_resubmission_adds_rows_and_the_latest_is_read_with_the_one_before(
    session: Session, org: Org
) -> None:
    submit_forecast(session, org.jane, ForecastEntry(Q1, 200_000, 300_000, "first"), t(11, 2))
    submit_forecast(session, org.jane, ForecastEntry(Q1, 250_000, None, "second"), t(11, 9))
    assert len(rows(session, org.jane)) == 3  # nothing overwritten
    latest = latest_submission(session, Q1, NOW, rep_id=org.jane.rep_id)
    assert latest is not None
    assert (latest.commit, latest.best_case, latest.note, latest.submitted_at) == (
        250_000, None, "second", t(11, 9)
    )  # fmt: skip
    assert (latest.count, latest.previous_commit, latest.previous_at) == (2, 200_000, t(11, 2))
    assert latest.submitted_by == "Jane Doe"
    # as of before the second one, the first is the latest
    earlier = latest_submission(session, Q1, t(11, 5), rep_id=org.jane.rep_id)
    assert earlier is not None
    assert (earlier.commit, earlier.best_case, earlier.count) == (200_000, 300_000, 1)
    assert latest_submission(session, Q1, NOW, rep_id=org.bob.rep_id) is None


def test_a_team_call_is_not_the_managers_own_forecast_and_the_reverse(
    session: Session, org: Org
) -> None:
    west = team_id(session, "West")
    submit_forecast(session, org.manager, ForecastEntry(Q1, 300_000), t(11, 3), team_id=west)
    submit_forecast(session, org.manager, ForecastEntry(Q1, 10_000), t(11, 4))
    call = latest_submission(session, Q1, NOW, team_id=west)
    own = latest_submission(session, Q1, NOW, rep_id=org.manager.rep_id)
    assert call is not None and own is not None
    assert (call.commit, call.count, call.submitted_by) == (300_000, 1, "Mia Manager")
    assert (own.commit, own.count) == (10_000, 1)
    assert latest_submission(session, Q1, NOW, team_id=team_id(session, "East")) is None


@pytest.mark.parametrize(
    ("who", "team", "allowed"),
    [("manager", "West", True), ("admin", "East", True), ("manager", "East", False),
     ("jane", "West", False), ("eve", "East", False)],
)  # fmt: skip
def test_only_the_teams_manager_or_an_admin_may_submit_its_team_call(
    session: Session, org: Org, who: str, team: str, allowed: bool
) -> None:
    viewer = getattr(org, who)
    entry = ForecastEntry(Q1, 300_000)
    if allowed:
        assert submit_forecast(session, viewer, entry, t(11, 3), team_id(session, team)) == team
        assert [r[0] for r in rows(session, viewer)] == ["commit"]
        return
    with pytest.raises(NotAllowed) as refused:
        submit_forecast(session, viewer, entry, t(11, 3), team_id(session, team))
    assert str(refused.value) == (
        f"Sorry, only {team}'s manager or a sales-ops admin can submit its team call. "
        "Your own forecast: `/forecast submit`."
    )
    assert rows(session, viewer) == []


def test_team_calls_do_not_change_the_reps_forecast_or_accuracy(session: Session, org: Org) -> None:
    west = session.get(Team, team_id(session, "West"))
    assert west is not None
    scopes = (Scope("rep", org.jane.rep_id, org.jane.name), team_scope(west))

    def numbers() -> list[tuple]:  # type: ignore[type-arg]
        found = [forecast_vs_won(session, s, p, ORG, (), NOW) for s in scopes for p in (Q3, Q4)]
        return [(n.forecast, n.accuracy) for n in found]

    before = numbers()
    assert before == [(25_000, 0.75), (80_000, 0.75)] * 2  # a running Q4 shows Q3's
    for period, amount in ((Q3, 999_999), (Q4, 500_000)):
        entry = ForecastEntry(period, amount)
        submit_forecast(session, org.manager, entry, t(6, 25), team_id=west.id)
    session.flush()
    assert numbers() == before


def test_forecast_shows_the_latest_submission_with_its_history_and_note(
    session: Session, org: Org
) -> None:
    submit_forecast(session, org.jane, ForecastEntry(Q4, 250_000, 320_000, "Acme and Globex"),
                    t(11, 16, 11))  # fmt: skip
    text = text_of(session, org.jane, "/forecast this-quarter")
    # won 40,000 of the commit 250,000: 16%
    assert (
        "Latest submission (2026-11-16 11:00): commit $250,000, best case $320,000 "
        "(3rd submission; previous commit $80,000 on Nov 1). 16% of the commit won."
    ) in text
    assert "Note: Acme and Globex" in text
    assert "Forecast accuracy (2026-Q3): 75%" in text  # the accuracy fields stay


def test_forecast_of_a_team_shows_the_team_call_next_to_the_reps_commits(
    session: Session, org: Org
) -> None:
    west = team_id(session, "West")
    submit_forecast(session, org.manager, ForecastEntry(Q4, 150_000, 200_000), t(11, 2),
                    team_id=west)  # fmt: skip
    submit_forecast(session, org.manager, ForecastEntry(Q4, 160_000, None, "Bob's big one"),
                    t(11, 9), team_id=west)  # fmt: skip
    text = text_of(session, org.manager, "/forecast team")
    # the reps' commits: Jane's latest (80,000); Bob has none
    assert (
        "Team call by Mia Manager (2026-11-09 12:00): commit $160,000 (2nd call; previous "
        "commit $150,000 on Nov 2). The reps' own commits add up to $80,000."
    ) in text
    assert "Note: Bob's big one" in text
    assert "Team call" not in text_of(session, org.jane, "/forecast")


def ask(session: Session, viewer: Viewer, text: str) -> str:
    return reply_as_text(run_command(session, viewer, "/forecast", text, context()))


def test_forecast_submit_offers_the_next_quarter_first_and_the_running_one(
    session: Session, org: Org
) -> None:
    assert ask(session, org.jane, "submit") == (
        "/forecast submit opens a form in Slack for your commit and best case: 2027-Q1 is "
        "chosen (also offered: 2026-Q4)."
    )
    assert "2026-Q4 is chosen (also offered: 2027-Q1)" in ask(session, org.jane, "submit 2026-Q4")
    assert "2027-Q3 is chosen (also offered: 2026-Q4, 2027-Q1)" in ask(
        session, org.jane, "2027-Q3 submit"
    )
    assert ask(session, org.manager, "submit team").startswith(
        "/forecast submit opens a form in Slack for the team call for West: 2027-Q1"
    )
    assert "the team call for East" in ask(session, org.admin, "submit team East")


@pytest.mark.parametrize(
    ("who", "text", "error", "message"),
    [
        ("jane", "submit team", NotAllowed,
         "Sorry, only West's manager or a sales-ops admin can submit its team call."),
        ("manager", "submit team East", NotAllowed,
         "Sorry, only East's manager or a sales-ops admin can submit its team call."),
        ("admin", "submit team", BadArguments,
         "You are not on a team; name it: `/forecast submit team NA East`."),
        ("manager", "submit team Jane", BadArguments, '"Jane" is not a team'),
        ("jane", "submit 2026-Q3", BadArguments, "2026-Q3 has ended"),
        ("jane", "submit 2027-02", BadArguments,
         "forecasts are per quarter; 2027-02 is not one (e.g. 2027-Q1)."),
        ("jane", "submit 2027-Q1 2027-Q2", BadArguments, "Give one quarter"),
        ("jane", "submit banana", BadArguments, 'I don\'t understand "banana"'),
    ],
)  # fmt: skip
def test_forecast_submit_refuses_in_one_line(
    session: Session, org: Org, who: str, text: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as raised:
        ask(session, getattr(org, who), text)
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_a_submission_in_an_org_time_zone_is_stored_at_that_zones_quarter(
    session: Session, org: Org
) -> None:
    pacific = OrgConfig(timezone="America/Los_Angeles")
    quarter = quarter_named("2027-Q1", pacific, NOW)
    submit_forecast(session, org.jane, ForecastEntry(quarter, 1_000), t(11, 16, 11))
    stored = session.scalars(select(Forecast).where(Forecast.rep_id == org.jane.rep_id,
                                                    Forecast.amount == 1_000)).one()  # fmt: skip
    assert (stored.period_start, stored.period_end) == (
        datetime(2027, 1, 1, 8, tzinfo=UTC),
        datetime(2027, 4, 1, 7, tzinfo=UTC),  # PDT from March: -7
    )


def test_a_quarter_not_started_shows_the_submission_without_a_share_won(
    session: Session, org: Org
) -> None:
    submit_forecast(session, org.jane, ForecastEntry(Q1, 120_000), t(11, 2))
    submit_forecast(session, org.jane, ForecastEntry(Q1, 130_000), t(11, 9))
    text = text_of(session, org.jane, "/forecast 2027-Q1")
    assert (
        "Latest submission (2026-11-09 12:00): commit $130,000 (2nd submission; previous "
        "commit $120,000 on Nov 2).\n"
    ) in text
