"""After a quarter closes, each rep's scorecard and each manager's team scorecard go into the
outbox once, at 09:00 on the person's first working day (tests/support/scorecard_org.py: 2026-Q4
ends Friday 2027-01-01 00:00 UTC)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import Deps
from bot.jobs.scorecards import enqueue_due_scorecards, run_scorecards, send_moment
from commands.notices import render
from salesops_core.db.models import Outbox, Rep
from salesops_core.nudges.people import load_people
from tests.support.bot_harness import bot_settings
from tests.support.scorecard_org import ScorecardOrg, build_scorecard_org

QUARTER_END = datetime(2027, 1, 1, tzinfo=UTC)


@pytest.fixture
def org(session: Session) -> ScorecardOrg:
    found = build_scorecard_org(session)
    session.execute(
        update(Rep).where(Rep.id == found.ids["Bob"]).values(timezone="America/Los_Angeles")
    )
    session.commit()
    return found


@pytest.fixture
def deps(engine, sessions: sessionmaker[Session], database_url: str) -> Deps:
    settings = bot_settings(database_url, "http://127.0.0.1:9/api/")
    return Deps(settings=settings, engine=engine, sessions=sessions)


def keys(session: Session) -> list[str]:
    return sorted(session.scalars(select(Outbox.dedupe_key)))


def test_the_moment_is_nine_local_on_the_first_working_day_after_the_quarter(
    session: Session, org: ScorecardOrg, deps: Deps
) -> None:
    session.execute(update(Rep).where(Rep.id == org.ids["Ann"]).values(holiday_country="US"))
    session.commit()
    people = load_people(session, deps.settings.nudges, deps.settings.org)
    # Ann: New Year's Day is a US holiday, then a weekend: Monday 09:00 UTC
    assert send_moment(people[org.ids["Ann"]], QUARTER_END) == datetime(2027, 1, 4, 9, tzinfo=UTC)
    # Bob in Los Angeles: Friday 09:00 PST (Thursday 09:00 there is still 2026-Q4)
    assert send_moment(people[org.ids["Bob"]], QUARTER_END) == datetime(2027, 1, 1, 17, tzinfo=UTC)
    assert send_moment(people[org.ids["Dan"]], QUARTER_END) == datetime(2027, 1, 1, 9, tzinfo=UTC)


def test_each_person_is_told_once_at_their_moment_and_never_twice(
    session: Session, org: ScorecardOrg, deps: Deps
) -> None:
    ids = org.ids
    before = enqueue_due_scorecards(deps, session, datetime(2027, 1, 1, 8, 59, tzinfo=UTC))
    assert (before.quarter, before.enqueued, before.already_sent) == ("2026-Q4", 0, 0)
    first = run_scorecards(deps, datetime(2027, 1, 1, 9, 0, tzinfo=UTC))
    assert first is not None and (first.enqueued, first.already_sent) == (3, 0)
    # Ann and Dan had a commit in 2026-Q4, Mia manages East; Cat had neither commit nor win
    # in 2026-Q4; Bob's 09:00 is later, in Los Angeles
    east = org.team_ids["East"]
    assert keys(session) == sorted(
        [
            f"scorecard:{ids['Ann']}:2026-Q4",
            f"scorecard:{ids['Dan']}:2026-Q4",
            f"scorecard:{ids['Mia']}:2026-Q4:team:{east}",
        ]
    )
    again = run_scorecards(deps, datetime(2027, 1, 1, 9, 15, tzinfo=UTC))
    assert again is not None and (again.enqueued, again.already_sent) == (0, 3)
    bob = run_scorecards(deps, datetime(2027, 1, 1, 17, 0, tzinfo=UTC))
    assert bob is not None and (bob.enqueued, bob.already_sent) == (1, 3)
    late = run_scorecards(deps, datetime(2027, 1, 9, 9, 0, tzinfo=UTC))  # past the week
    assert late is not None and (late.enqueued, late.already_sent) == (0, 0)
    session.expire_all()
    assert len(keys(session)) == 4


def test_the_stored_notice_renders_the_scorecard_with_what_closed(
    session: Session, org: ScorecardOrg, deps: Deps
) -> None:
    enqueue_due_scorecards(deps, session, datetime(2027, 1, 2, tzinfo=UTC), everyone=True)
    session.commit()
    rows = {row.channel: row for row in session.scalars(select(Outbox))}
    ann = render(rows["UANN"].kind, rows["UANN"].payload)
    assert ann.text == "Your forecast scorecard after 2026-Q4"
    text = str(ann.blocks)
    assert "*2026-Q4 has closed.* How the forecasts compared with what was won:" in text
    assert "Under-called 4 of 4 quarters, by 13% on average" in text
    team = render(rows["UMIA"].kind, rows["UMIA"].payload)
    assert team.text == "East: forecast scorecard after 2026-Q4"
    assert "MAPE 5.0% across 1 rep" in str(team.blocks)
    assert sorted(rows) == ["UANN", "UBOB", "UDAN", "UMIA"]  # --send-now: whatever the hour
