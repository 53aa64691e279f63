"""The read side of a forecast: the model next to the baselines and the submitted commit, with
the names a reader needs (`salesops forecast show`, `salesops explain forecast`)."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Deal, Rep
from salesops_core.forecast.baselines import run_rate, weighted_pipeline
from salesops_core.forecast.model import DealContribution, ModelForecast, forecast
from salesops_core.kpi.views import latest_forecast_per_rep
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period


@dataclass(frozen=True)
class ForecastView:
    """A scope's forecast of a period at a moment, every method side by side."""

    scope: Scope
    model: ModelForecast
    submitted: float | None  # the reps' latest commits by the moment, summed (None: none)
    weighted_pipeline: float
    run_rate: float | None
    rep_names: Mapping[int, str]

    def per_rep(self) -> list[tuple[str, float]]:
        """(rep name, expected), largest first."""
        rows = [(self.rep_names[rep], value) for rep, value in self.model.per_rep.items()]
        return sorted(rows, key=lambda row: (-row[1], row[0]))

    def to_json(self) -> dict[str, Any]:
        """The `salesops forecast show --format json` object."""
        model, period = self.model, self.model.period
        training = model.training
        return {
            "scope": self.scope.to_json(),
            "period": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "at": model.at.isoformat(),
            "won_so_far": model.won_so_far,
            "submitted": self.submitted,
            "weighted_pipeline": self.weighted_pipeline,
            "run_rate": self.run_rate,
            "model": {
                "expected": model.expected,
                "open_expected": model.open_expected,
                "new_expected": model.new_expected,
                "p10": model.p10,
                "p50": model.p50,
                "p90": model.p90,
                "open_deals": len(model.deals),
                "reason": training.reason,
            },
            "training": {
                "windows": list(training.windows),
                "deal_windows": training.deal_windows,
                "won": training.won,
                "sample_share": training.sample_share,
                "new_business": list(training.new_business),
                "rate_factors": list(training.rate_factors),
                "spread": training.spread,
                "simulations": training.simulations,
                "seed": training.seed,
            },
            "per_rep": [{"rep": name, "expected": value} for name, value in self.per_rep()],
        }


def forecast_view(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    now: datetime,
    *,
    seed: int = 0,
) -> ForecastView:
    """The model's forecast with the baselines and the commits submitted by `now`."""
    model = forecast(session, scope, period, now, seed=seed)
    commits = latest_forecast_per_rep(session, scope, period, now)
    return ForecastView(
        scope=scope,
        model=model,
        submitted=sum(commits.values()) if commits else None,
        weighted_pipeline=weighted_pipeline(session, scope, period, model.at),
        run_rate=run_rate(session, scope, period, model.at),
        rep_names=rep_names(session, list(model.per_rep)),
    )


def rep_names(session: Session, ids: Collection[int]) -> dict[int, str]:
    """Names of the reps with these ids (one query)."""
    if not ids:
        return {}
    rows = session.execute(select(Rep.id, Rep.name).where(Rep.id.in_(ids))).all()
    return {rep_id: name for rep_id, name in rows}


@dataclass(frozen=True)
class DealLine:
    """One contributing deal as `explain forecast` lists it."""

    external_id: str
    name: str | None
    owner: str
    deal: DealContribution


def top_deals(session: Session, view: ForecastView, limit: int) -> list[DealLine]:
    """The `limit` open deals that contribute most, with their ids, names and owners."""
    deals = view.model.deals[:limit]
    query = select(Deal.id, Deal.external_id, Deal.name).where(
        Deal.id.in_([d.deal_id for d in deals])
    )
    labels = {deal_id: (ext, name) for deal_id, ext, name in session.execute(query).all()}
    missing = {d.owner_id for d in deals} - set(view.rep_names)
    names = {**view.rep_names, **rep_names(session, missing)}
    return [
        DealLine(labels[d.deal_id][0], labels[d.deal_id][1], names[d.owner_id], d) for d in deals
    ]
