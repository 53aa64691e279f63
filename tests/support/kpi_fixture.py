"""A small hand-built sales org in which every KPI of 2026-Q1 is worked out by hand.

Org time zone UTC; report period 2026-Q1 = [2026-01-01, 2026-04-01); now = 2026-06-01.
Stage map: Prospect (1, 10%), Proposal (2, 50%), Won (3, 100%, won), Lost (4, 0%, lost).
Teams: East (region NA): Ann, Bob.  West (region EU): Cat.
`add_deal` (a deal with its stage history) and `at` serve the other hand-built orgs too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from functools import partial
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import (
    Activity,
    ActivityType,
    Deal,
    DealStageChange,
    Forecast,
    Lead,
    Outcome,
    Quota,
    Rep,
    Stage,
    Team,
)
from salesops_core.leads.deadlines import fill_sla_deadlines

ORG = OrgConfig(timezone="UTC", stale_deal_days=14)
SLA = [  # wall clock, so the deadlines below are easy to check by hand
    SlaPolicy(source="web", first_response_minutes=10, business_hours=False),
    SlaPolicy(source="*", first_response_minutes=60, business_hours=False),
]
NOW = datetime(2026, 6, 1, tzinfo=UTC)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def add_deal(
    session: Session,
    ext: str,
    owner: Rep,
    amount: float | None,
    stage: str,
    created: datetime,
    history: Sequence[tuple[Any, ...]] = (),
    **kw: Any,
) -> Deal:
    """Insert a deal, its outcome that of its stage in the stage map (open when the stage has
    none), and its stage history: (entered_at, stage[, amount[, probability]]) per change."""
    outcome = session.scalar(select(Stage.outcome).where(Stage.name == stage)) or Outcome.OPEN
    row = Deal(
        external_id=ext,
        owner_id=owner.id,
        amount=amount,
        stage=stage,
        outcome=outcome,
        created_at=created,
        **kw,
    )
    session.add(row)
    session.flush()
    for entered, name, *values in history:
        value, probability = (*values, None, None)[:2]
        session.add(
            DealStageChange(
                deal_id=row.id,
                stage=name,
                entered_at=entered,
                amount=value,
                probability=probability,
            )
        )
    return row


def build_org(session: Session) -> dict[str, int]:
    """Insert the fixture; returns rep and team ids by name."""
    session.add_all(
        [
            Stage(name="Prospect", sort_order=1, probability=0.1),
            Stage(name="Proposal", sort_order=2, probability=0.5),
            Stage(name="Won", sort_order=3, probability=1.0, outcome=Outcome.WON),
            Stage(name="Lost", sort_order=4, probability=0.0, outcome=Outcome.LOST),
        ]
    )
    east, west = Team(name="East", region="NA"), Team(name="West", region="EU")
    session.add_all([east, west])
    session.flush()
    ann = Rep(name="Ann Archer", email="ann@example.com", team_id=east.id)
    bob = Rep(name="Bob Baker", email="bob@example.com", team_id=east.id)
    cat = Rep(name="Cat Cole", email="cat@example.com", team_id=west.id)
    session.add_all([ann, bob, cat])
    session.flush()

    deal = partial(add_deal, session)

    a1 = deal("a1", ann, 1000, "Won", at(2026, 1, 1), closed_at=at(2026, 1, 31))  # 30 days
    a2 = deal("a2", ann, 3000, "Won", at(2026, 1, 1), closed_at=at(2026, 3, 2))  # 60 days
    a3 = deal("a3", ann, 500, "Lost", at(2026, 1, 5), closed_at=at(2026, 2, 1))
    a4 = deal("a4", ann, 2000, "Proposal", at(2026, 2, 1), expected_close=at(2026, 4, 20))
    deal(
        "a5", ann, 1000, "Prospect", at(2026, 2, 1), expected_close=at(2026, 3, 20), probability=0.3
    )
    b1 = deal("b1", bob, None, "Won", at(2026, 2, 1), closed_at=at(2026, 2, 11))  # 10 days
    deal("b2", bob, 0, "Lost", at(2026, 2, 1), closed_at=at(2026, 2, 5))
    # b3 closes exactly at the period end: it belongs to Q2 and is still open at T = Apr 1.
    deal(
        "b3",
        bob,
        2000,
        "Won",
        at(2026, 3, 1),
        closed_at=at(2026, 4, 1),
        expected_close=at(2026, 3, 25),
    )
    deal("c1", cat, 4000, "Won", at(2025, 12, 1), closed_at=at(2026, 1, 10))  # 40 days
    deal("c2", cat, 6000, "Proposal", at(2026, 1, 1), expected_close=at(2026, 3, 31))
    for row, stages in (
        (a1, ["Prospect", "Proposal", "Won"]),
        (a2, ["Prospect", "Won"]),
        (a3, ["Prospect", "Lost"]),
        (a4, ["Prospect", "Proposal"]),
        (b1, ["Prospect", "Won"]),
    ):
        for day, stage in enumerate(stages):
            session.add(
                DealStageChange(deal_id=row.id, stage=stage, entered_at=at(2026, 1, 1 + day))
            )

    session.add_all(
        [
            Quota(
                rep_id=ann.id, period_start=at(2026, 1, 1), period_end=at(2026, 4, 1), amount=4000
            ),
            Quota(rep_id=bob.id, period_start=at(2026, 1, 1), period_end=at(2026, 4, 1), amount=0),
            Quota(
                rep_id=cat.id, period_start=at(2026, 1, 1), period_end=at(2026, 4, 1), amount=10000
            ),
            # A yearly row reaches outside the quarter: not pro-rated, not counted.
            Quota(
                rep_id=cat.id, period_start=at(2026, 1, 1), period_end=at(2027, 1, 1), amount=40000
            ),
        ]
    )
    lead_rows = [
        ("l1", ann, "web", at(2026, 1, 10, 9), at(2026, 1, 10, 9, 5), None),  # 5 min, met (10)
        ("l2", ann, "web", at(2026, 1, 10, 10), at(2026, 1, 10, 10, 30), None),  # 30 min, missed
        # Business-hours deadline stored on the lead: answered 1200 min later, before it: met.
        ("l3", bob, "event", at(2026, 2, 1, 12), at(2026, 2, 2, 8), at(2026, 2, 2, 9)),
        ("l4", cat, "event", at(2026, 3, 31), None, None),  # never answered: missed
        ("l5", cat, "web", at(2026, 4, 1), None, None),  # Q2
    ]
    for ext, owner, source, created, answered, due in lead_rows:
        session.add(
            Lead(
                external_id=ext,
                owner_id=owner.id,
                source=source,
                created_at=created,
                first_response_at=answered,
                sla_due_at=due,
            )
        )
    activity_rows = [
        ("x1", ann, ActivityType.MEETING, at(2026, 1, 15), 60, True, a1.id),
        ("x2", ann, ActivityType.DEMO, at(2026, 2, 15), 30, True, None),
        ("x3", ann, ActivityType.CALL, at(2026, 3, 30), 30, False, a4.id),
        ("x4", ann, ActivityType.ADMIN, at(2026, 3, 2), 60, False, None),
        ("x5", bob, ActivityType.MEETING, at(2026, 2, 2), 30, False, None),  # internal
        ("x6", bob, ActivityType.EMAIL, at(2026, 2, 3), None, False, None),  # no minutes
        ("x7", cat, ActivityType.TRAINING, at(2026, 3, 3), 120, False, None),
    ]
    for ext, rep, kind, started, minutes, external, deal_id in activity_rows:
        session.add(
            Activity(
                external_id=ext,
                rep_id=rep.id,
                type=kind,
                started_at=started,
                minutes=minutes,
                external_attendee=external,
                deal_id=deal_id,
            )
        )
    q1 = {"period_start": at(2026, 1, 1), "period_end": at(2026, 4, 1)}
    session.add_all(
        [
            Forecast(rep_id=ann.id, amount=5000, submitted_at=at(2025, 12, 15), **q1),
            Forecast(rep_id=ann.id, amount=4500, submitted_at=at(2025, 12, 20), **q1),  # used
            Forecast(rep_id=ann.id, amount=9999, submitted_at=at(2026, 1, 5), **q1),  # too late
            Forecast(
                rep_id=ann.id,
                amount=7000,
                category="best_case",
                submitted_at=at(2025, 12, 20),
                **q1,
            ),
            Forecast(rep_id=cat.id, amount=3000, submitted_at=at(2025, 12, 30), **q1),  # used
        ]
    )
    session.flush()
    fill_sla_deadlines(session, ORG, SLA)  # every lead without a stored deadline (not l3)
    session.commit()
    return {"ann": ann.id, "bob": bob.id, "cat": cat.id, "east": east.id, "west": west.id}
