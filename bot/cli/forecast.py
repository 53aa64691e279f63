"""CLI: `salesops forecast` - the history-based forecast, its backtest, the reps' scorecards
and the weekly snapshots."""

from __future__ import annotations

import typer

forecast_app = typer.Typer(
    name="forecast",
    help="Forecasts: the model's forecast, its backtest, scorecards and weekly snapshots.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add the `forecast` command group to the CLI."""
    app.add_typer(forecast_app)
