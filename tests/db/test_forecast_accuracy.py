"""Accuracy, bias and MAPE per rep and team over the four quarters of 2026, worked out by hand
(tests/support/scorecard_org.py), against the KPI engine's forecast_accuracy."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.forecast.accuracy import (
    closed_quarters,
    org_scorecards,
    rep_scorecard,
    rep_scorecard_json,
    team_scorecard,
)
from salesops_core.kpi.engine import compute_report
from tests.support.scorecard_org import NOW, ORG, ScorecardOrg, build_scorecard_org


@pytest.fixture
def org(session: Session) -> ScorecardOrg:
    return build_scorecard_org(session)


def quarters(config: OrgConfig = ORG) -> list:
    return closed_quarters(config, NOW)


def test_an_under_caller_shows_each_quarters_commit_won_accuracy_and_bias(
    session: Session, org: ScorecardOrg
) -> None:
    card = rep_scorecard(session, org.scope("Ann"), ORG, quarters())
    assert [c.quarter for c in card.calls] == ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
    assert [c.commit for c in card.calls] == [80_000, 90_000, 100_000, 95_000]
    assert [c.won for c in card.calls] == [100_000, 100_000, 125_000, 100_000]
    assert [c.accuracy for c in card.calls] == pytest.approx([0.8, 0.9, 0.8, 0.95])
    assert [c.bias for c in card.calls] == pytest.approx([-0.2, -0.1, -0.2, -0.05])
    assert [c.best_case for c in card.calls] == [None, None, 120_000, 110_000]
    assert [c.landed for c in card.calls] == [None, None, "above_best_case", "in_range"]
    lean = card.lean
    assert (lean.judged, lean.under, lean.over) == (4, 4, 0)
    assert lean.under_by == pytest.approx(0.1375)  # (0.2 + 0.1 + 0.2 + 0.05) / 4
    assert card.trend == "improving"  # slope 0.035 a quarter


def test_a_commit_after_the_cutoff_is_ignored_and_a_later_cutoff_counts_it(
    session: Session, org: ScorecardOrg
) -> None:
    # Ann resubmitted 100k for Q4 three days in, and 110k six days in
    late = OrgConfig(timezone="UTC", forecast_cutoff_days=5)
    card = rep_scorecard(session, org.scope("Ann"), late, quarters(late))
    q4 = card.calls[-1]
    assert (q4.commit, q4.accuracy, q4.bias) == (100_000, 1.0, 0.0)
    on_time = rep_scorecard(session, org.scope("Ann"), ORG, quarters())
    assert on_time.calls[-1].commit == 95_000


def test_an_optimist_with_a_quarter_without_commit_and_one_without_wins(
    session: Session, org: ScorecardOrg
) -> None:
    card = rep_scorecard(session, org.scope("Bob"), ORG, quarters())
    assert [c.commit for c in card.calls] == [120_000, 150_000, None, 50_000]
    assert [c.won for c in card.calls] == [100_000, 100_000, 50_000, 0]
    assert [c.bias for c in card.calls] == pytest.approx([0.2, 0.5, None, None])
    assert [c.accuracy for c in card.calls] == pytest.approx([0.8, 0.5, None, None])
    assert (card.lean.judged, card.lean.over, card.lean.under) == (2, 2, 0)
    assert card.lean.over_by == pytest.approx(0.35)
    assert card.trend == "declining"
    values = rep_scorecard_json(card)
    assert values["quarters"][3]["accuracy"] is None
    assert values["quarters"][2]["commit"] is None
    assert values["mean_accuracy"] == pytest.approx(0.65)


def test_a_team_has_accuracy_on_the_sum_as_the_kpi_engine_and_mape_across_reps(
    session: Session, org: ScorecardOrg
) -> None:
    periods = quarters()
    card = team_scorecard(session, org.team("East"), ORG, periods)
    assert [rep.name for rep in card.reps] == ["Ann Under", "Bob Over", "Cat Quiet"]  # not Mia
    assert [q.accuracy for q in card.quarters] == pytest.approx([1.0, 0.8, 0.8, 0.55])
    assert [q.mape for q in card.quarters] == pytest.approx([0.2, 0.3, 0.2, 0.05])
    assert [q.judged for q in card.quarters] == [2, 2, 1, 1]
    assert [q.forecasters for q in card.quarters] == [2, 2, 1, 2]
    for period, quarter in zip(periods, card.quarters, strict=True):
        report = compute_report(session, org.team("East"), period, ORG, now=NOW, funnel=False)
        assert report.kpis["forecast_accuracy"] == pytest.approx(quarter.accuracy)


def test_the_org_pass_gives_every_team_and_rep_the_same_numbers_as_one_by_one(
    session: Session, org: ScorecardOrg
) -> None:
    periods = quarters()
    reps, teams = org_scorecards(session, ORG, periods)
    assert [team.team for team in teams] == ["East", "West"]
    assert teams[0] == team_scorecard(session, org.team("East"), ORG, periods)
    by_name = {card.name: card for card in reps}
    assert by_name["Dan West"] == rep_scorecard(session, org.scope("Dan"), ORG, periods)
    assert by_name["Dan West"].calls[-1].accuracy == pytest.approx(0.0)  # 200k on 100k won


@pytest.fixture
def statements(session: Session) -> Iterator[list[str]]:
    seen: list[str] = []
    bind = session.get_bind()

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    event.listen(bind, "before_cursor_execute", count)
    yield seen
    event.remove(bind, "before_cursor_execute", count)


def test_the_numbers_take_three_queries_a_quarter_and_one_for_the_reps_whatever_their_number(
    session: Session, org: ScorecardOrg, statements: list[str]
) -> None:
    org_scorecards(session, ORG, quarters())
    assert len(statements) == 3 * 4 + 1


def test_a_rep_with_nothing_in_the_quarters_still_gets_a_card_of_empty_quarters(
    session: Session, org: ScorecardOrg
) -> None:
    card = rep_scorecard(session, org.scope("Mia"), ORG, quarters())
    assert [c.commit for c in card.calls] == [None] * 4
    assert card.lean.judged == 0 and card.trend is None and card.mean_accuracy is None
