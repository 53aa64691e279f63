"""Lead numbers as of a moment: a response given after it does not count yet (the previous
period to the same point, or a run reproduced with --now).

Hand-computed (UTC): Ann's lead L was created 2026-05-20 12:00 and answered 2026-06-10 12:00.
On 2026-08-30 12:00 (day 61 of 2026-Q3) the same point of 2026-Q2 is 2026-05-31 12:00: L was
then unanswered, waiting 11 days (15,840 minutes).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Lead, Rep, Team
from salesops_core.kpi.engine import compute_report
from salesops_core.org.scopes import rep_scope
from salesops_core.periods import parse_period

ORG = OrgConfig()
DAY_61 = datetime(2026, 8, 30, 12, tzinfo=UTC)


@pytest.fixture
def ann(session: Session) -> Rep:
    team = Team(name="West", region="Americas")
    rep = Rep(name="Ann Archer", email="ann@example.com", team=team)
    session.add_all([team, rep])
    session.flush()
    created = datetime(2026, 5, 20, 12, tzinfo=UTC)
    session.add(
        Lead(external_id="L", owner_id=rep.id, source="web", created_at=created,
             first_response_at=datetime(2026, 6, 10, 12, tzinfo=UTC),
             sla_due_at=datetime(2026, 5, 20, 13, tzinfo=UTC))
    )  # fmt: skip
    session.commit()
    return rep


def test_a_response_after_the_same_point_is_not_yet_given_then(session: Session, ann: Rep) -> None:
    period = parse_period("this-quarter", tz=ORG.tz, now=DAY_61)
    report = compute_report(session, rep_scope(ann), period, ORG, (SlaPolicy(),), now=DAY_61)
    before = report.previous
    assert before["leads_unanswered"] == 1
    assert before["lead_response_minutes_median"] is None  # nothing answered by then
    assert before["lead_response_minutes_p90"] == pytest.approx(11 * 24 * 60)
    assert before["lead_sla_met_share"] == 0.0  # its deadline had passed unanswered


def test_the_whole_previous_quarter_counts_the_response(session: Session, ann: Rep) -> None:
    now = datetime(2026, 7, 2, tzinfo=UTC)
    period = parse_period("last-quarter", tz=ORG.tz, now=now)
    report = compute_report(session, rep_scope(ann), period, ORG, (SlaPolicy(),), now=now)
    assert report.kpis["leads_unanswered"] == 0
    assert report.kpis["lead_response_minutes_median"] == pytest.approx(21 * 24 * 60)
