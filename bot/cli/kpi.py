"""CLI: `salesops kpi` (numbers for a scope and period) and `salesops explain` (what is behind)."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from bot.cli.options import NowOption, parse_now
from bot.cli.tables import Column, fitted_table
from salesops_core.errors import SalesopsError
from salesops_core.kpi.format import (
    DOWN,
    UP,
    count,
    format_kpi,
    is_improvement,
    kpi_delta,
    minutes,
    number,
    too_short_note,
    vs_label,
)
from salesops_core.kpi.registry import EXPLAINABLE, KPI_BY_KEY, KPIS, STAGE_CONVERSION

if TYPE_CHECKING:
    from salesops_core.kpi.engine import KpiReport

console = Console()

RepOption = typer.Option(None, "--rep", help="A rep's email, name or Slack id.")
TeamOption = typer.Option(None, "--team", help="A team name.")
RegionOption = typer.Option(None, "--region", help="A region name.")
PeriodOption = typer.Option(
    "this-quarter",
    "--period",
    help="this-/last-week|month|quarter|year, 2026-Q3, 2026-05, 2026, YYYY-MM-DD..YYYY-MM-DD.",
)
LEADERBOARD_KEYS = (
    "won_amount",
    "quota_attainment",
    "win_rate",
    "open_pipeline_value",
    "lead_response_minutes_median",
    "meetings_per_rep_per_week",
)


def register(app: typer.Typer) -> None:
    """Add `kpi` and `explain` to the CLI."""
    app.command("kpi")(kpi_command)
    app.command("explain")(explain_command)


def kpi_command(
    rep: str | None = RepOption,
    team: str | None = TeamOption,
    region: str | None = RegionOption,
    period: str = PeriodOption,
    output_format: str = typer.Option("table", "--format", help="table or json."),
    now: str | None = NowOption,
) -> None:
    """KPIs for a rep, team, region or the org (default) over a period (default this-quarter)."""
    from bot.deps import build_ready_deps
    from salesops_core.kpi.engine import compute_report
    from salesops_core.org.scopes import resolve_scope
    from salesops_core.periods import parse_period

    if output_format not in ("table", "json"):
        raise SalesopsError(f"unknown format {output_format!r}; use table or json")
    moment = parse_now(now)
    deps = build_ready_deps()
    org = deps.settings.org
    with deps.sessions() as session:
        scope = resolve_scope(session, rep=rep, team=team, region=region)
        span = parse_period(
            period, tz=org.tz, fiscal_year_start_month=org.fiscal_year_start_month, now=moment
        )
        report = compute_report(session, scope, span, org, deps.settings.sla, now=moment)
    if output_format == "json":
        sys.stdout.write(json.dumps(report.to_json(), allow_nan=False, indent=2) + "\n")
        return
    print_report(report, console)


def print_report(report: KpiReport, out: Console) -> None:
    """The report as aligned tables: KPIs with deltas, leaderboard, funnel."""
    period = report.period
    title = (
        f"{report.scope.name} ({report.scope.kind}) · {period.label} · "
        f"{period.start:%Y-%m-%d} to {period.end:%Y-%m-%d} (end exclusive, {period.start.tzname()})"
    )
    change = f"change {vs_label(period, report.now)}"
    columns = [
        Column("KPI"),
        *(Column(name, number=True) for name in ("value", "previous", change)),
    ]
    out.print(fitted_table(out, columns, kpi_rows(report), title=title))
    if report.leaderboard:
        out.print(leaderboard_table(report, out))
    if report.stage_conversion:
        rows = [
            [
                escape(stage["stage"]),
                count(stage["reached"]),
                count(stage["advanced"]),
                format_kpi(STAGE_CONVERSION.key, stage["rate"]),
            ]
            for stage in report.stage_conversion
        ]
        columns = [
            Column("stage"),
            *(Column(n, number=True) for n in ("reached", "advanced", "rate")),
        ]
        title = "Stage conversion (deals created in period)"
        out.print(fitted_table(out, columns, rows, title=title))


# Leaderboard columns left out first when the terminal is narrow (lowest rank first).
LEADERBOARD_DROP = {
    "meetings_per_rep_per_week": 0,
    "lead_response_minutes_median": 1,
    "win_rate": 3,
    "open_pipeline_value": 4,
}


def leaderboard_table(report: KpiReport, out: Console) -> Table:
    """One row per rep, ranked; a team's own leaderboard has no team column."""
    from salesops_core.org.views import rep_label

    with_team = report.scope.kind != "team"
    columns = [Column("#", number=True), Column("rep")]
    columns += [Column("team", drop=2)] if with_team else []
    columns += [
        Column(KPI_BY_KEY[key].label, number=True, drop=LEADERBOARD_DROP.get(key))
        for key in LEADERBOARD_KEYS
    ]
    rows = []
    for rank, rep_row in enumerate(report.leaderboard, 1):
        values: Mapping[str, Any] = rep_row
        team = [escape(rep_row["team"] or "")] if with_team else []
        rows.append(
            [
                str(rank),
                escape(rep_label(rep_row["rep"], rep_row["active"])),
                *team,
                *(format_kpi(k, values[k]) for k in LEADERBOARD_KEYS),
            ]
        )
    hint = "widen the terminal or use --format json"
    return fitted_table(out, columns, rows, title="Leaderboard", hint=hint)


def kpi_rows(report: KpiReport) -> list[tuple[str, str, str, str]]:
    """The KPI table's rows: label, value, previous value and the change (coloured markup);
    in place of the change, why a value is null when that is the span (`why_undefined`)."""
    now: Mapping[str, Any] = report.kpis
    before: Mapping[str, Any] = report.previous
    return [
        (
            kpi.label,
            format_kpi(kpi.key, now[kpi.key]),
            format_kpi(kpi.key, before[kpi.key]),
            report.why_undefined(kpi.key)
            or (
                too_short_note(report.period)
                if report.too_short
                else change_cell(kpi.key, now[kpi.key], before[kpi.key])
            ),
        )
        for kpi in KPIS
    ]


def change_cell(key: str, current: Any, previous: Any) -> str:
    """The change vs the previous period, green when it is good news and red when not."""
    text = kpi_delta(key, current, previous)
    if not text.startswith((UP, DOWN)):
        return text
    colour = "green" if is_improvement(key, current, previous) else "red"
    return f"[{colour}]{text}[/]"


def explain_command(
    kpi: str = typer.Argument(
        ..., help="A KPI key, e.g. win_rate, or stage_conversion, or forecast (the model)."
    ),
    rep: str | None = RepOption,
    team: str | None = TeamOption,
    region: str | None = RegionOption,
    period: str = PeriodOption,
    csv_file: Path | None = typer.Option(None, "--csv", help="Write the records to this CSV."),
    limit: int = typer.Option(50, "--limit", help="Records to print before suggesting --csv."),
    now: str | None = NowOption,
) -> None:
    """The formula, definition choices, counts and the records behind one KPI."""
    from bot.deps import build_ready_deps
    from salesops_core.kpi.explain import explain
    from salesops_core.org.scopes import resolve_scope
    from salesops_core.periods import parse_period

    if kpi == "forecast":
        from bot.cli.forecast_model import explain_forecast

        if csv_file is not None:
            raise SalesopsError("explain forecast has no --csv; use --limit N for more deals")
        explain_forecast(rep, team, region, period, limit, now)
        return
    if kpi not in EXPLAINABLE:
        raise SalesopsError(f"unknown KPI {kpi!r}; one of: {', '.join(EXPLAINABLE)}, forecast")
    moment = parse_now(now)
    deps = build_ready_deps()
    org = deps.settings.org
    with deps.sessions() as session:
        scope = resolve_scope(session, rep=rep, team=team, region=region)
        span = parse_period(
            period, tz=org.tz, fiscal_year_start_month=org.fiscal_year_start_month, now=moment
        )
        result = explain(session, kpi, scope, span, org, deps.settings.sla, now=moment)
    out = Console(record=False)
    head = [
        f"[bold]{EXPLAINABLE[kpi].label}[/] ({kpi}) for {scope.name} ({scope.kind}), "
        f"{span.label}: [bold]{_value_text(kpi, result.value)}[/]",
        f"formula: {result.formula}",
        *(f"  - {choice}" for choice in result.choices),
        "counts: " + ", ".join(f"{k} {v}" for k, v in result.counts.items()),
    ]
    if csv_file is not None:
        _write_csv(csv_file, result.records)
        for line in head:
            out.print(line, highlight=False)
        out.print(f"{len(result.records)} records written to {csv_file}")
        return
    table = _records_table(out, result.records[:limit])
    if out.is_terminal and len(result.records) > 20:
        with out.pager(styles=True):
            _print_all(out, head, table, result.records, limit)
    else:
        _print_all(out, head, table, result.records, limit)


def _value_text(kpi: str, value: Any) -> str:
    if isinstance(value, list):
        return f"{len(value)} stages"
    return format_kpi(kpi, value)


def _print_all(
    out: Console, head: list[str], table: Table, records: list[dict], limit: int
) -> None:
    for line in head:
        out.print(line, highlight=False)
    out.print(table)
    if len(records) > limit:
        out.print(f"... {len(records) - limit} more records: use --csv FILE to get them all")


def _records_table(out: Console, records: list[dict[str, Any]]) -> Table:
    """The records; when the terminal is narrow, internal ids and times are left out first,
    then the last fields (status, reason and the external id always show)."""
    names = list(records[0]) if records else ["status", "reason"]

    def drop(i: int, name: str) -> int | None:
        if i < 2 or name == "external_id":
            return None
        internal = name.endswith(("_id", "_at", "_from"))
        return (0 if internal else len(names)) + len(names) - i

    columns = [Column(name, drop=drop(i, name)) for i, name in enumerate(names)]
    rows = [[escape(_record_cell(c, r.get(c))) for c in names] for r in records]
    hint = "use --csv FILE for every field"
    return fitted_table(out, columns, rows, title="Records", hint=hint)


def _record_cell(name: str, value: Any) -> str:
    """A record's field as the table shows it: durations in minutes in human units, other
    fractions to two decimals (the CSV keeps every field raw)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if name.endswith("minutes"):
            return minutes(value)
        if isinstance(value, float):
            return number(value, 2)
    return str(value)


def _write_csv(path: Path, records: list[dict[str, Any]]) -> None:
    columns = list(records[0]) if records else ["status", "reason"]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(records)
