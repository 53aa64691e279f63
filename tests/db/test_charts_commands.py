"""What each slash command hands its chart: the data of an honest picture (periods from the first
with data, the running one marked, quota in dollars, the pace the text uses, the SLA's clock,
deal counts), on the hand-built org of tests.support.command_org."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.reply import Chart
from salesops_core.config import SlaPolicy
from salesops_core.kpi.format import pct
from salesops_core.kpi.pace import elapsed_share
from salesops_core.periods import parse_period
from tests.support.command_org import NOW, build_org, context
from tests.support.figures import by_gid


def chart_of(session: Session, viewer: Any, command: str, text: str = "", **ctx: Any) -> Chart:
    (chart,) = run_command(
        session, viewer, command, text, replace(context(charts=True), **ctx)
    ).charts
    return chart


def test_kpi_trend_starts_at_the_first_period_with_data_and_marks_the_running_one(
    session: Session,
) -> None:
    org = build_org(session)
    chart = chart_of(session, org.jane, "/kpi")
    labels, won, attainment = chart.render.args  # type: ignore[attr-defined]
    keywords = chart.render.keywords  # type: ignore[attr-defined]
    assert labels == ["2026-Q3", "2026-Q4"]  # not four empty quarters before Jane's first deal
    assert won == [20_000.0, 40_000.0]
    assert attainment == [0.2, 0.4]
    assert keywords["quota"] == [100_000.0, 100_000.0]  # in dollars, drawn on the won axis
    assert keywords["running"] is True
    assert chart.title == "Jane Doe: won vs quota, last 2 periods"
    closed = chart_of(session, org.jane, "/kpi", "last-quarter")
    assert closed.render.keywords["running"] is False  # type: ignore[attr-defined]


def test_team_chart_gets_the_pace_the_text_states(session: Session) -> None:
    org = build_org(session)
    reply = run_command(session, org.manager, "/team", "", context(charts=True))
    (chart,) = reply.charts
    period = parse_period("this-quarter", tz=context().org.tz, now=NOW)
    expected = chart.render.keywords["expected"]  # type: ignore[attr-defined]
    assert expected == elapsed_share(period, NOW)
    assert f"{pct(expected)} expected by now" in str(reply.blocks_json())


def test_lead_chart_knows_whether_the_sla_counts_business_minutes(session: Session) -> None:
    org = build_org(session)
    business = chart_of(session, org.jane, "/leads").render.keywords  # type: ignore[attr-defined]
    assert (business["sla_minutes"], business["business_hours"]) == (5.0, True)
    clock = chart_of(session, org.jane, "/leads", sla=(SlaPolicy(business_hours=False),))
    assert clock.render.keywords["business_hours"] is False  # type: ignore[attr-defined]
    tiered = (SlaPolicy(source="web", first_response_minutes=2), SlaPolicy())
    differ = chart_of(session, org.jane, "/leads", sla=tiered).render.keywords  # type: ignore[attr-defined]
    assert differ["sla_minutes"] is None  # no one line to draw when targets differ by source


def test_pipeline_chart_gets_each_stages_deal_count(session: Session) -> None:
    org = build_org(session)
    chart = chart_of(session, org.jane, "/pipeline")
    stages = chart.render.args[0]  # type: ignore[attr-defined]
    assert dict(zip(stages, chart.render.keywords["deals"], strict=True)) == {  # type: ignore[attr-defined]
        "Prospecting": 1,
        "Proposal": 1,
    }


def test_the_team_chart_from_the_command_draws_the_pace_line(session: Session) -> None:
    from salesops_core import charts

    org = build_org(session)
    (chart,) = run_command(session, org.manager, "/team", "", context(charts=True)).charts
    render = chart.render
    figure = charts.team_attainment_figure(*render.args, **render.keywords)  # type: ignore[attr-defined]
    (label,) = by_gid(figure.axes[0], "pace-label")
    assert label.get_text() == "50% expected by now"  # type: ignore[attr-defined]
