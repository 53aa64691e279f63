"""A hand-built org for the weekly forecast snapshots, its every number worked out below.

Org time zone UTC, quarters 2026-Q4 = [2026-10-01, 2027-01-01) and 2027-Q1. First snapshot at
NOW = Wed 2026-11-04 12:00, week of Mon 2026-11-02. Stage map: Prospect 10%, Proposal 50%.

Team East: Ann and Bob (reps), Mo (manager, only a team call). Team West: Cat (left; an open
deal), Dan (active, nothing at all). Only Ann and Bob are snapshotted.

Ann, 2026-Q4: commit 10,000 (Sep 28) -> 12,000 (Oct 20) -> 15,000 (Nov 5, after NOW); best
case 20,000 (Oct 20). Open at NOW: a1 Prospect 1,000 (x 0.1 = 100), a2 Prospect 3,000 with
its own 0.3 (= 900), a3 Proposal 4,000 (= 2,000), a6 Proposal 5,000 as of then (won on
Nov 10; its stage history says Proposal at NOW: = 2,500). Not open: a4 (won Oct 15), a7
(created Nov 7). Prospect: 2 deals, 4,000, 1,000; Proposal: 2 deals, 9,000, 4,500.
Bob: 2027-Q1 commit 8,000 (Oct 30); a quota for 2026-Q4; b1 Proposal 2,000 (= 1,000).
Mo's team call of 50,000 for East is not a rep's forecast.

Week of Nov 9 (taken Mon 2026-11-09 06:00): Ann's commit 15,000; a7 Proposal 1,000 (= 500)
is open; a6 still open (closes Nov 10). East's 2026-Q4 then: commit 15,000, best case 20,000,
pipeline 4,000 + 9,000 + 1,000 + 2,000 = 16,000, weighted 1,000 + 4,500 + 500 + 1,000 = 7,000.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Forecast, Outcome, Quota, Rep, Role, Stage, Team
from salesops_core.periods import quarter_period
from tests.support.kpi_fixture import add_deal, at

ORG = OrgConfig(timezone="UTC")
NOW = at(2026, 11, 4, 12)
NEXT_MONDAY = at(2026, 11, 9, 6)
Q4 = quarter_period(2026, 4, ZoneInfo("UTC"))
Q1 = quarter_period(2027, 1, ZoneInfo("UTC"))


def build_snapshot_org(session: Session) -> dict[str, int]:
    """The org of the module docstring; rep and team ids by first name."""
    session.add_all(
        [
            Stage(name="Prospect", sort_order=1, probability=0.1),
            Stage(name="Proposal", sort_order=2, probability=0.5),
            Stage(name="Won", sort_order=3, probability=1.0, outcome=Outcome.WON),
        ]
    )
    east, west = Team(name="East", region="NA"), Team(name="West", region="EU")
    session.add_all([east, west])
    session.flush()
    ann = Rep(name="Ann Archer", email="ann@example.com", team_id=east.id)
    bob = Rep(name="Bob Baker", email="bob@example.com", team_id=east.id)
    mo = Rep(name="Mo Manager", email="mo@example.com", team_id=east.id, role=Role.MANAGER)
    cat = Rep(name="Cat Cole", email="cat@example.com", team_id=west.id, active=False)
    dan = Rep(name="Dan Dale", email="dan@example.com", team_id=west.id)
    session.add_all([ann, bob, mo, cat, dan])
    session.flush()
    add_deal(session, "a1", ann, 1000, "Prospect", at(2026, 9, 1))
    add_deal(session, "a2", ann, 3000, "Prospect", at(2026, 9, 1), probability=0.3)
    add_deal(session, "a3", ann, 4000, "Proposal", at(2026, 9, 1))
    add_deal(session, "a4", ann, 9000, "Won", at(2026, 9, 1), closed_at=at(2026, 10, 15))
    add_deal(
        session,
        "a6",
        ann,
        5000,
        "Won",
        at(2026, 10, 1),
        closed_at=at(2026, 11, 10),
        history=[
            (at(2026, 10, 1), "Prospect"),
            (at(2026, 10, 5), "Proposal"),
            (at(2026, 11, 10), "Won"),
        ],
    )
    add_deal(session, "a7", ann, 1000, "Proposal", at(2026, 11, 7))
    add_deal(session, "b1", bob, 2000, "Proposal", at(2026, 9, 1))
    add_deal(session, "c1", cat, 7000, "Prospect", at(2026, 9, 1))

    def forecast(
        rep: Rep,
        quarter_start: datetime,
        quarter_end: datetime,
        amount: float,
        submitted: datetime,
        category: str = "commit",
        team: Team | None = None,
    ) -> None:
        session.add(
            Forecast(
                rep_id=rep.id,
                period_start=quarter_start,
                period_end=quarter_end,
                amount=amount,
                category=category,
                submitted_at=submitted,
                team_id=None if team is None else team.id,
            )
        )

    forecast(ann, Q4.start, Q4.end, 10_000, at(2026, 9, 28))
    forecast(ann, Q4.start, Q4.end, 12_000, at(2026, 10, 20))
    forecast(ann, Q4.start, Q4.end, 15_000, at(2026, 11, 5))
    forecast(ann, Q4.start, Q4.end, 20_000, at(2026, 10, 20), category="best_case")
    forecast(bob, Q1.start, Q1.end, 8_000, at(2026, 10, 30))
    forecast(mo, Q4.start, Q4.end, 50_000, at(2026, 10, 21), team=east)
    session.add(Quota(rep_id=bob.id, period_start=Q4.start, period_end=Q4.end, amount=30_000))
    session.commit()
    return {"ann": ann.id, "bob": bob.id, "east": east.id}
