"""The App Home tab: the viewer's own dashboard for this quarter, with nudges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from commands.kit.blocks import (
    MAX_VIEW_BLOCKS,
    context,
    divider,
    field_sections,
    guard,
    header,
    section,
)
from commands.kit.reply import CommandContext
from salesops_core.kpi import format as f
from salesops_core.kpi.pace import behind_pace, elapsed_share
from salesops_core.kpi.views import leaderboard, scope_numbers
from salesops_core.leads.views import WaitingLead, waiting_leads
from salesops_core.nudges.facts import Hold
from salesops_core.nudges.service import evaluate
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import Scope, team_scope_by_id
from salesops_core.periods import parse_period
from salesops_core.timeutil import as_utc

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


def _lead_line(lead: WaitingLead, now: datetime) -> str:
    waited = (now - as_utc(lead.created_at)).total_seconds() / 60
    source = f" ({lead.source})" if lead.source else ""
    return f"• *{lead.company or lead.external_id}*{source}, waiting {f.minutes(waited)}"


def home_view(session: Session, viewer: Viewer, ctx: CommandContext) -> dict[str, Any]:
    """The App Home view JSON ({"type": "home", "blocks": [...]}), at most 100 blocks."""
    now = ctx.current_time()
    period = parse_period(
        "this-quarter",
        tz=ctx.org.tz,
        fiscal_year_start_month=ctx.org.fiscal_year_start_month,
        now=now,
    )
    scope = Scope("rep", viewer.rep_id, viewer.name)
    numbers = scope_numbers(session, scope, period, ctx.org, ctx.sla, now)
    kpis, quota, stale = numbers.kpis, numbers.quota, numbers.total("stale_count")
    expected = elapsed_share(period, now)
    waiting = waiting_leads(session, scope, limit=LEADS_SHOWN)
    first_name = viewer.name.split()[0] if viewer.name else "there"
    blocks: list[Any] = [
        header(f"Hi {first_name}: {period.label}"),
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
        section(f"*Open leads waiting for you*: {waiting.total}"),
    ]
    if waiting.oldest:
        blocks.append(section("\n".join(_lead_line(lead, now) for lead in waiting.oldest)))
    items = nudge_lines(session, viewer, ctx, now)
    blocks += [
        divider(),
        section(
            "*Nudges*\n" + ("\n".join(f"• {i}" for i in items) or "Nothing to chase right now.")
        ),
    ]
    if (viewer.is_manager or viewer.is_admin) and viewer.team_id is not None:
        team = team_scope_by_id(session, viewer.team_id)
        team_numbers = scope_numbers(session, team, period, ctx.org, ctx.sla, now)
        team_kpis = team_numbers.kpis
        rows = leaderboard(session, team_numbers)
        behind = behind_pace(rows, expected)
        blocks += [
            divider(),
            section(
                f"*Your team, {team.name}*: {f.pct(team_kpis['quota_attainment'])} of quota, "
                f"{f.money(team_kpis['won_amount'])} won, {len(behind)} of {len(rows)} reps "
                "behind pace. `/team` shows the leaderboard."
            ),
        ]
    blocks.append(
        context("Ask me anything with `/kpi`, `/pipeline`, `/leads`, `/quota` · `/salesops help`")
    )
    blocks = guard(blocks, limit=MAX_VIEW_BLOCKS)
    return {"type": "home", "blocks": [b.to_dict() for b in blocks]}
