"""`/forecast scorecard`: sentences first, then the table; private; only for the rep, their
manager and admins (the hand-built org of tests/support/scorecard_org.py)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from commands.base import CommandContext, run_command
from commands.kit.text import reply_as_text
from salesops_core.db.models import Rep, Role
from salesops_core.errors import BadArguments, NotAllowed
from salesops_core.org.access import Viewer, viewer_for_rep
from tests.support.scorecard_org import NOW, ORG, ScorecardOrg, build_scorecard_org

CTX = CommandContext(org=ORG, now=NOW, charts=False)


@pytest.fixture
def org(session: Session) -> ScorecardOrg:
    found = build_scorecard_org(session)
    session.add(Rep(name="Ada Admin", email="ada@acme.test", role=Role.ADMIN))
    session.commit()
    return found


def viewer(session: Session, email: str) -> Viewer:
    from sqlalchemy import select

    return viewer_for_rep(session.scalars(select(Rep).where(Rep.email == email)).one())


def ask(session: Session, email: str, text: str) -> str:
    reply = run_command(session, viewer(session, email), "/forecast", text, CTX)
    assert not reply.in_channel
    return reply_as_text(reply)


def test_a_reps_own_scorecard_reads_as_sentences_then_the_table(
    session: Session, org: ScorecardOrg
) -> None:
    text = ask(session, "ann@acme.test", "scorecard")
    assert text.splitlines()[0] == "Your forecast scorecard · 2026-Q1 to 2026-Q4"
    sentences = [
        "Under-called 4 of 4 quarters, by 13% on average: won came in above the commit "
        "(sandbagging).",
        "Accuracy 86% on average, improving: from 80% in 2026-Q1 to 95% in 2026-Q4.",
        "Won landed between commit and best case in 1 of 2 quarters with a best case.",
        "2026-Q4: commit $95,000, won $100,000: accuracy 95%, bias -5.0%.",
    ]
    table = [
        "Quarter     Commit      Best       Won  Accur.   Bias",
        "2026-Q1    $80,000         —  $100,000     80%   -20%",
        "2026-Q2    $90,000         —  $100,000     90%   -10%",
        "2026-Q3   $100,000  $120,000  $125,000     80%   -20%",
        "2026-Q4    $95,000  $110,000  $100,000     95%  -5.0%",
        "Average                                    86%   -13%",
    ]
    lines = text.splitlines()
    start = lines.index(sentences[0])
    assert lines[start : start + 4] == sentences
    assert lines[start + 4 : start + 10] == table  # the table after the sentences
    assert "Only you, your manager and sales-ops admins see this." in text


def test_an_optimists_scorecard_says_over_called_and_declining(
    session: Session, org: ScorecardOrg
) -> None:
    text = ask(session, "bob@acme.test", "scorecard")
    assert (
        "Over-called 2 of 2 quarters with a commit and a win (of 4 shown), by 35% on average: the "
        "commit was above what was won (optimistic)." in text
    )
    assert "Accuracy 65% on average, declining: from 80% in 2026-Q1 to 50% in 2026-Q2." in text
    assert "2026-Q4: commit $50,000, won $0 (nothing won: no accuracy)." in text


def test_a_rep_without_commits_is_told_what_makes_a_quarter_count(
    session: Session, org: ScorecardOrg
) -> None:
    text = ask(session, "cat@acme.test", "scorecard")
    assert (
        "No quarter to judge in the last 4 quarters: a quarter counts once a commit was "
        "submitted before its cut-off and something was won in it." in text
    )
    assert "Accuracy" not in text.split("No quarter")[1].split("Quarter")[0]  # no trend said


def test_a_manager_sees_a_reps_scorecard_and_the_teams_with_both_team_numbers(
    session: Session, org: ScorecardOrg
) -> None:
    ann = ask(session, "mia@acme.test", "scorecard ann@acme.test")
    assert "Ann Under: forecast scorecard · 2026-Q1 to 2026-Q4" in ann
    team = ask(session, "mia@acme.test", "scorecard team")
    assert "East: forecast scorecard · 2026-Q1 to 2026-Q4" in team
    assert (
        "2026-Q4: team accuracy 55% on the sum of 2 reps' commits ($145,000 committed, "
        "$100,000 won); MAPE 5.0% across 1 rep." in team
    )
    assert "Sandbagging (under-called most quarters; average bias): Ann Under -13%." in team
    assert "Optimistic (over-called most quarters; average bias): Bob Over +35%." in team
    assert "No commit before the cut-off in any of these quarters: Cat Quiet." in team
    assert "2026-Q2   $240,000  $200,000     80%    30%    2" in team
    assert "2026-Q1   $200,000  $200,000    100%    20%    2" in team  # misses cancel on the sum
    assert "Ann Under              86%   -13% 4/4 under improving" in team
    assert "Only the team's manager and sales-ops admins see this." in team


def test_a_managers_plain_scorecard_is_the_teams_as_their_other_commands_and_me_is_their_own(
    session: Session, org: ScorecardOrg
) -> None:
    assert ask(session, "mia@acme.test", "scorecard").splitlines()[0] == (
        "East: forecast scorecard · 2026-Q1 to 2026-Q4"
    )
    own = ask(session, "mia@acme.test", "scorecard me")
    assert own.splitlines()[0] == "Your forecast scorecard · 2026-Q1 to 2026-Q4"
    assert "/forecast scorecard team shows your team's." in own


def test_an_admins_empty_own_scorecard_says_whose_to_ask_for(
    session: Session, org: ScorecardOrg
) -> None:
    text = ask(session, "ada@acme.test", "scorecard")
    hint = "Name whose to see: /forecast scorecard and a team's name, or a rep's @mention."
    assert hint in text


def test_a_rep_cannot_see_another_reps_scorecard(session: Session, org: ScorecardOrg) -> None:
    with pytest.raises(NotAllowed, match="you can only see your own numbers, not Ann Under's"):
        ask(session, "bob@acme.test", "scorecard ann@acme.test")
    with pytest.raises(NotAllowed, match="team numbers"):
        ask(session, "bob@acme.test", "scorecard team")


def test_a_manager_cannot_see_another_teams_rep_and_an_admin_sees_anyone(
    session: Session, org: ScorecardOrg
) -> None:
    with pytest.raises(NotAllowed, match="Dan West is not on your team"):
        ask(session, "mia@acme.test", "scorecard dan@acme.test")
    assert "Dan West: forecast scorecard" in ask(session, "ada@acme.test", "scorecard Dan")
    assert "West: forecast scorecard" in ask(session, "ada@acme.test", "scorecard West")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("scorecard share", "A forecast scorecard is private: `share` would post it"),
        ("scorecard org", "A scorecard is for one rep or one team, not Org."),
        ("scorecard this-quarter", "has not ended yet; the scorecard covers closed quarters."),
        ("scorecard 2026-05", "scorecards are per quarter; 2026-05 is not one (e.g. 2026-Q2)."),
    ],
)
def test_share_and_what_a_scorecard_cannot_cover_get_one_clear_line(
    session: Session, org: ScorecardOrg, text: str, problem: str
) -> None:
    with pytest.raises(BadArguments, match=re.escape(problem)):
        ask(session, "ada@acme.test", text)


def test_a_named_closed_quarter_is_the_last_one_shown(session: Session, org: ScorecardOrg) -> None:
    text = ask(session, "ann@acme.test", "scorecard 2026-Q3")
    assert "Your forecast scorecard · 2025-Q4 to 2026-Q3" in text
    assert "2026-Q3: commit $100,000, won $125,000: accuracy 80%, bias -20%." in text
