"""Past periods use what was true then: each deal's stage, amount and probability as of T.

Org time zone UTC; now = 2026-11-15. Stages Prospecting (1, 10%), Proposal (2, 50%),
Closed Won (3, won), Closed Lost (4, lost). Ann's quota: 100,000 in Q3 and in Q4.
  d1 created 08-01 Prospecting 10,000; 09-15 Proposal 12,000 at 60%; won 10-20 for 15,000
     (today: Closed Won, 100%, expected close 10-20)
  d2 created 06-01 Proposal 5,000, no history at all, still open (expected close 09-30)
  d3 created 05-01, won 11-01 for 8,000, expected close 09-15; its only history is the
     import's "Closed Won" at creation: its stage while open is not recorded
  d4 created 07-10 Prospecting 3,000; lost 09-01
  d5 created 10-05 Prospecting 20,000; 11-10 Proposal; open, expected close 12-15
  d6 created 06-15 Proposal 30,000, expected close 08-20; won 08-20
Open at the end of Q3 (10-01): d1 Proposal 12,000 x 60% = 7,200; d2 Proposal 5,000 x 50% =
2,500; d3 not recorded 8,000 (not weighted). Open 25,000, weighted 9,700.
Q3 coverage, as of its start (07-01): open then and expected to close in Q3: d2 5,000, d3
8,000 and d6 30,000: 43,000 / 100,000 = 0.43 (as of its end it would be 13,000 / 70,000).
Q4 (running) coverage: due in Q4 and open now: d5 20,000 / (100,000 - won 23,000) = 0.2597.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.reply import CommandContext
from commands.kit.text import reply_as_text
from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Deal, Outcome, Quota, Rep, Role, Stage
from salesops_core.kpi.asof import STAGE_NOT_RECORDED, open_deals_at
from salesops_core.kpi.details import pipeline_by_stage
from salesops_core.kpi.engine import compute_report, resolve_scope
from salesops_core.kpi.explain import explain
from salesops_core.org.access import viewer_for_rep
from salesops_core.org.scopes import ORG_SCOPE
from salesops_core.periods import parse_period
from tests.support.kpi_fixture import add_deal, at

ORG = OrgConfig(timezone="UTC")
NOW = datetime(2026, 11, 15, tzinfo=UTC)
Q3 = parse_period("2026-Q3", tz=ORG.tz)
Q4 = parse_period("2026-Q4", tz=ORG.tz)
WON, LOST = "Closed Won", "Closed Lost"


def build(session: Session) -> dict[str, Rep]:
    """Insert the org of the module docstring."""
    session.add_all(
        [
            Stage(name="Prospecting", sort_order=1, probability=0.1),
            Stage(name="Proposal", sort_order=2, probability=0.5),
            Stage(name=WON, sort_order=3, probability=1.0, outcome=Outcome.WON),
            Stage(name=LOST, sort_order=4, probability=0.0, outcome=Outcome.LOST),
        ]
    )
    admin = Rep(name="Ada Admin", email="ada@example.com", role=Role.ADMIN)
    ann = Rep(name="Ann Archer", email="ann@example.com")
    session.add_all([admin, ann])
    session.flush()
    for period in (Q3, Q4):
        session.add(
            Quota(rep_id=ann.id, period_start=period.start, period_end=period.end, amount=100000)
        )

    def deal(ext: str, stage: str, amount: float, created: datetime, **kw) -> None:
        add_deal(session, ext, ann, amount, stage, created, **kw)

    deal(
        "d1", WON, 15000, at(2026, 8, 1), probability=1.0, closed_at=at(2026, 10, 20),
        expected_close=at(2026, 10, 20),
        history=(
            (at(2026, 8, 1), "Prospecting", 10000, None),
            (at(2026, 9, 15), "Proposal", 12000, 0.6),
            (at(2026, 10, 20), WON, 15000, 1.0),
        ),
    )  # fmt: skip
    deal("d2", "Proposal", 5000, at(2026, 6, 1), expected_close=at(2026, 9, 30))
    deal(
        "d3", WON, 8000, at(2026, 5, 1), closed_at=at(2026, 11, 1),
        expected_close=at(2026, 9, 15), history=((at(2026, 5, 1), WON, None, None),),
    )  # fmt: skip
    deal(
        "d4", LOST, 3000, at(2026, 7, 10), closed_at=at(2026, 9, 1),
        history=((at(2026, 7, 10), "Prospecting", None, None), (at(2026, 9, 1), LOST, None, None)),
    )  # fmt: skip
    deal(
        "d5", "Proposal", 20000, at(2026, 10, 5), expected_close=at(2026, 12, 15),
        history=(
            (at(2026, 10, 5), "Prospecting", None, None),
            (at(2026, 11, 10), "Proposal", None, None),
        ),
    )  # fmt: skip
    deal(
        "d6", WON, 30000, at(2026, 6, 15), closed_at=at(2026, 8, 20),
        expected_close=at(2026, 8, 20),
        history=((at(2026, 6, 15), "Proposal", None, None), (at(2026, 8, 20), WON, None, None)),
    )  # fmt: skip
    session.commit()
    return {"ada": admin, "ann": ann}


@pytest.fixture
def reps(session: Session) -> dict[str, Rep]:
    return build(session)


def open_at(session: Session, when: datetime) -> dict[str, tuple]:
    """external id -> (stage, amount, probability) of the deals open at `when`, as of then."""
    deals = open_deals_at(when, columns=(Deal.external_id,)).subquery()
    rows = session.execute(
        select(deals.c.external_id, deals.c.stage, deals.c.amount, deals.c.probability)
    ).all()
    return {
        ext: (stage, amount, None if p is None else pytest.approx(p))
        for ext, stage, amount, p in rows
    }


def test_a_deal_moving_through_stages_reads_as_it_was_at_each_moment(
    session: Session, reps: dict
) -> None:
    assert "d1" not in open_at(session, at(2026, 7, 15))  # before it was created
    assert open_at(session, at(2026, 8, 15))["d1"] == ("Prospecting", 10000, 0.1)  # stage's
    assert open_at(session, at(2026, 9, 15))["d1"] == ("Prospecting", 10000, 0.1)  # just before
    assert open_at(session, at(2026, 9, 16))["d1"] == ("Proposal", 12000, 0.6)
    assert open_at(session, at(2026, 10, 1))["d1"] == ("Proposal", 12000, 0.6)
    assert open_at(session, at(2026, 10, 20))["d1"] == ("Proposal", 12000, 0.6)  # closes at T
    assert "d1" not in open_at(session, at(2026, 10, 21))  # won
    assert open_at(session, at(2026, 8, 15))["d4"] == ("Prospecting", 3000, 0.1)
    assert open_at(session, at(2026, 11, 1))["d5"] == ("Prospecting", 20000, 0.1)


def test_no_history_or_a_closed_stage_while_open_is_not_recorded_and_not_weighted(
    session: Session, reps: dict
) -> None:
    q3_end = open_at(session, Q3.end)
    assert q3_end["d2"] == ("Proposal", 5000, 0.5)  # open today, nothing recorded: today's
    assert q3_end["d3"] == (None, 8000, None)  # "Closed Won" while open: not recorded
    assert set(q3_end) == {"d1", "d2", "d3"}


def test_at_now_every_open_deal_is_exactly_as_it_is_today(session: Session, reps: dict) -> None:
    today = {
        d.external_id: (d.stage, d.amount, pytest.approx(d.probability or 0.5))
        for d in session.scalars(select(Deal).where(Deal.outcome == Outcome.OPEN))
    }
    assert open_at(session, NOW) == today
    stages = pipeline_by_stage(session, ORG_SCOPE, ORG, at=NOW)
    assert [(r["stage"], r["count"], r["amount"]) for r in stages] == [("Proposal", 2, 25000)]


def test_the_stage_split_of_a_past_period_lists_only_what_was_open_then(
    session: Session, reps: dict
) -> None:
    rows = pipeline_by_stage(session, ORG_SCOPE, ORG, at=Q3.end)
    assert [(r["stage"], r["count"], r["amount"], r["weighted_amount"]) for r in rows] == [
        ("Proposal", 2, 17000, pytest.approx(9700)),
        (STAGE_NOT_RECORDED, 1, 8000, None),
    ]


def test_open_and_weighted_pipeline_of_a_closed_period_are_as_of_its_end(
    session: Session, reps: dict
) -> None:
    report = compute_report(session, resolve_scope(session), Q3, ORG, (), now=NOW, funnel=False)
    assert report.kpis["open_pipeline_value"] == 25000
    assert report.kpis["weighted_pipeline_value"] == pytest.approx(9700)
    assert report.kpis["stale_deal_share"] == 1.0  # all three past expected close or quiet


def test_coverage_of_a_closed_period_is_as_of_its_start(session: Session, reps: dict) -> None:
    report = compute_report(session, resolve_scope(session), Q4, ORG, (), now=NOW, funnel=False)
    assert report.kpis["pipeline_coverage"] == pytest.approx(20000 / 77000)  # running: now
    assert report.previous["pipeline_coverage"] == pytest.approx(0.43)  # Q3, as of 07-01
    q3 = compute_report(session, resolve_scope(session), Q3, ORG, (), now=NOW, funnel=False)
    assert q3.kpis["pipeline_coverage"] == pytest.approx(0.43)
    assert q3.previous["pipeline_coverage"] is None  # Q2: no quota


def test_pipeline_last_quarter_lists_no_closed_stage(session: Session, reps: dict) -> None:
    ctx = CommandContext(org=ORG, sla=(SlaPolicy(),), now=NOW, charts=False)
    reply = run_command(session, viewer_for_rep(reps["ada"]), "/pipeline", "last-quarter org", ctx)
    text = reply_as_text(reply)
    assert WON not in text and LOST not in text
    assert "Stage not recorded      1     $8,000" in text
    assert "Open pipeline: $25,000" in text
    assert "Pipeline coverage: 0.4x" in text
    assert "Coverage: pipeline open at the start and expected to close in the period" in text


def test_explain_lists_each_deal_as_it_was_then(session: Session, reps: dict) -> None:
    scope = resolve_scope(session)
    weighted = explain(session, "weighted_pipeline_value", scope, Q3, ORG, (), now=NOW)
    assert weighted.value == pytest.approx(9700)
    records = {r["id"]: r for r in weighted.records}
    assert set(records) == {"d1", "d2", "d3"}
    assert (records["d1"]["stage"], records["d1"]["amount"]) == ("Proposal", 12000)
    assert records["d1"]["probability"] == pytest.approx(0.6)
    assert (records["d3"]["stage"], records["d3"]["probability"]) == (STAGE_NOT_RECORDED, None)
    assert records["d3"]["reason"] == "stage then not recorded: not weighted"
    coverage = explain(session, "pipeline_coverage", scope, Q3, ORG, (), now=NOW)
    assert coverage.value == pytest.approx(0.43)
    at_start = {r["id"]: r["status"] for r in coverage.records}  # open on 07-01
    assert at_start == {"d2": "counted", "d3": "counted", "d6": "counted"}


def test_the_stage_chart_says_a_stage_not_recorded_is_not_weighted(
    session: Session, reps: dict
) -> None:
    ctx = CommandContext(org=ORG, sla=(SlaPolicy(),), now=NOW, charts=True)
    reply = run_command(session, viewer_for_rep(reps["ada"]), "/pipeline", "last-quarter org", ctx)
    stages, amounts, weighted = reply.charts[0].render.args
    assert stages == ["Proposal", f"{STAGE_NOT_RECORDED} (not weighted)"]
    assert (amounts, weighted) == ([17000, 8000], [pytest.approx(9700), 0.0])
