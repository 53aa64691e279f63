"""/forecast [period] [@rep | team]: last submitted forecast vs won, weighted pipeline, quota."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.kit import format as f
from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.common import footer, quota_total, scope_numbers, title
from commands.kit.reply import CommandContext, Reply
from salesops_core.kpi.queries import DEFAULT_FORECAST_CATEGORY, latest_forecasts
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period
from salesops_core.timeutil import as_utc


def latest_submitted(
    session: Session,
    scope: Scope,
    period: Period,
    now: datetime,
    category: str = DEFAULT_FORECAST_CATEGORY,
) -> tuple[float | None, datetime | None, int]:
    """The scope's forecast as submitted so far: each rep's latest row (by `now`) for forecast
    periods inside the period, summed. Returns (amount, last submission time, reps forecasting).
    """
    ranked = latest_forecasts(session, scope, period, category, submitted_before=now)
    row = session.execute(
        select(
            func.sum(ranked.c.amount),
            func.max(ranked.c.submitted_at),
            func.count(func.distinct(ranked.c.rep_id)),
        ).where(ranked.c.rank == 1)
    ).one()
    amount, submitted, reps = row
    submitted_at = as_utc(submitted) if submitted is not None else None
    return (None if amount is None else float(amount)), submitted_at, int(reps or 0)


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /forecast."""
    args = parse_and_check(session, viewer, "/forecast", text, ctx)
    now = ctx.current_time()
    kpis, numbers = scope_numbers(session, args.scope, args.period, ctx)
    forecast, submitted_at, reps = latest_submitted(session, args.scope, args.period, now)
    quota = quota_total(numbers)
    closed = args.period if args.period.end <= now else args.period.previous()
    if closed is args.period:
        accuracy = kpis["forecast_accuracy"]
    else:
        accuracy = scope_numbers(session, args.scope, closed, ctx)[0]["forecast_accuracy"]
    won = kpis["won_amount"]
    heading = title("forecast", args, viewer.rep_id)
    blocks: list[Any] = [header(heading)]
    fields = [
        f"*Last submitted forecast*\n{f.money(forecast)}",
        f"*Won so far*\n{f.money(won)}",
        f"*Weighted pipeline*\n{f.money(kpis['weighted_pipeline_value'])}",
        f"*Quota*\n{f.money(quota)}",
        f"*Won + weighted*\n{f.money(won + (kpis['weighted_pipeline_value'] or 0))}",
        f"*Forecast accuracy ({closed.label})*\n{f.pct(accuracy)}",
    ]
    blocks += field_sections(fields)
    if forecast is None:
        blocks.append(section("No forecast submitted for this period yet."))
    else:
        when = (
            submitted_at.astimezone(ctx.org.tz).strftime("%Y-%m-%d %H:%M") if submitted_at else ""
        )
        who = f" by {reps} reps" if args.scope.kind != "rep" else ""
        share = f" ({f.pct(won / forecast)} of it won)" if forecast > 0 else ""
        blocks.append(section(f"Forecast last submitted {when}{who}{share}."))
    blocks.append(
        footer(
            args.period,
            now,
            "Forecast: latest commit submitted so far. Accuracy: 1 - |forecast - won| / won, "
            "using the forecast submitted before that period started.",
        )
    )
    fallback = (
        f"{heading}: forecast {f.money(forecast)}, won {f.money(won)}, "
        f"weighted pipeline {f.money(kpis['weighted_pipeline_value'])}, quota {f.money(quota)}"
    )
    return Reply(fallback, blocks, in_channel=args.share)
