"""The last day of a period longer than the one before: the same point of the previous period is
its end, and it still compares as a running period (coverage by the same rule on either side).

Hand-computed (UTC): Ann, quota 100,000 in 2026-Q2 and 2026-Q3. In Q2: W won 50,000 on May 10
(expected May 10) and O, 40,000 open since March, expected to close Jun 15. Q3 has 92 days and
Q2 91, so on Sep 30 12:00 the same point of Q2 is its end, Jul 1 00:00.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Deal, Outcome, Quota, Rep, Team
from salesops_core.kpi.engine import compute_report
from salesops_core.org.scopes import rep_scope
from salesops_core.periods import parse_period

ORG = OrgConfig()


def t(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def ann(session: Session) -> Rep:
    team = Team(name="West", region="Americas")
    rep = Rep(name="Ann Archer", email="ann@example.com", team=team)
    session.add_all([team, rep])
    session.flush()
    for start, end in ((t(4, 1), t(7, 1)), (t(7, 1), t(10, 1))):
        session.add(Quota(rep_id=rep.id, period_start=start, period_end=end, amount=100_000))
    session.add_all(
        [
            Deal(external_id="W", owner=rep, amount=50_000, stage="Closed Won",
                 outcome=Outcome.WON, created_at=t(3, 1), closed_at=t(5, 10),
                 expected_close=t(5, 10)),
            Deal(external_id="O", owner=rep, amount=40_000, stage="Proposal",
                 outcome=Outcome.OPEN, created_at=t(3, 1), expected_close=t(6, 15)),
        ]
    )  # fmt: skip
    session.commit()
    return rep


@pytest.mark.parametrize("now", [t(9, 29, 12), t(9, 30, 12)], ids=["sep-29", "sep-30"])
def test_the_previous_quarter_to_the_same_point_is_judged_as_running_up_to_its_last_day(
    session: Session, ann: Rep, now: datetime
) -> None:
    period = parse_period("this-quarter", tz=ORG.tz, now=now)
    report = compute_report(session, rep_scope(ann), period, ORG, (SlaPolicy(),), now=now)
    assert report.to_json()["previous_period"]["to_date"] is True
    # O, still open and due in Q2, over what was left to win: 40,000 / (100,000 - 50,000); not
    # the closed quarter's rule (pipeline at its start: (50,000 + 40,000) / 100,000 = 0.9)
    assert report.previous["pipeline_coverage"] == pytest.approx(0.8)
