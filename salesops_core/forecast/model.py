"""The history-based forecast: won so far, plus each open deal's amount x its learned chance of
closing won by the period end, plus the new business past periods brought; a P10-P90 range
from Monte Carlo (`forecast.simulate`).

Everything comes from what was known at the forecast's moment `at`: deals created before it,
their stage, amount and days in stage as of then (`kpi.asof`), outcomes closed before it.
Expected close dates have no history (a closed CRM deal's expected close is its close date),
so the model never reads them: every deal open at `at` may still close in the period, at the
rate deals like it did in past periods.

Rates are learned from the whole org (a deterministic sample of its deals when it is large,
see `history.MAX_TRAINING_ROWS`); new business and the open deals are the scope's own.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session

from salesops_core.db.models import Deal
from salesops_core.forecast.history import (
    TrainingData,
    deal_states,
    history_start,
    sample_every,
    training_data,
    training_windows,
    won_so_far_per_rep,
)
from salesops_core.forecast.rates import Basis, Rates, basis, learn, probabilities
from salesops_core.forecast.simulate import exact, period_scenarios, rate_factors, simulate
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period


class DealContribution(NamedTuple):
    """One open deal's part of the forecast (its state as of the forecast's moment; a tuple,
    as a whole org has tens of thousands)."""

    deal_id: int
    owner_id: int
    stage: str
    days_in_stage: float
    amount: float
    probability: float  # learned chance of closing won by the period end
    expected: float  # amount x probability
    level: int  # the finest group with history it falls in (index into rates.LEVELS)


@dataclass(frozen=True)
class TrainingSummary:
    """What the model learned from."""

    windows: tuple[str, ...]  # the past periods, most recent first
    deal_windows: int  # deal-window rows learned from (after sampling)
    won: int  # of those, closed won inside their window
    sample_share: float  # share of the org's deals read (1.0: all)
    new_business: tuple[float, ...]  # the scope's new business per recent window
    rate_factors: tuple[float, ...]  # per window: amount won / amount the other windows predict
    spread: float  # of the log rate factor in the range's scenarios (0: none learned)
    simulations: int
    seed: int
    exact_draws: bool  # every deal drawn one by one (else the normal approximation)
    reason: str | None  # why nothing was learned (None: something was)


@dataclass(frozen=True)
class ModelForecast:
    """The model's forecast of won amount in `period` by its end, as known at `at`. The model
    fields are None when nothing could be learned (`training.reason` says why)."""

    period: Period
    at: datetime
    won_so_far: float
    open_expected: float | None
    new_expected: float | None
    expected: float | None
    p10: float | None
    p50: float | None
    p90: float | None
    deals: tuple[DealContribution, ...]  # open deals, largest expected first
    per_rep: Mapping[int, float]  # expected per rep (sums to `expected`)
    training: TrainingSummary
    rates: Rates | None = field(default=None, compare=False, repr=False)

    def basis(self, deal: DealContribution) -> Basis:
        """Where the deal's probability comes from (for `explain`)."""
        assert self.rates is not None
        return basis(self.rates, deal.stage, deal.days_in_stage, deal.amount, deal.level)


def forecast(
    session: Session,
    scope: Scope,
    period: Period,
    now: datetime,
    *,
    seed: int = 0,
    simulations: int = 4000,
) -> ModelForecast:
    """The forecast of `period` (in the org's calendar) for `scope` from what was known at
    `now` (at most the period end)."""
    at = min(now, period.end)
    windows = training_windows(period, at, history_start(session))
    every = sample_every(session, windows)
    data = training_data(session, scope, windows, every)
    rates = learn(data.rows)
    won = won_so_far_per_rep(session, scope, period, at)
    won_total = float(sum(won.values()))
    if rates is None:
        reason = (
            f"no past {period.kind} with deals open at its start in the history before "
            f"{at:%Y-%m-%d}"
        )
        summary = _summary(data, (), seed, simulations, exact_draws=True, reason=reason)
        return ModelForecast(period, at, won_total, None, None, None, None, None, None, (), {},
                             summary)  # fmt: skip
    open_deals = (
        deal_states(session, at, in_scope(Deal.owner_id, scope))
        if at < period.end
        else pd.DataFrame(columns=["deal_id", "owner_id", "stage", "days_in_stage", "amount"])
    )
    p, level = probabilities(rates, open_deals) if len(open_deals) else (np.zeros(0), np.zeros(0))
    amounts = open_deals["amount"].to_numpy(float)
    expected = amounts * p
    new_expected = float(data.new_business.mean())
    factors = _rate_factors(data)
    scenario_factors, scenario_new, spread = period_scenarios(factors, data.new_business)
    totals = won_total + simulate(
        amounts, p, scenario_factors, scenario_new, seed=seed, simulations=simulations
    )
    summary = _summary(
        data,
        factors.tolist(),
        seed,
        simulations,
        exact_draws=exact(len(amounts) * simulations),
        spread=spread,
    )
    p10, p50, p90 = (float(v) for v in np.percentile(totals, [10, 50, 90]))
    return ModelForecast(
        period=period,
        at=at,
        won_so_far=won_total,
        open_expected=float(expected.sum()),
        new_expected=new_expected,
        expected=won_total + float(expected.sum()) + new_expected,
        p10=p10,
        p50=p50,
        p90=p90,
        deals=_contributions(open_deals, p, level, expected),
        per_rep=_per_rep(won, open_deals, expected, data),
        training=summary,
        rates=rates,
    )


def _rate_factors(data: TrainingData) -> np.ndarray:
    """Per window: the amount won inside it by the deals open at its start / the amount the
    rates learned from the other windows predict for them (with one window, its own rates)."""
    rows, count = data.rows, len(data.windows)
    windows = rows["window"].to_numpy(int)
    amounts = rows["amount"].to_numpy(float)
    won = np.bincount(windows, weights=amounts * rows["won"].to_numpy(float), minlength=count)
    predicted = np.zeros(count)
    for index in range(count):  # one fit per past period (at most TRAINING_PERIODS)
        inside = windows == index
        others = learn(rows[~inside]) if count > 1 else learn(rows)
        if others is not None and inside.any():
            predicted[index] = float(amounts[inside] @ probabilities(others, rows[inside])[0])
    return rate_factors(won, predicted)


def _summary(
    data: TrainingData,
    factors: Sequence[float],
    seed: int,
    simulations: int,
    *,
    exact_draws: bool,
    spread: float = 0.0,
    reason: str | None = None,
) -> TrainingSummary:
    rows = data.rows
    return TrainingSummary(
        windows=tuple(w.period.label for w in data.windows),
        deal_windows=len(rows),
        won=int(rows["won"].sum()) if len(rows) else 0,
        sample_share=1.0 / data.sample_every,
        new_business=tuple(float(v) for v in data.new_business),
        rate_factors=tuple(float(f) for f in factors),
        spread=spread,
        simulations=simulations,
        seed=seed,
        exact_draws=exact_draws,
        reason=reason,
    )


def _contributions(
    deals: pd.DataFrame, p: np.ndarray, level: np.ndarray, expected: np.ndarray
) -> tuple[DealContribution, ...]:
    order = np.argsort(-expected, kind="stable")
    columns = [
        deals["deal_id"].to_numpy(int)[order].tolist(),
        deals["owner_id"].to_numpy(int)[order].tolist(),
        deals["stage"].to_numpy(str)[order].tolist(),
        deals["days_in_stage"].to_numpy(float)[order].tolist(),
        deals["amount"].to_numpy(float)[order].tolist(),
        p[order].tolist(),
        expected[order].tolist(),
        level[order].astype(int).tolist(),
    ]
    return tuple(map(DealContribution._make, zip(*columns, strict=True)))


def _per_rep(
    won: Mapping[int, float], deals: pd.DataFrame, expected: np.ndarray, data: TrainingData
) -> dict[int, float]:
    """Expected per rep: won so far + their open deals' expected + their mean new business
    (reps with nothing expected left out)."""
    result: dict[int, float] = dict(won)
    if len(deals):
        sums = pd.Series(expected).groupby(deals["owner_id"].to_numpy()).sum()
        for owner, value in sums.items():
            result[int(owner)] = result.get(int(owner), 0.0) + float(value)
    for owner, values in data.new_business_per_rep.items():
        result[owner] = result.get(owner, 0.0) + float(values.mean())
    return {owner: value for owner, value in result.items() if value}
