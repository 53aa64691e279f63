"""A hand-made sales history whose forecast for 2026-Q1 is known by hand.

Org time zone UTC. Stages: Qualify (1, 20%), Negotiate (2, 50%), Won, Lost. Team East: Ann and
Bob. The history starts 2024-12-27 (the first deal), so 2025-Q1..Q4 are whole past quarters.
In each of 2025-Q1..Q4 (start s): 10 of Ann's deals, created s - 5 days in Negotiate for
1,000 (recorded at creation), are open at s; 3 are won at s + 30 days, 7 lost at s + 40 days.
So every window: 10 deals open at its start, 5 days in stage, 3 won inside it (won 3,000; no
new business), and the learned chance of a Negotiate deal 5 days in stage is 12 / 40 = 0.3.
At 2026-01-01 the same: 10 of Ann's Negotiate deals of 1,000 created 2025-12-27 are open;
3 of them are won in 2026-Q1 (2026-01-31), the rest lost (2026-02-10).
Ann's commit for 2026-Q1: 2,400 submitted 2025-12-20 (counts); 9,999 on 2026-02-01 (after
the cut-off: does not count).

Forecasts of 2026-Q1 at its start: weighted pipeline 10 x 1,000 x 50% = 5,000; run-rate the
mean won of 2025-Q1..Q4 = 3,000; model expected 10 x 1,000 x 0.3 = 3,000 (every window's
rate factor is 3 won / 3 predicted = 1); its range is 1,000 x Binomial(10, 0.3): P10 1,000
(P(X <= 0) = 2.8%, P(X <= 1) = 14.9%), P50 3,000 (38.3% / 65.0%), P90 5,000 (85.0% / 95.3%).
Actual won 3,000. Errors: submitted 0.2, weighted 2/3, run-rate 0, model 0; inside the range.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Deal, Forecast, Outcome, Rep, Stage, Team
from salesops_core.periods import Period, parse_period
from tests.support.kpi_fixture import add_deal

ORG = OrgConfig(timezone="UTC")
Q1 = parse_period("2026-Q1", tz=ORG.tz)
PAST = [parse_period(f"2025-Q{n}", tz=ORG.tz) for n in (1, 2, 3, 4)]
AMOUNT = 1000.0
WON, LOST = "Won", "Lost"


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def build(session: Session) -> dict[str, Rep]:
    """Insert the history of the module docstring; returns the reps by first name."""
    session.add_all(
        [
            Stage(name="Qualify", sort_order=1, probability=0.2),
            Stage(name="Negotiate", sort_order=2, probability=0.5),
            Stage(name=WON, sort_order=3, probability=1.0, outcome=Outcome.WON),
            Stage(name=LOST, sort_order=4, probability=0.0, outcome=Outcome.LOST),
        ]
    )
    east = Team(name="East", region="NA")
    session.add(east)
    session.flush()
    ann = Rep(name="Ann Archer", email="ann@example.com", team_id=east.id)
    bob = Rep(name="Bob Baker", email="bob@example.com", team_id=east.id)
    session.add_all([ann, bob])
    session.flush()
    for period in [*PAST, Q1]:
        add_cohort(session, ann, period, won=3, prefix=period.label)
    session.add_all(
        [
            Forecast(rep_id=ann.id, period_start=Q1.start, period_end=Q1.end, amount=2400,
                     submitted_at=at(2025, 12, 20)),
            Forecast(rep_id=ann.id, period_start=Q1.start, period_end=Q1.end, amount=9999,
                     submitted_at=at(2026, 2, 1)),
        ]
    )  # fmt: skip
    session.flush()
    return {"ann": ann, "bob": bob}


def add_cohort(
    session: Session, rep: Rep, period: Period, *, won: int, prefix: str, deals: int = 10
) -> list[Deal]:
    """`deals` Negotiate deals of AMOUNT created 5 days before `period` starts; `won` of them
    won 30 days into it, the rest lost 40 days in."""
    created = period.start - timedelta(days=5)
    rows = []
    for n in range(deals):
        closes_won = n < won
        closed = period.start + timedelta(days=30 if closes_won else 40)
        stage = WON if closes_won else LOST
        history = ((created, "Negotiate", AMOUNT), (closed, stage, AMOUNT))
        rows.append(
            add_deal(session, f"{prefix}-{n}", rep, AMOUNT, stage, created, history=history,
                     closed_at=closed)
        )  # fmt: skip
    return rows
