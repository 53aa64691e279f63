"""/meetings [period] [@rep | team]: prospect meetings held, per week, vs the team average."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from commands.kit import format as f
from commands.kit.args import parse_and_check
from commands.kit.blocks import code_sections, field_sections, header
from commands.kit.common import footer, partial_sum, scope_numbers, title
from commands.kit.reply import CommandContext, Reply
from salesops_core.db.models import Rep, Team
from salesops_core.kpi.engine import leaderboard_rows
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import reps_in_scope, team_scope

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
    scope = args.scope
    if scope.kind == "rep":
        rep = session.get(Rep, scope.key)
        team = session.get(Team, rep.team_id) if rep and rep.team_id else None
        # One gather over the team gives both the rep's row and the team average.
        gathered = team_scope(team) if team else scope
        group_kpis, numbers = scope_numbers(session, gathered, args.period, ctx)
        mine = next(
            (
                r
                for r in leaderboard_rows(session.execute(reps_in_scope(scope)).all(), numbers)
                if r["rep_id"] == scope.key
            ),
            None,
        )
        held = partial_sum(numbers, "meetings", {int(scope.key)})  # type: ignore[arg-type]
        per_week = mine["meetings_per_rep_per_week"] if mine else None
        average = group_kpis["meetings_per_rep_per_week"] if team else None
        fields = [
            f"*Meetings held*\n{f.count(held)}",
            f"*Per week*\n{f.number(per_week)}",
            f"*Team average ({team.name if team else 'no team'})*\n{f.number(average)} per rep",
            f"*Vs the team*\n{_compare(per_week, average)}",
        ]
        fallback = f"{heading}: {f.count(held)} held, {f.number(per_week)} per week"
        if average is not None:
            fallback += f" (team average {f.number(average)})"
    else:
        group_kpis, numbers = scope_numbers(session, scope, args.period, ctx)
        held = partial_sum(numbers, "meetings")
        average = group_kpis["meetings_per_rep_per_week"]
        fields = [
            f"*Meetings held*\n{f.count(held)}",
            f"*Per rep per week*\n{f.number(average)}",
        ]
        fallback = f"{heading}: {f.count(held)} held, {f.number(average)} per rep per week"
    blocks += field_sections(fields)
    if scope.kind != "rep":
        rows = leaderboard_rows(session.execute(reps_in_scope(scope)).all(), numbers)
        rows.sort(key=lambda r: -(r["meetings_per_rep_per_week"] or 0))
        lines = [f"{'Rep':<22} {'Held':>5} {'Per week':>9}"]
        for r in rows[:SHOWN_REPS]:
            count = (numbers.partials.get(r["rep_id"]) or {}).get("meetings") or 0
            lines.append(
                f"{r['rep'][:22]:<22} {f.count(count):>5} "
                f"{f.number(r['meetings_per_rep_per_week']):>9}"
            )
        if len(rows) > SHOWN_REPS:
            lines.append(f"… {len(rows) - SHOWN_REPS} more reps")
        blocks += code_sections(lines, max_sections=2)
    blocks.append(
        footer(args.period, now, "Prospect meetings: meetings and demos with an external attendee.")
    )
    return Reply(fallback, blocks, in_channel=args.share)
