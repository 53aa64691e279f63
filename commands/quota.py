"""/quota [period] [@rep | team]: attainment, gap to quota and pace."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.chase import behind_line
from commands.kit.common import default_scope_note, footer, title
from commands.kit.quota import wider_quota_text
from commands.kit.reply import CommandContext, Reply
from salesops_core.kpi import format as f
from salesops_core.kpi.engine import LeaderboardRow
from salesops_core.kpi.pace import Pace, elapsed_share, pace_of
from salesops_core.kpi.quota_share import wider_quotas
from salesops_core.kpi.views import leaderboard, scope_numbers
from salesops_core.org.access import Viewer


def pace_text(pace: Pace, *, closed: bool = False) -> str:
    """ "Behind pace: 31% won, 58% expected by now", or how a closed period ended."""
    if pace.behind is None:
        return "No quota for this period."
    if closed:
        if pace.behind:
            return f"⚠️ Quota missed: the period ended at {f.pct(pace.attainment)} of quota."
        return f"✅ Quota reached: the period ended at {f.pct(pace.attainment)} of quota."
    verb = "Behind pace" if pace.behind else "On pace"
    return (
        f"{'⚠️ ' if pace.behind else '✅ '}{verb}: {f.pct(pace.attainment)} of quota won, "
        f"{f.pct(pace.expected)} expected by now"
    )


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /quota."""
    args = parse_and_check(session, viewer, "/quota", text, ctx)
    now = ctx.current_time()
    numbers = scope_numbers(session, args.scope, args.period, ctx.org, ctx.sla, now)
    expected = elapsed_share(args.period, now)
    rows: list[LeaderboardRow] = []
    if args.scope.kind != "rep":
        rows = leaderboard(session, numbers)
    quota = numbers.quota
    pace = pace_of(numbers.kpis, expected, quota)
    heading = title("quota", args, viewer.rep_id)
    blocks: list[Any] = [header(heading)]
    fields = [
        f"*Attainment*\n{f.pct(pace.attainment)}",
        f"*Quota*\n{f.money(quota)}",
        f"*Won*\n{f.money(pace.won)}",
        f"*Gap to quota*\n{f.money(pace.gap)}",
        f"*Expected by now*\n{f.pct(expected)}",
        f"*Projected at this pace*\n{f.pct(pace.projected)}",
    ]
    blocks += field_sections(fields)
    closed = args.period.end <= now
    wider = wider_quota_text(wider_quotas(session, args.scope, args.period), args.period)
    blocks.append(section(pace_text(pace, closed=closed) if quota or not wider else wider))
    if behind := behind_line(rows, args.period, now):
        blocks.append(section(behind))
    if note := default_scope_note(args, "/quota"):
        blocks.append(note)
    blocks.append(footer(args.period, now, "Pace: attainment expected by now = share elapsed."))
    fallback = f"{heading}: {f.pct(pace.attainment)} of {f.money(quota)}, gap {f.money(pace.gap)}"
    if pace.behind is not None and closed:
        fallback += ", quota missed" if pace.behind else ", quota reached"
    elif pace.behind is not None:
        fallback += ", behind pace" if pace.behind else ", on pace"
    return Reply(fallback, blocks, in_channel=args.share)
