"""/meetings [period] [@rep | team]: prospect meetings held, per week, vs the team average."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import parse_and_check
from commands.kit.blocks import code_sections, field_sections, header
from commands.kit.common import default_scope_note, footer, title
from commands.kit.reply import CommandContext, Reply
from salesops_core.kpi import format as f
from salesops_core.kpi.views import meetings
from salesops_core.org.access import Viewer

SHOWN_REPS = 40


def _compare(mine: float | None, average: float | None) -> str:
    if mine is None or average is None:
        return f.NA
    if abs(mine - average) < 1e-9:
        return "= same as the team average"
    arrow = f.UP if mine > average else f.DOWN
    return (
        f"{arrow} {f.number(abs(mine - average))} per week {'above' if mine > average else 'below'}"
    )


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /meetings."""
    args = parse_and_check(session, viewer, "/meetings", text, ctx)
    now = ctx.current_time()
    heading = title("prospect meetings", args, viewer.rep_id)
    blocks: list[Any] = [header(heading)]
    numbers = meetings(session, args.scope, args.period, ctx.org, ctx.sla, now)
    held, per_week, average = (
        f.count(numbers.held),
        f.number(numbers.per_week),
        numbers.team_average,
    )
    if args.period.too_short(now):
        per_week = f"{f.NA} ({f.too_short_note(args.period)})"
    if args.scope.kind == "rep":
        fields = [
            f"*Meetings held*\n{held}",
            f"*Per week*\n{per_week}",
            f"*Team average ({numbers.team or 'no team'})*\n{f.number(average)} per rep",
            f"*Vs the team*\n{_compare(numbers.per_week, average)}",
        ]
        fallback = f"{heading}: {held} held, {per_week} per week"
        if average is not None:
            fallback += f" (team average {f.number(average)})"
    else:
        fields = [f"*Meetings held*\n{held}", f"*Per rep per week*\n{per_week}"]
        fallback = f"{heading}: {held} held, {per_week} per rep per week"
    blocks += field_sections(fields)
    if args.scope.kind != "rep":
        lines = [f"{'Rep':<22} {'Held':>5} {'Per week':>9}"]
        for rep in numbers.reps[:SHOWN_REPS]:
            lines.append(f"{rep.rep[:22]:<22} {f.count(rep.held):>5} {f.number(rep.per_week):>9}")
        if len(numbers.reps) > SHOWN_REPS:
            lines.append(f"… {len(numbers.reps) - SHOWN_REPS} more reps")
        blocks += code_sections(lines, max_sections=2)
    if note := default_scope_note(args, "/meetings"):
        blocks.append(note)
    notes = ["Prospect meetings: meetings and demos with an external attendee."]
    if args.scope.kind != "rep":
        counted = f.plural(len(numbers.reps), "person", "people")
        notes.append(f"Per rep: {counted} counted (active, or with an activity), as listed.")
    blocks.append(footer(args.period, now, *notes))
    return Reply(fallback, blocks, in_channel=args.share)
