"""The two baselines a forecast model must beat, both of won amount in a period by its end.

- Weighted pipeline: the amount x probability of every deal open at `at`, as of then
  (`kpi.asof`; a deal whose stage then is not recorded is not weighted), plus won so far.
  Expected close dates have no history, so ALL deals open at `at` count, not only those
  expected to close in the period (in a backtest `at` is the period start).
- Run-rate: the mean won amount of the up-to-RUN_RATE_PERIODS previous periods of the same kind
  that lie inside the history; mid-period, won so far plus that mean x the share of the period
  still to come. Null when not one whole previous period of history exists.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesops_core.db.models import Deal
from salesops_core.forecast.history import (
    history_start,
    in_history,
    previous_periods,
    so_far,
    won_so_far_per_rep,
)
from salesops_core.kpi.asof import open_deals_at
from salesops_core.kpi.views import won_per_period
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period

RUN_RATE_PERIODS = 4


def won_so_far(session: Session, scope: Scope, period: Period, at: datetime) -> float:
    """Won amount in [period.start, at) in the scope."""
    return sum(won_so_far_per_rep(session, scope, period, at).values())


def weighted_pipeline(session: Session, scope: Scope, period: Period, at: datetime) -> float:
    """Won so far + amount x probability of every deal open at `at`, each as of then (once
    the period has ended, what was won)."""
    won = won_so_far(session, scope, period, at)
    if at >= period.end:
        return won
    deals = open_deals_at(at, in_scope(Deal.owner_id, scope)).subquery()
    weighted = session.scalar(
        select(func.coalesce(func.sum(deals.c.amount * deals.c.probability), 0))
    )
    return won + float(weighted or 0.0)


def run_rate(session: Session, scope: Scope, period: Period, at: datetime) -> float | None:
    """Won so far + the mean won of the previous periods inside the history x the share of
    `period` still to come at `at` (None: no whole previous period of history)."""
    start = history_start(session)
    past = [
        p
        for p in previous_periods(period, RUN_RATE_PERIODS)
        if p.end <= at and in_history(p, start)
    ]
    if not past:
        return None
    won = won_per_period(session, scope, past[::-1])
    mean = sum(won) / len(won)
    remaining = 1.0 - so_far(period, at).days() / period.days()
    return won_so_far(session, scope, period, at) + mean * remaining
