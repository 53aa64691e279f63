"""/team [team] [period] (managers, admins): leaderboard, who is behind pace, attainment chart.

`/team digest [team] [period]` shows the team's weekly digest on demand (default: last week);
`/team digest EMEA` and `/team digest org` a region's or the org's, for admins.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from functools import partial
from typing import Any

from sqlalchemy.orm import Session

from commands.digest import digest_blocks, digest_text, digest_title
from commands.kit.args import bad, parse_args
from commands.kit.blocks import code_sections, field_sections, header, section
from commands.kit.chase import behind_line, lagging
from commands.kit.common import footer
from commands.kit.quota import wider_quota_text
from commands.kit.reply import Chart, CommandContext, Reply
from salesops_core import charts
from salesops_core.digest.content import build_team_digest
from salesops_core.digest.regions import build_scope_digest
from salesops_core.errors import NotAllowed
from salesops_core.kpi import format as f
from salesops_core.kpi.engine import LeaderboardRow
from salesops_core.kpi.pace import behind_pace, elapsed_share, pace_of
from salesops_core.kpi.quota_share import wider_quotas
from salesops_core.kpi.views import leaderboard, scope_numbers
from salesops_core.org.access import Viewer, require_view
from salesops_core.org.scopes import ORG_SCOPE, Scope, team_by_id, team_scope_by_id
from salesops_core.org.views import rep_label

log = logging.getLogger(__name__)
NAME_WIDTH = 20
DIGEST_WORD = "digest"
DIGEST_PERIOD = "last-week"


def leaderboard_lines(rows: list[LeaderboardRow], expected: float) -> list[str]:
    """The leaderboard as monospace lines; `!` marks a rep behind pace (below quota once the
    period has ended: `expected` is then 1)."""
    lines = [
        f"{'#':>3} {'Rep':<{NAME_WIDTH}} {'Won':>8} {'Attain':>6} {'Win%':>5} {'Pipeline':>8}",
    ]
    for rank, r in enumerate(rows, start=1):
        flag = " !" if pace_of(r, expected).behind else ""
        mark = rep_label("", r["active"])  # " (left)" for a leaver: kept when the name is cut
        name = r["rep"][: NAME_WIDTH - len(mark)] + mark
        lines.append(
            f"{rank:>3} {name:<{NAME_WIDTH}} {f.money(r['won_amount']):>8} "
            f"{f.pct(r['quota_attainment']):>6} {f.pct(r['win_rate']):>5} "
            f"{f.money(r['open_pipeline_value']):>8}{flag}"
        )
    return lines


def reps_count_text(rows: list[LeaderboardRow]) -> str:
    """The leaderboard's head count: "7", or "7 + 1 who left" when a leaver has numbers."""
    left = sum(1 for r in rows if not r["active"])
    still = f.count(len(rows) - left)
    return f"{still} + {f.count(left)} who left" if left else still


def _default_scope(session: Session, viewer: Viewer) -> Scope:
    if viewer.team_id is not None:
        return team_scope_by_id(session, viewer.team_id)
    if viewer.is_admin:
        return ORG_SCOPE
    raise bad("/team", "You are not on a team, so name one.")


def digest(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer `/team digest [team | region | org] [period]`: the team's digest as its manager
    gets it; a region's or the org's (admins only, by the access rules) as admins get it."""
    args = parse_args(session, viewer, "/team", text, ctx, default_period=DIGEST_PERIOD)
    if not args.explicit_scope:
        if viewer.team_id is None:
            raise bad("/team", "You are not on a team, so name one: `/team digest NA East`.")
        args = replace(args, scope=team_scope_by_id(session, viewer.team_id))
    require_view(session, viewer, args.scope)
    if args.scope.kind == "rep":
        raise bad("/team", f"A digest is for a team, a region or the org, not {args.scope.name}.")
    if args.scope.kind == "team":
        team = team_by_id(session, int(args.scope.key))  # type: ignore[arg-type]
        facts = build_team_digest(session, team, args.period, ctx.org, ctx.sla, ctx.current_time())
    else:
        facts = build_scope_digest(
            session, args.scope, args.period, ctx.org, ctx.sla, ctx.current_time()
        )
    chart_list = []
    if ctx.charts:
        title = digest_title(facts)
        chart_list.append(
            Chart("team-digest.png", title, partial(charts.digest_chart, facts.chart))
        )
    return Reply(digest_text(facts), digest_blocks(facts), chart_list, in_channel=args.share)


def handle(session: Session, viewer: Viewer, text: str, ctx: CommandContext) -> Reply:
    """Answer /team (and `/team digest`)."""
    if not (viewer.is_manager or viewer.is_admin):
        log.warning("access refused: rep_id=%s (role rep) asked for /team", viewer.rep_id)
        raise NotAllowed(
            "Sorry, `/team` is for managers and admins. `/kpi` and `/quota` show your own numbers."
        )
    first, _, rest = text.strip().partition(" ")
    if first.lower() == DIGEST_WORD:
        return digest(session, viewer, rest, ctx)
    args = parse_args(session, viewer, "/team", text, ctx)
    if not args.explicit_scope:
        args = replace(args, scope=_default_scope(session, viewer))
    require_view(session, viewer, args.scope)
    if args.scope.kind == "rep":
        raise bad("/team", f"{args.scope.name} is a rep, not a team; try `/kpi` with their name.")
    now = ctx.current_time()
    numbers = scope_numbers(session, args.scope, args.period, ctx.org, ctx.sla, now)
    kpis = numbers.kpis
    rows = leaderboard(session, numbers)
    expected = elapsed_share(args.period, now)
    behind = behind_pace(rows, expected)
    heading = f"{args.scope.name} · {args.period.label}"
    blocks: list[Any] = [header(heading)]
    blocks += field_sections(
        [
            f"*Won*\n{f.money(kpis['won_amount'])}",
            f"*Quota attainment*\n{f.pct(kpis['quota_attainment'])}",
            f"*Reps at quota*\n{f.pct(kpis['quota_attainment_rate'])}",
            f"*Win rate*\n{f.pct(kpis['win_rate'])}",
            f"*Open pipeline*\n{f.money(kpis['open_pipeline_value'])}",
            f"*Reps*\n{reps_count_text(rows)}",
        ]
    )
    if rows:
        blocks += code_sections(leaderboard_lines(rows, expected), max_sections=4)
    lagging_word = lagging(args.period, now)
    if behind_text := behind_line(rows, args.period, now):
        blocks.append(section(behind_text))
    elif numbers.quota is None and (
        wider := wider_quota_text(wider_quotas(session, args.scope, args.period), args.period)
    ):
        blocks.append(section(wider))
    elif rows:
        blocks.append(section(f"Nobody with a quota is {lagging_word}."))
    blocks.append(footer(args.period, now, f"`!` {lagging_word} · sorted by won amount"))
    fallback = (
        f"{heading}: won {f.money(kpis['won_amount'])}, attainment "
        f"{f.pct(kpis['quota_attainment'])}, {len(behind)} of {len(rows)} reps {lagging_word}"
    )
    chart_list = []
    rated = [
        (rep_label(r["rep"], r["active"]), a)
        for r in rows
        if (a := r["quota_attainment"]) is not None
    ]
    if ctx.charts and rated:
        chart_title = f"{args.scope.name}: quota attainment by rep, {args.period.label}"
        render = partial(
            charts.team_attainment,
            [rep for rep, _ in rated],
            [attainment for _, attainment in rated],
            expected=expected,
            without_quota=len(rows) - len(rated),
            title=chart_title,
        )
        chart_list.append(Chart("team-attainment.png", chart_title, render))
    return Reply(fallback, blocks, chart_list, in_channel=args.share)
