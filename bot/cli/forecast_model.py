"""The model's forecast and its backtest in the terminal: `salesops forecast show`,
`salesops forecast backtest` and `salesops explain forecast` print through these (and the first
and last read the forecast their options name through `named_forecast`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from bot.cli.tables import Column, fitted_table
from salesops_core.kpi.format import NA, count, estimate, money, number, pct

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from salesops_core.config import OrgConfig
    from salesops_core.forecast.backtest import BacktestRow
    from salesops_core.forecast.model import ModelForecast
    from salesops_core.forecast.rates import Basis
    from salesops_core.forecast.view import DealLine, ForecastView

FORECAST_HEADERS = {
    "submitted": "submitted",
    "weighted_pipeline": "weighted",
    "run_rate": "run-rate",
    "model": "model P50",
}
METHOD_LABELS = {
    "submitted": "Submitted",
    "weighted_pipeline": "Weighted pipeline",
    "run_rate": "Run-rate",
    "model": "Model P50",
}


def backtest_table(out: Console, title: str, rows: Sequence[BacktestRow]) -> None:
    """The forecasts of each period next to its actual, then each method's error, MAPE and the
    range's coverage."""
    from salesops_core.forecast.backtest import METHODS, summary

    columns = [
        Column("period"),
        Column("actual", number=True),
        *(Column(FORECAST_HEADERS[m], number=True) for m in METHODS[:-1]),
        Column("P10", number=True, drop=0),
        Column("model P50", number=True),
        Column("P90", number=True, drop=1),
    ]
    cells = [
        [
            row.period.label,
            money(row.actual_won),
            *(money(row.forecasts()[m]) for m in METHODS[:-1]),
            money(row.model.p10),
            money(row.model.p50),
            money(row.model.p90),
        ]
        for row in rows
    ]
    out.print(fitted_table(out, columns, cells, title=title, hint="use --format json"))
    inside = {True: "yes", False: "no", None: NA}
    columns = [
        Column("period"),
        *(Column(FORECAST_HEADERS[m], number=True) for m in METHODS),
        Column("inside P10-P90"),
    ]
    cells = [
        [row.period.label, *(pct(row.errors()[m]) for m in METHODS), inside[row.inside_range]]
        for row in rows
    ]
    out.print(fitted_table(out, columns, cells, title="Errors |F - A| / A"))
    totals = summary(rows)
    for method in METHODS:
        out.print(f"{METHOD_LABELS[method]}: MAPE {pct(totals['mape'][method])}", highlight=False)
    out.print(
        f"actual inside P10-P90: {totals['inside_range']} of {totals['ranged_periods']} periods",
        highlight=False,
    )
    reasons = {row.model.training.reason for row in rows} - {None}
    for reason in sorted(r for r in reasons if r):
        out.print(f"model undefined for some periods: {reason}", highlight=False)


def show(out: Console, view: ForecastView, top: int = 10) -> None:
    """The forecast of one scope: every method side by side, then the expected per rep."""
    model = view.model
    period = model.period
    out.print(
        f"[bold]{escape(view.scope.name)}[/] ({view.scope.kind}) · {period.label} · "
        f"as of {model.at:%Y-%m-%d %H:%M %Z}",
        highlight=False,
    )
    lines = [
        ("Won so far", money(model.won_so_far, exact=True)),
        ("Submitted commit (latest)", money(view.submitted, exact=True)),
        ("Won + weighted, all open deals", money(view.weighted_pipeline, exact=True)),
        ("Run-rate", money(view.run_rate, exact=True)),
        ("Model expected", estimate(model.expected)),
        ("Model P10 / P50 / P90", _range(model)),
    ]
    rows = [[label, value] for label, value in lines]
    out.print(fitted_table(out, [Column("method"), Column("forecast", number=True)], rows))
    if model.training.reason:
        out.print(f"model: {model.training.reason}", highlight=False)
    if view.scope.kind != "rep" and model.per_rep:
        reps = view.per_rep()
        cells = [[escape(name), estimate(value)] for name, value in reps[:top]]
        more = f" (top {top} of {len(reps)})" if len(reps) > top else ""
        columns = [Column("rep"), Column("expected", number=True)]
        out.print(fitted_table(out, columns, cells, title=f"Model expected per rep{more}"))


def _range(model: ModelForecast) -> str:
    if model.p10 is None:
        return NA
    return " / ".join(estimate(v) for v in (model.p10, model.p50, model.p90))


def basis_text(basis: Basis) -> str:
    """'Negotiate, 30-60 days in stage: 41 of 120 won within the period (shrunk toward
    Negotiate's 38%)'."""
    text = f"{', '.join(basis.groups)}: {basis.won} of {basis.deals} won within the period"
    if basis.parent_groups is None or basis.parent_probability is None:
        return text
    return (
        f"{text} (shrunk toward {', '.join(basis.parent_groups)}: {pct(basis.parent_probability)})"
    )


def explain(out: Console, view: ForecastView, deals: Sequence[DealLine]) -> None:
    """The deals that contribute most, the new business and how the range was made."""
    from salesops_core.forecast.rates import PRIOR_STRENGTH

    model, training = view.model, view.model.training
    out.print(
        f"[bold]Forecast[/] for {escape(view.scope.name)} ({view.scope.kind}), "
        f"{model.period.label}, as of {model.at:%Y-%m-%d %H:%M %Z}: expected "
        f"[bold]{money(model.expected, exact=True)}[/], P10 / P50 / P90 {_range(model)}",
        highlight=False,
    )
    if model.training.reason:
        out.print(f"Nothing learned: {model.training.reason}", highlight=False)
        return
    out.print(
        f"= won so far {money(model.won_so_far, exact=True)} + open deals "
        f"{money(model.open_expected, exact=True)} ({count(len(model.deals))} deals x their "
        f"learned chance) + new business {money(model.new_expected, exact=True)}",
        highlight=False,
    )
    with_owner = view.scope.kind != "rep"
    columns = [
        Column("deal"),
        *([Column("owner", drop=1)] if with_owner else []),
        Column("stage then"),
        Column("days in stage", number=True, drop=0),
        Column("amount", number=True),
        Column("chance", number=True),
        Column("expected", number=True),
    ]
    cells = [
        [
            escape(line.external_id + (f" {line.name}" if line.name else "")),
            *([escape(line.owner)] if with_owner else []),
            escape(line.deal.stage),
            number(line.deal.days_in_stage, 0),
            money(line.deal.amount, exact=True),
            pct(line.deal.probability),
            money(line.deal.expected, exact=True),
        ]
        for line in deals
    ]
    title = f"The {len(deals)} deals that contribute most"
    out.print(fitted_table(out, columns, cells, title=title, hint="use a wider terminal"))
    bases = dict.fromkeys(basis_text(model.basis(line.deal)) for line in deals)
    out.print("Where those chances come from:", highlight=False)
    for text in bases:
        out.print(f"  - {escape(text)}", highlight=False)
    windows = ", ".join(
        f"{label} {money(value, exact=True)}"
        for label, value in zip(training.windows, training.new_business, strict=False)
    )
    out.print(
        f"New business (won from deals created in the window): mean of {windows}", highlight=False
    )
    share = "" if training.sample_share == 1 else f", a {pct(training.sample_share)} sample"
    out.print(
        f"Learned from {count(training.deal_windows)} deals open at the start of "
        f"{len(training.windows)} past {model.period.kind}s ({count(training.won)} won within "
        f"the period{share}): by stage, days in stage and amount band, each group shrunk "
        f"toward its parent ({number(PRIOR_STRENGTH, 0)} deals' weight). Expected close dates "
        "are not used (they have no history).",
        highlight=False,
    )
    factors = ", ".join(number(f, 2) for f in training.rate_factors)
    draws = (
        "each open deal drawn won or not"
        if training.exact_draws
        else ("the open deals' sum drawn from its normal approximation")
    )
    out.print(
        f"Range: how far each past period's won came from what the other periods predicted "
        f"(amount won / predicted: {factors}) and how far its new business strayed from the "
        f"mean, widened for having seen only {len(training.windows)}; "
        f"{count(training.simulations)} simulations (seed {training.seed}) each draw a period "
        f"that far off, then {draws} with its chance x that period's factor. P10 / P50 / P90 "
        "are of won so far + the simulated won.",
        highlight=False,
    )


def explain_forecast(
    rep: str | None,
    team: str | None,
    region: str | None,
    period: str,
    limit: int,
    now: str | None,
) -> None:
    """`salesops explain forecast`: the model's forecast of a scope and period, deal by deal."""
    from bot.cli.options import parse_now
    from bot.deps import build_ready_deps
    from salesops_core.forecast.view import top_deals

    moment = parse_now(now)
    deps = build_ready_deps(charts=False)
    with deps.sessions() as session:
        view = named_forecast(session, deps.settings.org, (rep, team, region), period, moment)
        deals = top_deals(session, view, limit)
    explain(Console(), view, deals)


def named_forecast(
    session: Session,
    org: OrgConfig,
    scope_names: tuple[str | None, str | None, str | None],
    period: str,
    now: datetime,
    seed: int = 0,
) -> ForecastView:
    """The forecast view of the (rep, team, region) and period the command line names, at
    `now`."""
    from salesops_core.forecast.view import forecast_view
    from salesops_core.org.scopes import resolve_scope
    from salesops_core.periods import parse_period

    rep, team, region = scope_names
    scope = resolve_scope(session, rep=rep, team=team, region=region)
    span = parse_period(
        period, tz=org.tz, fiscal_year_start_month=org.fiscal_year_start_month, now=now
    )
    return forecast_view(session, scope, span, org, now, seed=seed)
