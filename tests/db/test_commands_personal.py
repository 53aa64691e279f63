"""The personal commands answer with the right numbers (hand-computed in tests/command_org)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.reply import Reply
from commands.kit.text import reply_as_text
from tests.support.command_org import Org, build_org, context


@pytest.fixture
def org(session: Session) -> Org:
    return build_org(session)


def ask(session: Session, viewer, line: str) -> tuple[Reply, str]:
    command, _, text = line.partition(" ")
    reply = run_command(session, viewer, command, text, context())
    reply.blocks_json()  # valid Block Kit
    return reply, reply_as_text(reply)


def test_kpi_shows_my_numbers_with_change_vs_last_quarter(session: Session, org: Org) -> None:
    reply, text = ask(session, org.jane, "/kpi")
    assert "Your KPIs · this-quarter (2026-Q4)" in text
    # Q4 is running: compared with Q3 up to the same point (Aug 16 12:00; Q3's deal won Aug 10).
    assert "Quota attainment: 40% · ▲ 20 pts vs same point last quarter" in text
    assert "Won: $40,000 · ▲ 100% vs same point last quarter" in text
    assert "Win rate: 50% · ▼ 50 pts vs same point last quarter" in text
    assert "Avg sales cycle: 30 days" in text
    assert "Pipeline coverage: 0.8x" in text
    assert "Lead response (median): 12 min · — vs same point last quarter" in text  # no Q3 leads
    assert "Selling time: 75%" in text
    assert "1 won · 1 lost · weighted pipeline $26,000 · 1 lead unanswered" in text
    assert not reply.in_channel and reply.charts == []
    assert not re.search(r"\bnan\b", text, re.IGNORECASE)


def test_kpi_share_posts_in_channel(session: Session, org: Org) -> None:
    reply, _ = ask(session, org.jane, "/kpi last-quarter share")
    assert reply.in_channel
    assert "Your KPIs · last-quarter (2026-Q3)" in reply.text


def test_pipeline_by_stage_weighted_coverage_and_stale(session: Session, org: Org) -> None:
    _, text = ask(session, org.jane, "/pipeline")
    assert "Open pipeline: $60,000" in text
    assert "Weighted pipeline: $26,000" in text
    assert "Stale deals: 1 (50%)" in text
    assert "Proposal         1    $50,000    $25,000" in text


def test_leads_response_times_sla_and_waiting_leads(session: Session, org: Org) -> None:
    _, text = ask(session, org.jane, "/leads")
    assert "Leads: 3" in text
    assert "Lead response (median): 12 min" in text
    assert "Lead SLA met: 33%" in text
    assert "Leads unanswered: 1" in text
    assert "• Acme (web) waiting 3 h" in text


def test_quota_gap_and_pace(session: Session, org: Org) -> None:
    reply, text = ask(session, org.jane, "/quota")
    assert "Quota: $100,000" in text and "Gap to quota: $60,000" in text
    assert "Behind pace: 40% of quota won, 50% expected by now" in text
    assert reply.text.endswith("behind pace")


def test_forecast_last_submitted_and_last_closed_accuracy(session: Session, org: Org) -> None:
    _, text = ask(session, org.jane, "/forecast")
    assert "Last submitted forecast: $80,000" in text  # the 2026-11-01 one, not the 90,000
    assert "Forecast accuracy (2026-Q3): 75%" in text  # 1 - |25,000 - 20,000| / 20,000
    assert "Weighted pipeline closing in 2026-Q4: $25,000" in text  # not the Prospecting deal
    assert "Won + weighted: $65,000" in text


def test_meetings_per_week_against_the_team_average(session: Session, org: Org) -> None:
    _, text = ask(session, org.jane, "/meetings")
    assert "Meetings held: 1" in text
    assert "Per week: 0.2" in text  # 1 / (46.5 / 7)
    assert "Team average (West): 0.05 per rep" in text  # 1 meeting / 3 reps / 6.64 weeks


def test_a_teams_meetings_list_everyone_its_per_rep_rate_counts(session: Session, org: Org) -> None:
    _, text = ask(session, org.manager, "/meetings")
    assert "Per rep per week: 0.05" in text  # 1 meeting / 3 people / 6.64 weeks
    rows = [line.split() for line in text.splitlines() if line.endswith(("0.2", " 0"))]
    assert rows == [
        ["Jane", "Doe", "1", "0.2"],
        ["Bob", "Stone", "0", "0"],
        ["Mia", "Manager", "(manager)", "0", "0"],  # active, so counted: listed too
    ]
    assert "Per rep: 3 people counted (active, or with an activity), as listed." in text


def test_every_command_help_is_its_usage(session: Session, org: Org) -> None:
    for command in ("/kpi", "/pipeline", "/leads", "/forecast", "/quota", "/meetings", "/team"):
        reply = run_command(session, org.jane, command, "help", context())
        assert reply.text.startswith(f"Usage: {command} ")
        assert not reply.in_channel
        assert "Examples:" in reply_as_text(reply)


def test_undefined_numbers_show_a_dash_and_true_zeros_stay_zero(session: Session, org: Org) -> None:
    _, text = ask(session, org.eve, "/kpi")
    assert "Lead response (median): — · — vs same point last quarter" in text  # Eve: no leads
    assert "Selling time: — · — vs same point last quarter" in text  # and logged no activity
    assert "Pipeline coverage: 0.0x" in text  # quota left 40,000, nothing open: a real 0


def test_quota_of_a_closed_period_says_how_it_ended(session: Session, org: Org) -> None:
    reply, text = ask(session, org.jane, "/quota last-quarter")
    assert "Quota missed: the period ended at 20% of quota." in text
    assert reply.text.endswith("quota missed")
