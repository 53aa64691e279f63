"""The App Home tab: this quarter's dashboard, with nudges.

A rep sees their own numbers; a manager their team's, with who to chase (and their own quota
in one line when they carry one); an admin the org's. The same first scope as `/kpi`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.args import default_scope
from commands.kit.blocks import (
    MAX_VIEW_BLOCKS,
    context,
    divider,
    field_sections,
    guard,
    header,
    section,
)
from commands.kit.chase import chase_text
from commands.kit.reply import CommandContext
from commands.leads import lead_line
from salesops_core.kpi import format as f
from salesops_core.kpi.pace import elapsed_share
from salesops_core.kpi.views import ScopeNumbers, leaderboard, scope_numbers
from salesops_core.leads.views import overdue_by_owner, waiting_leads
from salesops_core.nudges.facts import Hold
from salesops_core.nudges.service import evaluate
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import Scope
from salesops_core.periods import Period, parse_period

LEADS_SHOWN = 5
NUDGES_SHOWN = 8


def nudge_lines(session: Session, viewer: Viewer, ctx: CommandContext, now: datetime) -> list[str]:
    """The viewer's nudges now, from the nudge rules (one evaluation for one person), most
    valuable first; what they muted or turned off is left out, whatever the hour or budget."""
    evaluation = evaluate(session, ctx.nudges, ctx.org, now, rep_id=viewer.rep_id)
    facts = [d.nudge.fact for d in evaluation.for_person(viewer.rep_id) if d.held != Hold.MUTED]
    lines = facts[:NUDGES_SHOWN]
    if len(facts) > NUDGES_SHOWN:
        lines.append(f"…and {f.count(len(facts) - NUDGES_SHOWN)} more")
    return lines


def _waiting_for(scope: Scope) -> str:
    return {"rep": "you", "team": "your team"}.get(scope.kind, f"the {scope.name.lower()}")


def home_view(session: Session, viewer: Viewer, ctx: CommandContext) -> dict[str, Any]:
    """The App Home view JSON ({"type": "home", "blocks": [...]}), at most 100 blocks."""
    now = ctx.current_time()
    period = parse_period(
        "this-quarter",
        tz=ctx.org.tz,
        fiscal_year_start_month=ctx.org.fiscal_year_start_month,
        now=now,
    )
    scope = default_scope(session, viewer)
    own = scope.kind == "rep"
    numbers = scope_numbers(session, scope, period, ctx.org, ctx.sla, now)
    kpis, quota, stale = numbers.kpis, numbers.quota, numbers.total("stale_count")
    expected = elapsed_share(period, now)
    waiting = waiting_leads(session, scope, limit=LEADS_SHOWN)
    first_name = viewer.name.split()[0] if viewer.name else "there"
    blocks: list[Any] = [
        header(f"Hi {first_name}: {period.label if own else f'{scope.name}, {period.label}'}"),
        section("*Quota*"),
        *field_sections(
            [
                f"*Attainment*\n{f.pct(kpis['quota_attainment'])}",
                f"*Won*\n{f.money(kpis['won_amount'])} of {f.money(quota)}",
                f"*Expected by now*\n{f.pct(expected)}",
                f"*Win rate*\n{f.pct(kpis['win_rate'])}",
            ]
        ),
        section("*Pipeline*"),
        *field_sections(
            [
                f"*Open*\n{f.money(kpis['open_pipeline_value'])}",
                f"*Weighted*\n{f.money(kpis['weighted_pipeline_value'])}",
                f"*Coverage*\n{f.ratio(kpis['pipeline_coverage'])}",
                f"*Stale deals*\n{f.count(stale)}",
            ]
        ),
        section(f"*Open leads waiting for {_waiting_for(scope)}*: {waiting.total}"),
    ]
    if waiting.oldest:
        lines = (lead_line(lead, now, show_owner=not own) for lead in waiting.oldest)
        blocks.append(section("\n".join(lines)))
    if not own:
        blocks += _chase_blocks(session, viewer, numbers, period, now)
    items = nudge_lines(session, viewer, ctx, now)
    blocks += [
        divider(),
        section(
            "*Nudges*\n" + ("\n".join(f"• {i}" for i in items) or "Nothing to chase right now.")
        ),
    ]
    blocks.append(
        context("Ask me anything with `/kpi`, `/pipeline`, `/leads`, `/quota` · `/salesops help`")
    )
    blocks = guard(blocks, limit=MAX_VIEW_BLOCKS)
    return {"type": "home", "blocks": [b.to_dict() for b in blocks]}


def _chase_blocks(
    session: Session, viewer: Viewer, numbers: ScopeNumbers, period: Period, now: datetime
) -> list[Any]:
    """Who to chase in a team or the org, and the viewer's own quota when they carry one."""
    rows = leaderboard(session, numbers)
    overdue = overdue_by_owner(session, numbers.scope, now)
    blocks: list[Any] = [section(chase_text(rows, overdue, period, now))]
    notes = ["`/team` shows the leaderboard"]
    own_quota = numbers.gathered.partials.get(viewer.rep_id, {}).get("quota")
    mine = next((row for row in rows if row["rep_id"] == viewer.rep_id), None)
    if own_quota and mine is not None:
        attainment = f.pct(mine["quota_attainment"])
        notes.append(f"Your own quota: {attainment} of {f.money(own_quota)} · `/kpi me`")
    return [*blocks, context(*notes)]
