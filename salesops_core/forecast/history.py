"""What the forecast model learns from: past windows, the deals open at each window's start as
they were then, and each window's new business.

A window is a past period of the same kind as the one forecast, from the same relative point
(its start for a forecast made at the period start; its start plus the time elapsed for one
made mid-period) to its end. Everything is read as of the moment it describes (`kpi.asof`):
stage, amount and probability from the stage history, outcomes only inside the window.
Expected close dates have no history (a closed CRM deal's expected close is its close date),
so nothing here reads them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from salesops_core.db.models import Deal, DealStageChange, Outcome, Rep
from salesops_core.kpi import queries
from salesops_core.kpi.asof import STAGE_NOT_RECORDED, open_deals_at
from salesops_core.kpi.rules import at_time, seconds_between
from salesops_core.kpi.views import recent_periods
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period

TRAINING_PERIODS = 8  # past periods of the same kind a forecast learns its rates from
NEW_BUSINESS_PERIODS = 4  # the most recent of them, whose new business it expects again
MAX_TRAINING_ROWS = 50_000  # deal-window rows read at most; a larger org is sampled


@dataclass(frozen=True)
class Window:
    """A past period seen from the same relative point as the forecast: [start, period.end)."""

    period: Period
    start: datetime

    @property
    def end(self) -> datetime:
        return self.period.end


def elapsed_in(period: Period, at: datetime) -> timedelta:
    """Local wall-clock time elapsed in `period` at `at` (zero before it starts)."""
    local = at.astimezone(period.start.tzinfo).replace(tzinfo=None)
    return max(local - period.start.replace(tzinfo=None), timedelta(0))


def previous_periods(period: Period, count: int) -> list[Period]:
    """The `count` periods of the same kind before `period`, most recent first."""
    return recent_periods(period, count + 1)[-2::-1]


def history_start(session: Session) -> datetime | None:
    """When the org's history starts: its first deal's creation (None: no deals)."""
    return session.scalar(select(func.min(Deal.created_at)))


def in_history(period: Period, start: datetime | None) -> bool:
    """True when all of `period` lies inside the recorded history."""
    return start is not None and period.start >= start


def training_windows(period: Period, at: datetime, start: datetime | None) -> list[Window]:
    """Up to TRAINING_PERIODS previous periods ending by `at` and inside the history, each from
    the point `at` is at in `period` (as `Period.to_date_of_previous` does), most recent first."""
    elapsed = elapsed_in(period, at)
    return [
        Window(past, min(past.start + elapsed, past.end))
        for past in previous_periods(period, TRAINING_PERIODS)
        if past.end <= at and in_history(past, start)
    ]


def stage_entered_before(at: datetime) -> Any:
    """When the deal entered its stage as of `at`: its last change before `at`, else its
    creation (correlated to Deal)."""
    last = (
        select(func.max(DealStageChange.entered_at))
        .where(DealStageChange.deal_id == Deal.id, DealStageChange.entered_at < at_time(at))
        .correlate(Deal)
        .scalar_subquery()
    )
    return func.coalesce(last, Deal.created_at)


def deal_states(
    session: Session, at: datetime, *where: ColumnElement[bool], columns: Sequence[Any] = ()
) -> pd.DataFrame:
    """The deals open at `at` (matching `where`) as of then, ordered by id: `deal_id`,
    `owner_id`, `stage` (STAGE_NOT_RECORDED where unknown), `amount` (0 where none),
    `probability` (NULL: not weighted), `days_in_stage`, then the extra `columns`."""
    days = seconds_between(session, at_time(at), stage_entered_before(at)) / 86400.0
    states = open_deals_at(at, *where, columns=(days.label("days_in_stage"), *columns)).subquery()
    result = session.connection().execute(select(states).order_by(states.c.deal_id))
    try:  # raw DBAPI rows: the frame converts the types (2x faster than result rows)
        rows = result.cursor.fetchall()
    finally:
        result.close()
    frame = pd.DataFrame(rows, columns=list(states.c.keys()))
    frame = frame.drop(columns=["stage_order"])
    frame["stage"] = frame["stage"].fillna(STAGE_NOT_RECORDED).astype(str)
    frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").fillna(0.0).astype(float)
    frame["days_in_stage"] = frame["days_in_stage"].astype(float).clip(lower=0.0)
    frame["probability"] = frame["probability"].astype(float)
    return frame


def sampled_reps(every: int) -> Any:
    """The reps whose deals a sample 1 in `every` reads: those with `id % every == 0` (a sample
    of whole reps, so each window's read seeks their deals in the owner index instead of
    walking every deal)."""
    return select(Rep.id).where(Rep.id % every == 0)


def sample_every(session: Session, windows: Sequence[Window]) -> int:
    """k such that reading the deals of 1 rep in k (`sampled_reps`) keeps the deal-window rows
    at about MAX_TRAINING_ROWS or fewer (1: read them all): the deals open at the latest
    window's start (two short index ranges: closed since, and open today) times the number
    of windows."""
    if not windows:
        return 1
    start = at_time(windows[0].start)
    created_before = func.coalesce(Deal.created_at, None) < start  # walk the closed_at range
    open_then = select(func.count()).where(Deal.closed_at >= start, created_before)
    open_since = select(func.count()).where(Deal.closed_at.is_(None), created_before)
    deals = sum(int(session.scalar(query) or 0) for query in (open_then, open_since))
    return max(1, math.ceil(deals * len(windows) / MAX_TRAINING_ROWS))


@dataclass(frozen=True)
class TrainingData:
    """The learning rows of all windows and each window's new business in the scope."""

    windows: tuple[Window, ...]
    rows: pd.DataFrame  # window (index into windows), stage, days_in_stage, amount, won (0/1)
    sample_every: int  # the rows are the deals of the reps with id % sample_every == 0
    # per window of the most recent NEW_BUSINESS_PERIODS: won in the scope from deals created
    # in the window (a growing or shrinking team's recent level, not a two-year mean)
    new_business: np.ndarray
    new_business_per_rep: dict[int, np.ndarray]  # owner -> the same windows


def training_data(
    session: Session, scope: Scope, windows: Sequence[Window], every: int
) -> TrainingData:
    """Per window, the org's (sampled) deals open at its start with whether each closed won
    inside it, and the scope's new business."""
    frames = []
    for index, window in enumerate(windows):
        won = and_(Deal.outcome == Outcome.WON, Deal.closed_at < at_time(window.end))
        sampled = [Deal.owner_id.in_(sampled_reps(every))] if every > 1 else []
        frame = deal_states(
            session, window.start, *sampled, columns=(case((won, 1), else_=0).label("won"),)
        )
        frames.append(frame.assign(window=index))
    rows = (
        pd.concat(frames, ignore_index=True)
        if frames
        else pd.DataFrame(columns=["window", "stage", "days_in_stage", "amount", "won"])
    )
    recent = windows[:NEW_BUSINESS_PERIODS]
    per_rep = new_business(session, scope, recent)
    total = np.sum(list(per_rep.values()), axis=0) if per_rep else np.zeros(len(recent))
    return TrainingData(tuple(windows), rows, every, np.asarray(total, float), per_rep)


def new_business(
    session: Session, scope: Scope, windows: Sequence[Window]
) -> dict[int, np.ndarray]:
    """Per owner in the scope and window: the won amount of deals created inside the window
    and won by its end (one grouped query; the windows' spans do not overlap)."""
    if not windows:
        return {}
    window = case(
        *(
            (
                and_(
                    Deal.closed_at >= at_time(w.start),
                    Deal.closed_at < at_time(w.end),
                    Deal.created_at >= at_time(w.start),
                ),
                index,
            )
            for index, w in enumerate(windows)
        )
    ).label("window")
    rows = session.execute(
        select(Deal.owner_id, window, func.sum(Deal.amount))
        .where(
            Deal.outcome == Outcome.WON,
            Deal.closed_at >= at_time(min(w.start for w in windows)),
            Deal.closed_at < at_time(max(w.end for w in windows)),
            in_scope(Deal.owner_id, scope),
        )
        .group_by(Deal.owner_id, window)
    ).all()
    found: dict[int, np.ndarray] = {}
    for owner, index, amount in rows:
        if index is not None and amount:
            found.setdefault(owner, np.zeros(len(windows)))[int(index)] = float(amount)
    return found


def so_far(period: Period, at: datetime) -> Period:
    """The part of `period` before `at`: [start, at) (empty before it starts)."""
    return replace(
        period, end=min(max(at, period.start), period.end), label=f"{period.label} so far"
    )


def won_so_far_per_rep(
    session: Session, scope: Scope, period: Period, at: datetime
) -> dict[int, float]:
    """Won amount per rep in [period.start, at), as the KPI engine sums it."""
    partials: queries.Partials = {}
    queries.closed_deals(session, scope, so_far(period, at), partials)
    return {
        owner: float(values.get("won_amount") or 0.0)
        for owner, values in partials.items()
        if owner is not None
    }
