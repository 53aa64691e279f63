"""/pipeline [period] [@rep | team]: open pipeline by stage, weighted vs unweighted, coverage."""

from __future__ import annotations

from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import parse_and_check
from commands.kit.blocks import code_sections, field_sections, header
from commands.kit.common import conversion_field, default_scope_note, footer, metric, title
from commands.kit.reply import Chart, CommandContext, Reply
from salesops_core import charts
from salesops_core.kpi import format as f
from salesops_core.kpi.asof import STAGE_NOT_RECORDED
from salesops_core.kpi.details import pipeline_by_stage
from salesops_core.kpi.views import scope_numbers
from salesops_core.org.access import Viewer


def stage_table(rows: list[dict[str, Any]]) -> list[str]:
    """Monospace lines: stage, deal count, amount, weighted amount."""
    width = max([len("Stage"), *(len(r["stage"][:24]) for r in rows)])
    lines = [f"{'Stage':<{width}}  {'Deals':>5}  {'Amount':>9}  {'Weighted':>9}"]
    for r in rows:
        lines.append(
            f"{r['stage'][:24]:<{width}}  {r['count']:>5}  {f.money(r['amount']):>9}  "
            f"{f.money(r['weighted_amount']):>9}"
        )
    return lines


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /pipeline."""
    args = parse_and_check(session, viewer, "/pipeline", text, ctx)
    now = ctx.current_time()
    at = args.period.effective_end(now)
    numbers = scope_numbers(session, args.scope, args.period, ctx.org, ctx.sla, now)
    kpis = numbers.kpis
    rows = pipeline_by_stage(session, args.scope, ctx.org, at=at)
    stale = numbers.total("stale_count")
    open_count = sum(r["count"] for r in rows)
    heading = title("pipeline", args, viewer.rep_id)
    blocks: list[Any] = [header(heading)]
    fields = [
        metric("open_pipeline_value", kpis, None, ""),
        metric("weighted_pipeline_value", kpis, None, ""),
        metric("pipeline_coverage", kpis, None, ""),
        f"*Open deals*\n{f.count(open_count)}",
        f"*Stale deals*\n{f.count(stale)} ({f.pct(kpis['stale_deal_share'])})",
        metric("pipeline_velocity_per_day", kpis, None, ""),
        conversion_field(kpis, running=args.period.is_current(now)),
    ]
    blocks += field_sections(fields)
    if rows:
        blocks += code_sections(stage_table(rows), max_sections=2)
    if now >= args.period.end:
        when = (
            f"Open at the end of {args.period.label}, each deal at its stage, amount and "
            "probability then. Coverage: pipeline open at the start and expected to close in "
            "the period / quota."
        )
    else:
        when = "Open now. Coverage: pipeline expected to close in the period / quota left."
    if any(r["stage"] == STAGE_NOT_RECORDED for r in rows):
        when += f" {STAGE_NOT_RECORDED}: open then, stage unknown (no history); not weighted."
    if note := default_scope_note(args, "/pipeline"):
        blocks.append(note)
    blocks.append(
        footer(
            args.period,
            now,
            f"{when} Stale: no activity for {f.number(ctx.org.stale_deal_days)} days or past "
            "expected close.",
        )
    )
    fallback = (
        f"{heading}: {f.money(kpis['open_pipeline_value'])} open "
        f"({f.money(kpis['weighted_pipeline_value'])} weighted) in {open_count} deals, "
        f"coverage {f.ratio(kpis['pipeline_coverage'])}, {f.count(stale)} stale"
    )
    chart_list = []
    if ctx.charts and rows:
        chart_title = f"{args.scope.name}: open pipeline by stage, {args.period.label}"
        render = partial(
            charts.pipeline_by_stage,
            # deals at a stage not recorded add nothing to the weighted pipeline: said so
            [
                r["stage"] + (" (not weighted)" if r["weighted_amount"] is None else "")
                for r in rows
            ],
            [r["amount"] for r in rows],
            [r["weighted_amount"] or 0.0 for r in rows],
            deals=[r["count"] for r in rows],
            title=chart_title,
        )
        chart_list.append(Chart("pipeline-by-stage.png", chart_title, render))
    return Reply(fallback, blocks, chart_list, in_channel=args.share)
