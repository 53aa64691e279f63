"""CLI: `salesops forecast` - the history-based forecast, its backtest, the reps' scorecards
and the weekly snapshots."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import typer

from bot.cli.options import NowOption, parse_now
from salesops_core.errors import SalesopsError

if TYPE_CHECKING:
    from salesops_core.forecast.snapshots import WeekTotals

forecast_app = typer.Typer(
    name="forecast",
    help="Forecasts: the model's forecast, its backtest, scorecards and weekly snapshots.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def register(app: typer.Typer) -> None:
    """Add the `forecast` command group to the CLI."""
    app.add_typer(forecast_app)


# ---- the model: show and backtest ------------------------------------------------------

SeedOption = typer.Option(0, "--seed", help="The Monte Carlo seed (same seed, same range).")


@forecast_app.command("show")
def show_command(
    rep: str | None = typer.Option(None, "--rep", help="A rep's email, name or Slack id."),
    team: str | None = typer.Option(None, "--team", help="A team name."),
    region: str | None = typer.Option(None, "--region", help="A region name."),
    period: str = typer.Option("this-quarter", "--period", help="this-quarter, 2026-Q4, ..."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
    seed: int = SeedOption,
    now: str | None = NowOption,
) -> None:
    """The forecast of a period as known at --now: won so far, the submitted commit, weighted
    pipeline, run-rate and the model's expected with its P10-P90 (a team, region or the org:
    also the model's expected per rep)."""
    from rich.console import Console

    from bot.cli.forecast_model import named_forecast, show
    from bot.deps import build_ready_deps

    if output_format not in ("table", "json"):
        raise SalesopsError(f"unknown format {output_format!r}; use table or json")
    moment = parse_now(now)
    deps = build_ready_deps(charts=False)
    with deps.sessions() as session:
        view = named_forecast(
            session, deps.settings.org, (rep, team, region), period, moment, seed=seed
        )
    if output_format == "json":
        sys.stdout.write(json.dumps(view.to_json(), allow_nan=False, indent=2) + "\n")
        return
    show(Console(), view)


@forecast_app.command("backtest")
def backtest_command(
    periods: int = typer.Option(4, "--periods", help="How many past periods."),
    every: str = typer.Option("quarter", "--every", help="quarter or month."),
    rep: str | None = typer.Option(None, "--rep", help="A rep's email, name or Slack id."),
    team: str | None = typer.Option(None, "--team", help="A team name."),
    region: str | None = typer.Option(None, "--region", help="A region name."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
    seed: int = SeedOption,
    now: str | None = NowOption,
) -> None:
    """For each of the last N quarters (or months) closed by --now, every method's forecast made
    at its start from what was known then, next to actual won: errors |F - A| / A, MAPE, and
    whether actual fell inside the model's P10-P90."""
    from rich.console import Console

    from bot.cli.forecast_model import backtest_table
    from bot.deps import build_ready_deps
    from salesops_core.forecast.backtest import backtest, backtest_json, backtest_periods
    from salesops_core.org.scopes import resolve_scope

    if output_format not in ("table", "json"):
        raise SalesopsError(f"unknown format {output_format!r}; use table or json")
    moment = parse_now(now)
    deps = build_ready_deps(charts=False)
    org = deps.settings.org
    spans = backtest_periods(org, moment, periods, every)
    with deps.sessions() as session:
        scope = resolve_scope(session, rep=rep, team=team, region=region)
        rows = backtest(session, scope, org, spans, seed=seed)
    if output_format == "json":
        body = {"scope": scope.to_json(), **backtest_json(rows)}
        sys.stdout.write(json.dumps(body, allow_nan=False, indent=2) + "\n")
        return
    title = f"{scope.name} ({scope.kind}) · backtest, each forecast made at the period start"
    backtest_table(Console(), title, rows)


# ---- weekly snapshots ------------------------------------------------------------------


@forecast_app.command("snapshot")
def snapshot_command(now: str | None = NowOption) -> None:
    """Take this week's forecast snapshot now (the scheduler takes it on Monday 06:00, org
    time): each rep's latest commit and best case and open pipeline by stage, for the running
    and the next quarter. Taken again the same week, it changes nothing."""
    from bot.deps import build_ready_deps
    from salesops_core.db.engine import transaction
    from salesops_core.forecast.snapshots import take_snapshots

    moment = parse_now(now)
    deps = build_ready_deps(charts=False)
    with transaction(deps.sessions) as session:
        run = take_snapshots(session, deps.settings.org, moment)
    quarters = ", ".join(quarter.label for quarter in run.quarters)
    typer.echo(
        f"Snapshot for the week of {run.week} ({quarters}): {run.taken} taken for "
        f"{run.reps} reps; {run.already_taken} already taken"
    )


@forecast_app.command("history")
def history_command(
    rep: str | None = typer.Option(None, "--rep", help="A rep's email, name or Slack id."),
    team: str | None = typer.Option(None, "--team", help="A team name (its reps summed)."),
    period: str = typer.Option(
        "this-quarter", "--period", help="The forecast quarter: this-quarter, 2026-Q4, ..."
    ),
    weeks: int = typer.Option(8, "--weeks", min=1, max=520, help="How many weeks back."),
    output_format: str = typer.Option("table", "--format", help="table or json."),
    now: str | None = NowOption,
) -> None:
    """Week by week, what was submitted for a quarter and the open pipeline then, from the
    weekly snapshots: commit, best case, open pipeline, weighted (a team: its reps summed;
    neither --rep nor --team: the whole org)."""
    from bot.deps import build_ready_deps
    from salesops_core.errors import UnknownPeriod
    from salesops_core.forecast.snapshots import snapshot_history, snapshot_week
    from salesops_core.forecast.submissions import forecast_quarter
    from salesops_core.org.scopes import resolve_scope
    from salesops_core.periods import parse_period

    if output_format not in ("table", "json"):
        raise SalesopsError(f"unknown format {output_format!r}; use table or json")
    moment = parse_now(now)
    deps = build_ready_deps(charts=False)
    org = deps.settings.org
    quarter = parse_period(
        period, tz=org.tz, fiscal_year_start_month=org.fiscal_year_start_month, now=moment
    )
    try:
        forecast_quarter(quarter, org, "snapshots")  # refuses a month, a week or a year
    except UnknownPeriod as error:
        raise SalesopsError(f"--period {period}: {error}") from None
    with deps.sessions() as session:
        scope = resolve_scope(session, rep=rep, team=team)
        rows = snapshot_history(session, scope, quarter, snapshot_week(org, moment), weeks)
    if output_format == "json":
        body = {
            "scope": scope.to_json(),
            "period": {
                "start": quarter.start.isoformat(),
                "end": quarter.end.isoformat(),
                "label": quarter.label,
            },
            "weeks": [row.to_json() for row in rows],
        }
        sys.stdout.write(json.dumps(body, allow_nan=False, indent=2) + "\n")
        return
    _print_history(scope.name, scope.kind, quarter.label, rows)


def _print_history(name: str, kind: str, label: str, rows: list[WeekTotals]) -> None:
    """The history as a table, newest week last; a week without a snapshot says so."""
    from rich.console import Console
    from rich.markup import escape

    from bot.cli.tables import Column, fitted_table
    from salesops_core.kpi.format import count, money

    console = Console()
    columns = [
        Column("week of"),
        Column("reps", number=True),
        *(Column(header, number=True) for header in ("commit", "best case", "pipeline")),
        Column("weighted", number=True),
    ]
    cells = [
        [str(row.week), "no snapshot", "", "", "", ""]
        if not row.reps
        else [
            str(row.week),
            count(row.reps),
            money(row.commit, exact=True),
            money(row.best_case, exact=True),
            money(row.pipeline, exact=True),
            money(row.weighted, exact=True),
        ]
        for row in rows
    ]
    title = f"{escape(name)} ({kind}) · {label} · weekly forecast snapshots"
    console.print(fitted_table(console, columns, cells, title=title))


@forecast_app.command("scorecard")
def scorecard_command(
    rep: str | None = typer.Option(None, "--rep", help="One rep (email, name or Slack id)."),
    team: str | None = typer.Option(
        None, "--team", help="One team: its reps, its accuracy on the sum and its MAPE."
    ),
    quarters: int = typer.Option(
        4, "--quarters", min=1, max=12, help="The last N quarters closed by --now."
    ),
    now: str | None = NowOption,
    output_format: str = typer.Option("text", "--format", help="text or json."),
    send_now: bool = typer.Option(
        False,
        "--send-now",
        help="Put the last closed quarter's scorecards in the outbox now: each rep's own, each "
        "manager's team (once per person and quarter).",
    ),
) -> None:
    """Forecast accuracy and bias per rep over the last closed quarters (an operator's view of
    anyone's; without --rep or --team, every team's), or the scorecards sent now."""
    from bot.deps import build_ready_deps
    from salesops_core.db.engine import transaction

    if output_format not in ("text", "json"):
        raise SalesopsError(f"unknown format {output_format!r}; use text or json")
    if send_now and (rep or team):
        raise SalesopsError(
            "--send-now sends every rep's and manager's scorecard: leave out --rep and --team"
        )
    moment = parse_now(now)
    deps = build_ready_deps(charts=False)
    with transaction(deps.sessions) as session:
        if send_now:
            from bot.jobs.scorecards import enqueue_due_scorecards

            counts = enqueue_due_scorecards(deps, session, moment, everyone=True)
            typer.echo(_sent_text(counts.quarter, counts.enqueued, counts.already_sent))
            return
        _print_scorecards(session, deps.settings.org, rep, team, quarters, moment, output_format)


def _sent_text(quarter: str, enqueued: int, already: int) -> str:
    """What --send-now did, in a line."""
    if enqueued:
        more = f"; {already} were in it already" if already else ""
        return f"{quarter} scorecards: {enqueued} put in the outbox{more}."
    if already:
        return (
            f"Nothing new to send: the {already} scorecards of {quarter} were put in the "
            "outbox already."
        )
    return f"Nothing to send: no rep had a commit or a win in {quarter}."


def _print_scorecards(
    session: Any, org: Any, rep: str | None, team: str | None, count: int, now: Any,
    output_format: str,
) -> None:  # fmt: skip
    from commands.forecast_scorecard import rep_blocks, team_blocks
    from commands.kit.text import blocks_as_text
    from salesops_core.forecast import accuracy as a
    from salesops_core.org.scopes import resolve_scope

    quarters = a.closed_quarters(org, now, count)
    scope = resolve_scope(session, rep=rep, team=team)
    if scope.kind == "rep":
        card = a.rep_scorecard(session, scope, org, quarters)
        values: Any = a.rep_scorecard_json(card)
        blocks = [rep_blocks(card, own=False)]
    elif scope.kind == "team":
        team_card = a.team_scorecard(session, scope, org, quarters)
        values, blocks = a.team_scorecard_json(team_card), [team_blocks(team_card)]
    else:
        cards, teams = a.org_scorecards(session, org, quarters)
        values = {
            "quarters": [p.label for p in quarters],
            "teams": [a.team_scorecard_json(t) for t in teams],
            "reps": [a.rep_scorecard_json(c) for c in cards],
        }
        blocks = [team_blocks(t) for t in teams]
    if output_format == "json":
        sys.stdout.write(json.dumps(values, allow_nan=False, indent=2) + "\n")
        return
    texts = [blocks_as_text([block.to_dict() for block in group]) for group in blocks]
    typer.echo("\n\n".join(texts) or "No teams yet.")
