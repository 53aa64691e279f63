"""The App Home tab: the viewer's own dashboard for this quarter, with nudges."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commands.kit import format as f
from commands.kit.blocks import (
    MAX_VIEW_BLOCKS,
    context,
    divider,
    field_sections,
    guard,
    header,
    section,
)
from commands.kit.common import elapsed_share, partial_sum, quota_total, scope_numbers
from commands.kit.reply import CommandContext
from salesops_core.db.models import Lead, LeadStatus, Team
from salesops_core.kpi.engine import leaderboard_rows
from salesops_core.org.access import Viewer
from salesops_core.org.scopes import Scope, reps_in_scope, team_scope
from salesops_core.periods import parse_period
from salesops_core.timeutil import as_utc

LEADS_SHOWN = 5
GOOD_COVERAGE = 3.0


def _open_leads(session: Session, rep_id: int) -> tuple[int, list[Any]]:
    """How many open leads the rep has not answered, and the oldest few (two queries)."""
    waiting = (
        Lead.owner_id == rep_id,
        Lead.first_response_at.is_(None),
        Lead.status == LeadStatus.OPEN,
    )
    total = session.scalar(select(func.count()).select_from(Lead).where(*waiting)) or 0
    oldest = session.execute(
        select(Lead.external_id, Lead.company, Lead.source, Lead.created_at)
        .where(*waiting)
        .order_by(Lead.created_at, Lead.id)
        .limit(LEADS_SHOWN)
    ).all()
    return int(total), list(oldest)


def nudges(kpis: dict[str, Any], stale: float, leads_waiting: int, expected: float) -> list[str]:
    """Short, actionable nudges from this quarter's numbers."""
    items = []
    attainment = kpis.get("quota_attainment")
    if attainment is not None and attainment < expected:
        items.append(
            f"You are behind pace: {f.pct(attainment)} of quota won, {f.pct(expected)} "
            "expected by now."
        )
    if leads_waiting:
        items.append(f"{leads_waiting} lead(s) are waiting for your first response.")
    if stale:
        items.append(f"{f.count(stale)} open deal(s) are stale: log a next step or close them.")
    coverage = kpis.get("pipeline_coverage")
    if coverage is not None and coverage < GOOD_COVERAGE:
        items.append(
            f"Pipeline coverage is {f.ratio(coverage)}; "
            f"{f.ratio(GOOD_COVERAGE)} is a healthy target."
        )
    return items


def _lead_line(row: Any, now: datetime) -> str:
    waited = (now - as_utc(row.created_at)).total_seconds() / 60
    source = f" ({row.source})" if row.source else ""
    return f"• *{row.company or row.external_id}*{source}, waiting {f.minutes(waited)}"


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
    kpis, numbers = scope_numbers(session, scope, period, ctx)
    quota = quota_total(numbers)
    stale = partial_sum(numbers, "stale_count")
    expected = elapsed_share(period, now)
    waiting, oldest = _open_leads(session, viewer.rep_id)
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
        section(f"*Open leads waiting for you*: {waiting}"),
    ]
    if oldest:
        blocks.append(section("\n".join(_lead_line(r, now) for r in oldest)))
    items = nudges(kpis, stale, waiting, expected)
    blocks += [
        divider(),
        section(
            "*Nudges*\n" + ("\n".join(f"• {i}" for i in items) or "Nothing to chase right now.")
        ),
    ]
    if (viewer.is_manager or viewer.is_admin) and viewer.team_id is not None:
        team = session.get(Team, viewer.team_id)
        assert team is not None
        team_kpis, team_numbers = scope_numbers(session, team_scope(team), period, ctx)
        rows = leaderboard_rows(
            session.execute(reps_in_scope(team_scope(team))).all(), team_numbers
        )
        behind = [
            r["rep"]
            for r in rows
            if r["quota_attainment"] is not None and r["quota_attainment"] < expected
        ]
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
