"""The backtest: for each past period, every method's forecast made at its start, from only
what was known then, next to what was actually won.

Methods: the reps' submitted commit forecasts (as forecast accuracy reads them: the latest
before the org's cut-off), weighted pipeline and run-rate (`forecast.baselines`), and the model
(`forecast.model`, its P50 as the point forecast). Error: abs(F - A) / A, null when A = 0 or F
is null. Expected close dates are never used (they have no history).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.errors import UnknownPeriod
from salesops_core.forecast.accuracy import closed_quarters
from salesops_core.forecast.baselines import run_rate, weighted_pipeline
from salesops_core.forecast.model import ModelForecast, forecast
from salesops_core.kpi import queries
from salesops_core.kpi.engine import forecast_basis
from salesops_core.kpi.views import recent_periods, won_per_period
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period, month_period

METHODS = ("submitted", "weighted_pipeline", "run_rate", "model")
EVERY = ("quarter", "month")


@dataclass(frozen=True)
class BacktestRow:
    """One past period: each method's forecast at its start and what was won."""

    period: Period
    actual_won: float
    submitted: float | None
    weighted_pipeline: float
    run_rate: float | None
    model: ModelForecast

    def forecasts(self) -> dict[str, float | None]:
        """Each method's point forecast (the model's P50)."""
        return {
            "submitted": self.submitted,
            "weighted_pipeline": self.weighted_pipeline,
            "run_rate": self.run_rate,
            "model": self.model.p50,
        }

    def errors(self) -> dict[str, float | None]:
        """Each method's abs(F - A) / A (None when A = 0 or there is no forecast)."""
        actual = self.actual_won
        return {
            method: None if value is None or not actual else abs(value - actual) / actual
            for method, value in self.forecasts().items()
        }

    @property
    def inside_range(self) -> bool | None:
        """Actual won inside the model's [P10, P90] (None: no model range)."""
        low, high = self.model.p10, self.model.p90
        return None if low is None or high is None else low <= self.actual_won <= high


def backtest_periods(org: OrgConfig, now: datetime, count: int, every: str) -> list[Period]:
    """The last `count` quarters (or months) that ended by `now`, oldest first."""
    if every not in EVERY:
        raise UnknownPeriod(f"--every {every!r}: use quarter or month")
    if count < 1:
        raise UnknownPeriod(f"--periods {count}: give at least 1")
    if every == "quarter":
        return closed_quarters(org, now, count)
    today = now.astimezone(org.tz).date()
    running = month_period(today.year, today.month, org.tz, org.fiscal_year_start_month)
    return recent_periods(running.previous(), count)


def submitted(session: Session, scope: Scope, period: Period, org: OrgConfig) -> float | None:
    """The scope's reps' commit forecasts for `period` as forecast accuracy reads them (None:
    none submitted by the cut-off)."""
    partials: queries.Partials = {}
    queries.forecasts(
        session, scope, period, partials, submitted_before=org.forecast_cutoff(period)
    )
    return forecast_basis(list(partials.values())).forecast


def backtest(
    session: Session, scope: Scope, org: OrgConfig, periods: Sequence[Period], *, seed: int = 0
) -> list[BacktestRow]:
    """Each period's row, every forecast made at the period start."""
    won = won_per_period(session, scope, periods) if periods else []
    return [
        BacktestRow(
            period=period,
            actual_won=actual,
            submitted=submitted(session, scope, period, org),
            weighted_pipeline=weighted_pipeline(session, scope, period, period.start),
            run_rate=run_rate(session, scope, period, period.start),
            model=forecast(session, scope, period, period.start, seed=seed),
        )
        for period, actual in zip(periods, won, strict=True)
    ]


def summary(rows: Sequence[BacktestRow]) -> dict[str, Any]:
    """Per method the mean error over the periods where it is defined (MAPE; None: none), and
    the share of periods whose actual fell inside the model's P10-P90 (None: no range)."""
    errors = [row.errors() for row in rows]
    mape: dict[str, float | None] = {}
    for method in METHODS:
        defined = [value for e in errors if (value := e[method]) is not None]
        mape[method] = sum(defined) / len(defined) if defined else None
    inside = [row.inside_range for row in rows if row.inside_range is not None]
    return {
        "mape": mape,
        "coverage": sum(inside) / len(inside) if inside else None,
        "inside_range": sum(inside),
        "ranged_periods": len(inside),
        "periods": len(rows),
    }


def backtest_json(rows: Sequence[BacktestRow]) -> dict[str, Any]:
    """The `salesops forecast backtest --format json` object (DESIGN.md section 3)."""
    return {
        "periods": [
            {
                "period": row.period.label,
                "start": row.period.start.isoformat(),
                "end": row.period.end.isoformat(),
                "actual_won": row.actual_won,
                "submitted": row.submitted,
                "weighted_pipeline": row.weighted_pipeline,
                "run_rate": row.run_rate,
                "model": {"p10": row.model.p10, "p50": row.model.p50, "p90": row.model.p90},
                "errors": row.errors(),
                "inside_range": row.inside_range,
            }
            for row in rows
        ],
        "summary": summary(rows),
    }
