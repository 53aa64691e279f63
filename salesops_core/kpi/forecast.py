"""Forecast vs actual: the committed forecast, won amount, weighted pipeline and accuracy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.kpi import queries as q
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period
from salesops_core.timeutil import utcnow


def forecast_vs_actual(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    *,
    now: datetime | None = None,
    category: str = q.DEFAULT_FORECAST_CATEGORY,
) -> dict[str, Any]:
    """The scope's forecast for the period against what was won, as `forecast_accuracy` uses it.

    forecast: per rep the last `category` forecast submitted before the period started, summed
    (None when nobody has one); actual_won: the scope's won amount; accuracy compares the
    forecast with the won amount of the reps that have a forecast: 1 - |F - A| / A.
    """
    now = now or utcnow()
    partials: q.Partials = {}
    q.closed_deals(session, scope, period, partials)
    q.open_pipeline(session, scope, period, period.effective_end(now), org, partials)
    q.quotas(session, scope, period, partials)
    q.forecasts(session, scope, period, partials, category)
    rows = list(partials.values())
    forecasters = [r for r in rows if r.get("forecast") is not None]
    with_quota = [r for r in rows if (r.get("quota") or 0) > 0]
    forecast = sum(r["forecast"] for r in forecasters) if forecasters else None
    actual_of_forecasters = sum(r.get("won_amount") or 0.0 for r in forecasters)
    accuracy = None
    if forecast is not None and actual_of_forecasters:
        accuracy = 1 - abs(forecast - actual_of_forecasters) / actual_of_forecasters
    submitted = [r["submitted_at"] for r in forecasters if r.get("submitted_at") is not None]
    return {
        "forecast": forecast,
        "submitted_at": max(submitted) if submitted else None,
        "actual_won": float(sum(r.get("won_amount") or 0.0 for r in rows)),
        "weighted_pipeline": float(sum(r.get("weighted_amount") or 0.0 for r in rows)),
        "accuracy": accuracy,
        "quota": sum(r["quota"] for r in with_quota) if with_quota else None,
    }
