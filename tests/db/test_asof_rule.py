"""`open_deals_at` agrees with its rule (kpi.asof module docstring), written out in Python,
at every moment around the changes of a fixture: changes just before, at and after T, one
stamped in the future (so "now" does not mean "as today"), a deal closed in the future, two
changes of a deal at the same instant, a stage the stage map does not know, and history
saying a closed stage while the deal was still open.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.db.models import Deal, DealStageChange, Outcome, Rep, Stage
from salesops_core.kpi.asof import open_deals_at

WON, LOST = "Closed Won", "Closed Lost"
STAGES = {  # name: (sort order, probability, outcome)
    "Prospecting": (1, 0.1, Outcome.OPEN),
    "Proposal": (2, 0.5, Outcome.OPEN),
    WON: (3, 1.0, Outcome.WON),
    LOST: (4, 0.0, Outcome.LOST),
}


def at(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


# external id: (deal columns, changes as (entered_at, stage, amount, probability), in id order)
DEALS: dict[str, tuple[dict[str, Any], list[tuple]]] = {
    "moved": (
        dict(stage="Prospecting", amount=3000, probability=0.2, created_at=at(2026, 8, 1)),
        [
            (at(2026, 8, 1), "Prospecting", 1000, None),
            (at(2026, 9, 1), "Proposal", 2000, 0.6),
            (at(2026, 10, 1), "Prospecting", None, None),
        ],
    ),
    "no history": (dict(stage="Proposal", amount=None, created_at=at(2026, 7, 15)), []),
    "won": (
        dict(stage=WON, amount=4000, outcome=Outcome.WON, created_at=at(2026, 8, 10),
             closed_at=at(2026, 10, 15)),
        [(at(2026, 8, 10), "Prospecting", None, None), (at(2026, 10, 15), WON, 4000, 1.0)],
    ),
    "imported lost": (
        dict(stage=LOST, amount=700, outcome=Outcome.LOST, created_at=at(2026, 7, 1),
             closed_at=at(2026, 9, 20)),
        [(at(2026, 7, 1), LOST, None, None)],
    ),
    "tie": (
        dict(stage="Prospecting", amount=5500, created_at=at(2026, 9, 10)),
        [(at(2026, 9, 10), "Prospecting", 100, None), (at(2026, 9, 10), "Proposal", 5000, None),
         (at(2026, 10, 5), "Prospecting", None, None)],
    ),
    "future change": (
        dict(stage="Proposal", amount=6000, probability=0.7, created_at=at(2026, 8, 5)),
        [(at(2026, 8, 5), "Prospecting", 6000, None), (at(2027, 1, 10), "Proposal", None, None)],
    ),
    "closes in the future": (
        dict(stage=WON, amount=8000, outcome=Outcome.WON, created_at=at(2026, 8, 1),
             closed_at=at(2027, 2, 1)),
        [(at(2026, 8, 1), "Proposal", None, 0.4), (at(2027, 2, 1), WON, None, None)],
    ),
    "unmapped stage": (
        dict(stage="Legacy", amount=900, created_at=at(2026, 7, 20)),
        [(at(2026, 7, 20), "Legacy", None, None), (at(2026, 11, 20), "Legacy", 950, None)],
    ),
}  # fmt: skip


def first(*probabilities: float | None) -> float:
    """The first probability set, else 0."""
    return next((p for p in probabilities if p is not None), 0.0)


def expected_at(when: datetime) -> dict[str, tuple]:
    """The module docstring's rule: (stage, stage order, amount, probability) per deal open."""
    out: dict[str, tuple] = {}
    for ext, (deal, changes) in DEALS.items():
        closed = deal.get("closed_at")
        if not (deal["created_at"] < when and (closed is None or closed >= when)):
            continue
        order, probability, _ = STAGES.get(deal["stage"], (None, None, None))
        today = deal.get("outcome", Outcome.OPEN) == Outcome.OPEN and all(
            entered < when for entered, *_ in changes
        )
        before = sorted((c for c in changes if c[0] < when), key=lambda c: c[0])  # stable
        last = before[-1] if before else None  # ties on entered_at: the later row
        row: tuple[Any, ...]
        if today:
            row = (
                deal["stage"],
                order,
                deal["amount"],
                first(deal.get("probability"), probability),
            )
        elif last and STAGES.get(last[1], (0, 0, Outcome.OPEN))[2] == Outcome.OPEN:
            then_order, then_probability, _ = STAGES.get(last[1], (None, None, None))
            own = deal.get("probability") if last[1] == deal["stage"] else None
            row = (
                last[1],
                then_order,
                last[2] if last[2] is not None else deal["amount"],
                first(last[3], own, then_probability),
            )
        else:
            amount = last[2] if last and last[2] is not None else deal["amount"]
            row = (None, None, amount, None)
        out[ext] = row
    return out


@pytest.fixture
def deals(session: Session) -> None:
    session.add_all(
        Stage(name=name, sort_order=order, probability=p, outcome=outcome)
        for name, (order, p, outcome) in STAGES.items()
    )
    ann = Rep(name="Ann Archer", email="ann@example.com")
    session.add(ann)
    session.flush()
    for ext, (columns, changes) in DEALS.items():
        deal = Deal(external_id=ext, owner_id=ann.id, **columns)
        session.add(deal)
        session.flush()
        for entered, stage, amount, probability in changes:  # one flush each: ids in order
            session.add(
                DealStageChange(
                    deal_id=deal.id,
                    stage=stage,
                    entered_at=entered,
                    amount=amount,
                    probability=probability,
                )
            )
            session.flush()
    session.commit()


def moments() -> list[datetime]:
    """Every stamp of the fixture, a second either side, and two moments after all of them
    but one."""
    stamps = {at(2026, 12, 1), at(2027, 6, 1)}
    for deal, changes in DEALS.values():
        stamps |= {deal["created_at"], *filter(None, [deal.get("closed_at")])}
        stamps |= {entered for entered, *_ in changes}
    second = timedelta(seconds=1)
    return sorted({s + d for s in stamps for d in (-second, timedelta(0), second)})


def test_open_deals_at_follows_its_rule_at_every_moment(session: Session, deals: None) -> None:
    for when in moments():
        rows = open_deals_at(when, columns=(Deal.external_id,)).subquery()
        got = {
            ext: (stage, order, amount, None if p is None else pytest.approx(p))
            for ext, stage, order, amount, p in session.execute(
                select(
                    rows.c.external_id,
                    rows.c.stage,
                    rows.c.stage_order,
                    rows.c.amount,
                    rows.c.probability,
                )
            )
        }
        assert got == expected_at(when), when


def test_a_change_stamped_after_now_is_not_today(session: Session, deals: None) -> None:
    """Why T >= now still reads the history: a future-stamped change (or close) means the
    deal's current columns are not its state at T."""
    now = expected_at(at(2026, 12, 1))
    assert now["future change"] == ("Prospecting", 1, 6000, 0.1)
    assert now["closes in the future"] == ("Proposal", 2, 8000, 0.4)
    rows = open_deals_at(at(2026, 12, 1), columns=(Deal.external_id,)).subquery()
    got = dict(session.execute(select(rows.c.external_id, rows.c.stage)).all())
    assert (got["future change"], got["closes in the future"]) == ("Prospecting", "Proposal")
    assert expected_at(at(2026, 9, 11))["tie"] == ("Proposal", 2, 5000, 0.5)  # the later row
