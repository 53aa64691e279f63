"""Which forecast rows count for a period: a rep's commit for the whole quarter is their
forecast, not that plus their monthly commits inside it; a rep with only monthly commits has
their sum (tests/support/forecast_history.py: Ann's Q1 commit 2,400 submitted 2025-12-20)."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from salesops_core.db.models import Forecast, Rep
from salesops_core.kpi import queries as q
from salesops_core.kpi.engine import compute_report
from salesops_core.org.scopes import ORG_SCOPE, rep_scope
from salesops_core.periods import parse_period
from tests.support.forecast_history import ORG, Q1, at, build


@pytest.fixture
def reps(session: Session) -> dict[str, Rep]:
    reps = build(session)
    ann, bob = reps["ann"], reps["bob"]
    months = [parse_period(m, tz=ORG.tz) for m in ("2026-01", "2026-02")]
    session.add_all(
        [
            Forecast(rep_id=ann.id, period_start=months[0].start, period_end=months[0].end,
                     amount=500, submitted_at=at(2025, 12, 21)),
            Forecast(rep_id=bob.id, period_start=months[0].start, period_end=months[0].end,
                     amount=300, submitted_at=at(2025, 12, 22)),
            Forecast(rep_id=bob.id, period_start=months[1].start, period_end=months[1].end,
                     amount=400, submitted_at=at(2025, 12, 22)),
        ]
    )  # fmt: skip
    session.commit()
    return reps


def test_a_whole_period_commit_is_not_added_to_the_monthly_ones_inside_it(
    session: Session, reps: dict[str, Rep]
) -> None:
    partials: q.Partials = {}
    q.forecasts(session, ORG_SCOPE, Q1, partials)
    forecasts = {owner: row["forecast"] for owner, row in partials.items() if "forecast" in row}
    assert forecasts == {reps["ann"].id: 2400.0, reps["bob"].id: 700.0}


def test_forecast_accuracy_uses_the_whole_period_commit(
    session: Session, reps: dict[str, Rep]
) -> None:
    """Ann won 3,000 in Q1 (3 of her 10 deals): 1 - |2,400 - 3,000| / 3,000 = 0.8 (not
    1 - |2,900 - 3,000| / 3,000 with January's 500 added)."""
    report = compute_report(session, rep_scope(reps["ann"]), Q1, ORG, now=at(2026, 5, 1))
    assert report.kpis["forecast_accuracy"] == pytest.approx(0.8)
