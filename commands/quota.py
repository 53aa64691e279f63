"""/quota [period] [@rep | team]: attainment, gap to quota and pace."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from commands.kit import format as f
from commands.kit.args import parse_and_check
from commands.kit.blocks import field_sections, header, section
from commands.kit.common import elapsed_share, footer, quota_total, scope_numbers, title
from commands.kit.reply import CommandContext, Reply
from salesops_core.kpi.engine import leaderboard_rows
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import reps_in_scope


@dataclass(frozen=True)
class Pace:
    """Where attainment stands against the share of the period that has passed."""

    attainment: float | None
    expected: float  # elapsed share of the period = attainment "on pace" by now
    quota: float | None
    won: float

    @property
    def gap(self) -> float | None:
        """Quota still to win (0 once reached); None without a quota."""
        return None if self.quota is None else max(self.quota - self.won, 0.0)

    @property
    def behind(self) -> bool | None:
        """True when attainment is below the elapsed share; None without a quota."""
        return None if self.attainment is None else self.attainment < self.expected

    @property
    def projected(self) -> float | None:
        """Attainment at the end of the period if the pace so far continues."""
        if self.attainment is None or self.expected <= 0:
            return None
        return self.attainment / self.expected


def pace_of(row: dict[str, Any], quota: float | None, expected: float) -> Pace:
    """The pace of one KPI row (a scope or a leaderboard row)."""
    return Pace(row.get("quota_attainment"), expected, quota, float(row.get("won_amount") or 0))


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
    kpis, numbers = scope_numbers(session, args.scope, args.period, ctx)
    expected = elapsed_share(args.period, now)
    rows: list[dict[str, Any]] = []
    if args.scope.kind != "rep":
        rows = leaderboard_rows(session.execute(reps_in_scope(args.scope)).all(), numbers)
    quota = quota_total(numbers)
    pace = pace_of(kpis, quota, expected)
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
    blocks.append(section(pace_text(pace, closed=closed)))
    if rows:
        behind = [
            r
            for r in rows
            if pace_of(r, None, expected).behind and r.get("quota_attainment") is not None
        ]
        if behind:
            names = ", ".join(f"{r['rep']} ({f.pct(r['quota_attainment'])})" for r in behind[:20])
            more = f" and {len(behind) - 20} more" if len(behind) > 20 else ""
            blocks.append(section(f"*Behind pace ({len(behind)})*: {names}{more}"))
    blocks.append(footer(args.period, now, "Pace: attainment expected by now = share elapsed."))
    fallback = f"{heading}: {f.pct(pace.attainment)} of {f.money(quota)}, gap {f.money(pace.gap)}"
    if pace.behind is not None and closed:
        fallback += ", quota missed" if pace.behind else ", quota reached"
    elif pace.behind is not None:
        fallback += ", behind pace" if pace.behind else ", on pace"
    return Reply(fallback, blocks, in_channel=args.share)
