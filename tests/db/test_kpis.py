"""Every KPI of the hand-built fixture (tests/kpi_fixture.py), worked out by hand.

Runs on SQLite and, with SALESOPS_TEST_POSTGRES_URL, on Postgres: the same hand-computed
numbers on both backends is what "identical results" means here.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep
from salesops_core.kpi.engine import compute_report, resolve_scope
from salesops_core.kpi.registry import KPI_KEYS
from salesops_core.periods import parse_period
from tests.support.kpi_fixture import NOW, ORG, SLA, at, build_org

Q1 = parse_period("2026-Q1", tz=ORG.tz)
WEEKS = 90 / 7  # 2026-Q1 has 90 days


@pytest.fixture
def org_ids(session: Session) -> dict[str, int]:
    return build_org(session)


def report(session: Session, **scope: str):
    return compute_report(session, resolve_scope(session, **scope), Q1, ORG, SLA, now=NOW)


def test_org_numbers_match_the_hand_computation(session: Session, org_ids: dict) -> None:
    k = report(session).kpis
    assert set(k) == set(KPI_KEYS)
    # Closed in Q1: won a1 1000, a2 3000, b1 (no amount), c1 4000; lost a3 500, b2 0.
    # b3 closes exactly at 2026-04-01 00:00: next quarter.
    assert k["won_count"] == 4 and k["lost_count"] == 2
    assert k["won_amount"] == pytest.approx(8000)  # 1000 + 3000 + 4000
    assert k["win_rate"] == pytest.approx(4 / 6)
    assert k["avg_deal_size"] == pytest.approx(8000 / 3)  # b1 has no amount: not averaged
    assert k["avg_sales_cycle_days"] == pytest.approx((30 + 60 + 10 + 40) / 4)  # 35
    # Quota rows inside Q1: Ann 4000, Cat 10000; Bob's 0 is no quota; Cat's yearly row ignored.
    assert k["quota_attainment"] == pytest.approx(8000 / 14000)
    # Ann 4000/4000 >= 1, Cat 4000/10000 < 1: one of two reps with quota.
    assert k["quota_attainment_rate"] == pytest.approx(0.5)
    # Open at T = Apr 1, as of then: a4 2000 (Proposal 50%), a5 1000 (own 30%), c2 6000
    # (Proposal 50%), b3 2000 (closes at T, so still open at T; won now and no stage history:
    # its stage at T is not recorded, so it is not weighted).
    assert k["open_pipeline_value"] == pytest.approx(11000)
    assert k["weighted_pipeline_value"] == pytest.approx(1000 + 300 + 3000)
    # Q1 has ended: coverage as of its start. Open on Jan 1 was c1 alone, with no expected
    # close: nothing expected to close in Q1, 0 / 14000.
    assert k["pipeline_coverage"] == 0.0
    # Stale: a5 (expected Mar 20 < T), c2 (no activity since creation), b3 (expected Mar 25);
    # a4 had a call on Mar 30 and closes Apr 20: fresh.
    assert k["stale_deal_share"] == pytest.approx(3 / 4)
    assert k["pipeline_velocity_per_day"] == pytest.approx(4 * (4 / 6) * (8000 / 3) / 35)
    # Leads in Q1: l1 5 min, l2 30 min, l3 1200 min, l4 unanswered (Mar 31 -> Jun 1: 89280 min).
    assert k["lead_response_minutes_median"] == pytest.approx(30)  # median of 5, 30, 1200
    # p90 over 5, 30, 1200, 89280: position 0.9 * 3 = 2.7 -> 1200 + 0.7 * 88080
    assert k["lead_response_minutes_p90"] == pytest.approx(1200 + 0.7 * 88080)
    assert k["lead_sla_met_share"] == pytest.approx(2 / 4)  # l1 (10-min web) and l3 (due at)
    assert k["leads_unanswered"] == 1
    # Selling: 60 + 30 + 30 (Ann) + 30 (Bob's internal meeting) = 150 of 330 logged minutes.
    assert k["selling_time_share"] == pytest.approx(150 / 330)
    # Prospect meetings: Ann's meeting and demo = 2; reps: 3 active; 90 / 7 weeks.
    assert k["meetings_per_rep_per_week"] == pytest.approx(2 / 3 / WEEKS)
    # Forecasts: Ann 4500 (last commit before Jan 1) + Cat 3000 = 7500 vs won 4000 + 4000.
    assert k["forecast_accuracy"] == pytest.approx(1 - 500 / 8000)


def test_rep_numbers_match_the_hand_computation(session: Session, org_ids: dict) -> None:
    ann = report(session, rep="ann@example.com").kpis
    assert ann["won_amount"] == pytest.approx(4000)
    assert ann["win_rate"] == pytest.approx(2 / 3)
    assert ann["avg_deal_size"] == pytest.approx(2000)
    assert ann["avg_sales_cycle_days"] == pytest.approx(45)
    assert ann["quota_attainment"] == pytest.approx(1.0)
    assert ann["quota_attainment_rate"] == 1.0
    assert ann["open_pipeline_value"] == pytest.approx(3000)
    assert ann["weighted_pipeline_value"] == pytest.approx(1300)
    assert ann["pipeline_coverage"] == 0.0  # nothing of Ann's was open on Jan 1
    assert ann["stale_deal_share"] == pytest.approx(0.5)
    assert ann["lead_response_minutes_median"] == pytest.approx(17.5)  # of 5 and 30
    assert ann["lead_response_minutes_p90"] == pytest.approx(5 + 0.9 * 25)
    assert ann["selling_time_share"] == pytest.approx(120 / 180)
    assert ann["meetings_per_rep_per_week"] == pytest.approx(2 / WEEKS)
    assert ann["forecast_accuracy"] == pytest.approx(1 - 500 / 4000)


def test_zero_quota_and_deal_without_amount_give_nulls_not_zeros(
    session: Session, org_ids: dict
) -> None:
    bob = report(session, rep="Bob Baker").kpis
    assert bob["quota_attainment"] is None  # quota 0 = no quota
    assert bob["quota_attainment_rate"] is None
    assert bob["won_count"] == 1 and bob["won_amount"] == 0
    assert bob["avg_deal_size"] is None  # his only win has no amount
    assert bob["win_rate"] == pytest.approx(0.5)  # the lost deal of amount 0 still counts
    assert bob["forecast_accuracy"] is None  # no forecast


def test_team_and_region_leaderboard_and_funnel(session: Session, org_ids: dict) -> None:
    east = report(session, team="east")
    assert east.kpis["won_amount"] == pytest.approx(4000)
    assert [row["rep"] for row in east.leaderboard] == ["Ann Archer", "Bob Baker"]
    assert east.leaderboard[0]["won_amount"] == pytest.approx(4000)
    assert report(session, region="EU").kpis["won_amount"] == pytest.approx(4000)
    funnel = {row["stage"]: row for row in report(session).stage_conversion}
    # Created in Q1 and furthest stage: Won a1 a2 b1 b3; Proposal a4 c2; Prospect a3 a5.
    # b2 only ever Lost: not in the funnel. c1 was created in December.
    assert (funnel["Prospect"]["reached"], funnel["Prospect"]["advanced"]) == (8, 6)
    assert (funnel["Proposal"]["reached"], funnel["Proposal"]["advanced"]) == (6, 4)
    assert funnel["Proposal"]["rate"] == pytest.approx(4 / 6)
    assert funnel["Won"]["advanced"] is None and funnel["Won"]["rate"] is None
    assert "Lost" not in funnel


def test_previous_period_numbers_come_with_the_report(session: Session, org_ids: dict) -> None:
    previous = report(session).previous
    # 2025-Q4: nothing closed; c1 (created Dec 1, won Jan 10) was open at Jan 1.
    assert previous["won_count"] == 0 and previous["win_rate"] is None
    assert previous["open_pipeline_value"] == pytest.approx(4000)


def test_rep_who_changed_teams_counts_for_the_current_team(session: Session, org_ids: dict) -> None:
    bob = session.get(Rep, org_ids["bob"])
    bob.team_id = org_ids["west"]
    session.commit()
    assert report(session, team="West").kpis["won_count"] == 2  # Cat's c1 + Bob's b1
    assert report(session, team="East").kpis["won_count"] == 2  # Ann only


def test_json_has_the_documented_shape_and_no_nan(session: Session, org_ids: dict) -> None:
    data = json.loads(json.dumps(report(session, team="East").to_json(), allow_nan=False))
    assert set(data) == {
        "scope", "period", "kpis", "previous", "previous_period", "leaderboard", "stage_conversion"
    }  # fmt: skip
    assert data["period"] == {
        "start": "2026-01-01T00:00:00+00:00",
        "end": "2026-04-01T00:00:00+00:00",
        "label": "2026-Q1",
    }
    assert list(data["kpis"]) == list(KPI_KEYS)
    assert data["scope"] == {"kind": "team", "key": org_ids["east"], "name": "East"}


def test_empty_org_gives_nulls_where_undefined(session: Session) -> None:
    k = compute_report(session, resolve_scope(session), Q1, ORG, SLA, now=NOW).kpis
    assert k["won_count"] == 0 and k["won_amount"] == 0 and k["open_pipeline_value"] == 0
    for key in (
        "win_rate",
        "avg_deal_size",
        "avg_sales_cycle_days",
        "quota_attainment",
        "pipeline_coverage",
        "stale_deal_share",
        "lead_response_minutes_median",
        "lead_sla_met_share",
        "selling_time_share",
        "meetings_per_rep_per_week",
        "forecast_accuracy",
    ):
        assert k[key] is None, key


def test_all_lost_gives_win_rate_zero_and_no_average_size(session: Session, org_ids: dict) -> None:
    period = parse_period("2026-02-01..2026-02-10", tz=ORG.tz)  # only a3 and b2 closed: lost
    k = compute_report(session, resolve_scope(session), period, ORG, SLA, now=NOW).kpis
    assert (k["won_count"], k["lost_count"]) == (0, 2)
    assert k["win_rate"] == 0.0
    assert k["avg_deal_size"] is None and k["avg_sales_cycle_days"] is None


def test_month_of_a_quarterly_quota_has_no_quota(session: Session, org_ids: dict) -> None:
    march = parse_period("2026-03", tz=ORG.tz)
    k = compute_report(session, resolve_scope(session), march, ORG, SLA, now=NOW).kpis
    assert k["quota_attainment"] is None and k["quota_attainment_rate"] is None


def test_lead_still_inside_its_sla_is_not_yet_counted(session: Session, org_ids: dict) -> None:
    from salesops_core.db.models import Lead

    now = at(2026, 3, 31, 0, 30)  # l4 created 30 minutes ago, policy "*" = 60 minutes
    session.add(Lead(external_id="fresh", owner_id=org_ids["cat"], source="web", created_at=now))
    session.commit()
    k = compute_report(
        session, resolve_scope(session, rep="cat@example.com"), Q1, ORG, SLA, now=now
    )
    assert k.kpis["leads_unanswered"] == 2
    assert k.kpis["lead_sla_met_share"] is None  # neither is decided yet
    assert k.kpis["lead_response_minutes_p90"] == pytest.approx(0.1 * 0 + 0.9 * 30)


def test_current_period_uses_now_for_open_pipeline(session: Session, org_ids: dict) -> None:
    now = at(2026, 2, 15)
    period = parse_period("this-quarter", tz=ORG.tz, now=now)
    k = compute_report(session, resolve_scope(session), period, ORG, SLA, now=now).kpis
    # Open at Feb 15: a2 (closes Mar 2), a4, a5, c2 = 3000 + 2000 + 1000 + 6000.
    assert k["open_pipeline_value"] == pytest.approx(12000)
    # Held before now: Ann's Jan 15 meeting only (the demo starts at now); 45 days elapsed.
    assert k["meetings_per_rep_per_week"] == pytest.approx(1 / 3 / (45 / 7))


def test_deal_rows_do_not_leak_between_reps(session: Session, org_ids: dict) -> None:
    reps = session.scalars(select(Rep)).all()
    total = sum(report(session, rep=r.email).kpis["won_amount"] for r in reps)
    assert total == pytest.approx(report(session).kpis["won_amount"])
    assert timedelta(0) < Q1.end - Q1.start


def test_pipeline_by_stage_lists_open_deals_in_stage_order(session: Session, org_ids: dict) -> None:
    from salesops_core.kpi.engine import pipeline_by_stage

    rows = pipeline_by_stage(session, resolve_scope(session), ORG, at=at(2026, 4, 1))
    # Open at Apr 1: a5 Prospect 1000 (own 30%), a4 + c2 Proposal 8000, b3 2000 (won at T
    # with no stage history: its stage while open is not recorded; never "Won").
    assert [(r["stage"], r["count"], r["amount"]) for r in rows] == [
        ("Prospect", 1, 1000),
        ("Proposal", 2, 8000),
        ("Stage not recorded", 1, 2000),
    ]
    assert rows[2]["weighted_amount"] is None
    assert rows[0]["weighted_amount"] == pytest.approx(300)


def test_lead_response_minutes_lists_each_lead_with_its_sla(
    session: Session, org_ids: dict
) -> None:
    from salesops_core.kpi.engine import lead_response_minutes

    rows = lead_response_minutes(session, resolve_scope(session), Q1, ORG, SLA, now=NOW)
    assert [r["external_id"] for r in rows] == ["l1", "l2", "l3", "l4"]
    assert [r["minutes"] for r in rows[:3]] == pytest.approx([5, 30, 1200])
    assert [r["met_sla"] for r in rows] == [True, False, True, False]
    assert rows[3]["minutes"] is None and rows[3]["sla_minutes"] == 60
