"""Pieces every command reply shares: titles, metric fields, period notes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from commands.kit.args import Args
from commands.kit.blocks import context
from salesops_core.kpi import format as f
from salesops_core.kpi.pace import elapsed_share
from salesops_core.kpi.registry import CONVERSION_PARTS, KPI_BY_KEY
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period


def whose(scope: Scope, viewer_rep_id: int) -> str:
    """ "Your" for the viewer's own numbers, else the scope's name."""
    if scope.kind == "rep" and scope.key == viewer_rep_id:
        return "Your"
    return f"{scope.name}:"


def title(what: str, args: Args, viewer_rep_id: int) -> str:
    """A header such as "Your KPIs · this-quarter (2026-Q4)"."""
    owner = whose(args.scope, viewer_rep_id)
    return f"{owner} {what} · {args.period.label}"


def metric(
    key: str, kpis: Mapping[str, Any], previous: Mapping[str, Any] | None, label: str
) -> str:
    """A field: bold label, formatted value and (when given) the change vs the previous period."""
    text = f"*{KPI_BY_KEY[key].label}*\n{f.format_kpi(key, kpis.get(key))}"
    if previous is not None:
        text += f"\n_{f.kpi_delta(key, kpis.get(key), previous.get(key), label)}_"
    return text


def conversion_field(kpis: Mapping[str, Any], running: bool) -> str:
    """Pipeline efficiency as a field: "50% won of $36,000 open at the start" over the split of
    the rest, "13% lost · 27% slipped · 8.3% shrunk" ("won so far", "still open" while running)."""
    label = KPI_BY_KEY["pipeline_conversion"].label
    share = kpis.get("pipeline_conversion")
    if share is None:
        return f"*{label}*\n{f.NA}\n_nothing was open at the start_"
    base = f.format_kpi("pipeline_conversion_base", kpis.get("pipeline_conversion_base"))
    won = "won so far" if running else "won"
    slipped = "still open" if running else "slipped"
    split = " · ".join(
        f"{f.format_kpi(key, kpis.get(key))} {word}"
        for key, word in zip(CONVERSION_PARTS, ("lost", slipped, "shrunk"), strict=True)
    )
    value = f.format_kpi("pipeline_conversion", share)
    return f"*{label}*\n{value} {won} of {base} open at the start\n_{split}_"


def period_note(period: Period, now: datetime) -> str:
    """ "2026-10-01 to 2026-12-31 · 58% of the period elapsed" (or "closed")."""
    last = period.end.date() - timedelta(days=1)
    span = f"{period.start.date()} to {last}"
    if period.is_current(now):
        return f"{span} · {f.pct(elapsed_share(period, now))} of the period elapsed"
    if now < period.start:
        return f"{span} · not started yet"
    return f"{span} · closed period"


def default_scope_note(args: Args, command: str) -> Any | None:
    """A context line when no one was named and the reply is a manager's team or an admin's
    org (`default_scope`): "Your team's numbers: `/pipeline me` shows your own."."""
    if args.explicit_scope or args.scope.kind == "rep":
        return None
    whose = "Your team's" if args.scope.kind == "team" else "The org's"
    return context(f"{whose} numbers: `{command} me` shows your own.")


def footer(period: Period, now: datetime, *extra: str) -> Any:
    """The grey context line under a reply."""
    return context(period_note(period, now), *extra)
