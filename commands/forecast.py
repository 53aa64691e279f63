"""/forecast [period] [@rep | team]: last submitted forecast vs won, weighted pipeline, quota,
and the accuracy of the last closed period with the forecast it was measured on."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.common import default_scope_note, footer, title
from commands.kit.reply import CommandContext, Reply
from salesops_core.digest.words import inner_label, weighted_closing_label
from salesops_core.kpi import format as f
from salesops_core.kpi.views import ForecastVsWon, forecast_vs_won
from salesops_core.org.access import Viewer


def _day(moment: datetime | None, tz: tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d") if moment else ""


def _accuracy_fields(numbers: ForecastVsWon, tz: tzinfo, group: bool) -> list[str]:
    """The forecast accuracy uses (amount, when submitted) and the accuracy worked out from it."""
    basis, judged = numbers.accuracy_basis, inner_label(numbers.accuracy_period)
    if basis.forecast is None:
        used = f"{f.NA} (none submitted before {judged} began)"
    else:
        when = _day(basis.submitted_at, tz)
        by = f"last submitted {when} by {f.plural(basis.forecasters, 'rep')}"
        used = f"{f.money(basis.forecast, exact=True)} ({by if group else f'submitted {when}'})"
    accuracy = f"*Forecast accuracy ({judged})*\n{f.pct(numbers.accuracy)}"
    if numbers.accuracy is not None and basis.forecast is not None:
        by = f" by the {f.plural(basis.forecasters, 'rep')} who forecast" if group else ""
        won = f.money(basis.won, exact=True)
        accuracy += f"\n_forecast {f.money(basis.forecast, exact=True)} vs won {won}{by}_"
    return [f"*Forecast used for accuracy*\n{used}", accuracy]


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /forecast."""
    args = parse_and_check(session, viewer, "/forecast", text, ctx)
    now = ctx.current_time()
    numbers = forecast_vs_won(session, args.scope, args.period, ctx.org, ctx.sla, now)
    group = args.scope.kind != "rep"
    open_ = numbers.weighted_pipeline is not None  # the period has not ended
    heading = title("forecast", args, viewer.rep_id)
    won_label = "Won so far" if numbers.running else "Won"
    fields = [
        f"*Last submitted forecast*\n{f.money(numbers.forecast, exact=True)}",
        f"*{won_label}*\n{f.money(numbers.won, exact=True)}",
        f"*Quota*\n{f.money(numbers.quota, exact=True)}",
    ]
    if numbers.weighted_pipeline is not None:
        closing = weighted_closing_label(args.period)
        fields += [
            f"*{closing}*\n{f.money(numbers.weighted_pipeline, exact=True)}",
            f"*Won + weighted*\n{f.money(numbers.won + numbers.weighted_pipeline, exact=True)}",
        ]
    fields += _accuracy_fields(numbers, ctx.org.tz, group)
    blocks: list[Any] = [header(heading)]
    blocks += field_sections(fields)
    if numbers.forecast is None:
        blocks.append(section(f"No forecast submitted for this period{' yet' if open_ else ''}."))
    else:
        when = (
            numbers.submitted_at.astimezone(ctx.org.tz).strftime("%Y-%m-%d %H:%M")
            if numbers.submitted_at
            else ""
        )
        who = f" by {f.plural(numbers.forecasters, 'rep')}" if group else ""
        share = (
            f" ({f.pct(numbers.won / numbers.forecast)} of it won)" if numbers.forecast > 0 else ""
        )
        blocks.append(section(f"Forecast last submitted {when}{who}{share}."))
    if note := default_scope_note(args, "/forecast"):
        blocks.append(note)
    blocks.append(
        footer(
            args.period,
            now,
            f"Forecast: the last commit submitted {'so far' if open_ else 'for the period'}. "
            "Accuracy: 1 - |forecast - won| / won, "
            "using the last commit submitted before that period started.",
        )
    )
    fallback = (
        f"{heading}: forecast {f.money(numbers.forecast)}, "
        f"{won_label.lower()} {f.money(numbers.won)}, quota {f.money(numbers.quota)}"
    )
    if numbers.weighted_pipeline is not None:
        fallback += f", weighted pipeline closing in it {f.money(numbers.weighted_pipeline)}"
    return Reply(fallback, blocks, in_channel=args.share)
