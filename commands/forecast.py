"""/forecast [period] [@rep | team]: last submitted forecast vs won, weighted pipeline, quota."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.common import footer, title
from commands.kit.reply import CommandContext, Reply
from salesops_core.kpi import format as f
from salesops_core.kpi.views import forecast_vs_won
from salesops_core.org.access import Viewer


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /forecast."""
    args = parse_and_check(session, viewer, "/forecast", text, ctx)
    now = ctx.current_time()
    numbers = forecast_vs_won(session, args.scope, args.period, ctx.org, ctx.sla, now)
    heading = title("forecast", args, viewer.rep_id)
    blocks: list[Any] = [header(heading)]
    fields = [
        f"*Last submitted forecast*\n{f.money(numbers.forecast)}",
        f"*Won so far*\n{f.money(numbers.won)}",
        f"*Weighted pipeline*\n{f.money(numbers.weighted_pipeline)}",
        f"*Quota*\n{f.money(numbers.quota)}",
        f"*Won + weighted*\n{f.money(numbers.won + numbers.weighted_pipeline)}",
        f"*Forecast accuracy ({numbers.accuracy_period.label})*\n{f.pct(numbers.accuracy)}",
    ]
    blocks += field_sections(fields)
    if numbers.forecast is None:
        blocks.append(section("No forecast submitted for this period yet."))
    else:
        when = (
            numbers.submitted_at.astimezone(ctx.org.tz).strftime("%Y-%m-%d %H:%M")
            if numbers.submitted_at
            else ""
        )
        who = f" by {numbers.forecasters} reps" if args.scope.kind != "rep" else ""
        share = (
            f" ({f.pct(numbers.won / numbers.forecast)} of it won)" if numbers.forecast > 0 else ""
        )
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
        f"{heading}: forecast {f.money(numbers.forecast)}, won {f.money(numbers.won)}, "
        f"weighted pipeline {f.money(numbers.weighted_pipeline)}, quota {f.money(numbers.quota)}"
    )
    return Reply(fallback, blocks, in_channel=args.share)
