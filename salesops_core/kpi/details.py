"""KPI building blocks the slash commands show in detail: funnel, pipeline by stage, leads."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import Deal, DealStageChange, Lead, LeadStatus, Outcome, Rep, Stage
from salesops_core.kpi.asof import STAGE_NOT_RECORDED, open_deals_at
from salesops_core.kpi.rules import (
    at_time,
    responded_by,
    response_minutes_expr,
    seconds_between,
    sla_decided,
    sla_met,
)
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period
from salesops_core.timeutil import utcnow


def stage_conversion(session: Session, scope: Scope, period: Period) -> list[dict[str, Any]]:
    """Funnel of deals CREATED in the period: per stage, deals that reached it and the next.

    A deal reached stage k when its stage history (or its current stage) shows stage k or any
    later stage in the stage map order. Lost stages are not part of the funnel; stages missing
    from the stage map are ignored. The last stage has no next stage: advanced and rate null.
    """
    funnel = session.execute(
        select(Stage.name, Stage.sort_order)
        .where(Stage.outcome != Outcome.LOST)
        .order_by(Stage.sort_order, Stage.name)
    ).all()
    if not funnel:
        return []
    counts: dict[int, int] = {}
    for current, history, deals in session.execute(_furthest_stage_counts(funnel, scope, period)):
        furthest = max((o for o in (current, history) if o is not None), default=None)
        if furthest is not None:
            counts[furthest] = counts.get(furthest, 0) + deals
    rows = []
    for index, (name, order) in enumerate(funnel):
        reached = sum(n for furthest_order, n in counts.items() if furthest_order >= order)
        if index + 1 < len(funnel):
            next_order = funnel[index + 1][1]
            advanced = sum(n for f, n in counts.items() if f >= next_order)
            rate = advanced / reached if reached else None
        else:
            advanced, rate = None, None
        rows.append(
            {"stage": name, "order": order, "reached": reached, "advanced": advanced, "rate": rate}
        )
    return rows


def _furthest_stage_counts(
    funnel: Sequence[Any], scope: Scope, period: Period
) -> Select[int | None, int | None, int]:
    """Deals created in the period counted by (funnel order of the current stage, furthest
    funnel order in the stage history); None where the stage is lost or not in the map.

    Stage names map to their order inline (no join), and each deal's history is one seek in
    the (deal_id, entered_at, stage) index, read from the index alone. The per-deal pair is
    materialized once, so the history subquery runs once per deal (SQLite would otherwise
    evaluate it again for the GROUP BY).
    """
    order_of = {name: order for name, order in funnel}
    history = (
        select(func.max(case(order_of, value=DealStageChange.stage)))
        .where(DealStageChange.deal_id == Deal.id)
        .correlate(Deal)
        .scalar_subquery()
    )
    per_deal = (
        select(case(order_of, value=Deal.stage).label("current"), history.label("history"))
        .where(
            Deal.created_at >= at_time(period.start),
            Deal.created_at < at_time(period.end),
            in_scope(Deal.owner_id, scope),
        )
        .cte("per_deal")
        .prefix_with("MATERIALIZED")
    )
    return select(per_deal.c.current, per_deal.c.history, func.count()).group_by(
        per_deal.c.current, per_deal.c.history
    )


def pipeline_by_stage(
    session: Session, scope: Scope, org: OrgConfig, *, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Deals open at `at` (default now) per stage as of then (`kpi.asof`), in stage order;
    unmapped stages, then the deals whose stage then is not recorded, last."""
    deals = open_deals_at(at or utcnow(), in_scope(Deal.owner_id, scope))
    return _in_stage_order(session.execute(_open_by_stage(deals)).all())


def pipeline_by_stage_per_team(
    session: Session, scope: Scope, org: OrgConfig, *, at: datetime
) -> dict[int, list[dict[str, Any]]]:
    """`pipeline_by_stage` for every team in the scope at once (one query grouped by team)."""
    team = select(Rep.team_id).where(Rep.id == Deal.owner_id).correlate(Deal).scalar_subquery()
    deals = open_deals_at(at, in_scope(Deal.owner_id, scope), columns=(team.label("team_id"),))
    by_team: dict[int, list[Any]] = {}
    for row in session.execute(_open_by_stage(deals, "team_id")).all():
        if row.team_id is not None:
            by_team.setdefault(row.team_id, []).append(row)
    return {team: _in_stage_order(team_rows) for team, team_rows in by_team.items()}


def _open_by_stage(deals: Select[Any], *group: str) -> Select[Any]:
    """The deals of an `open_deals_at` select counted and summed by (*group, stage, the stage's
    sort order); `weighted` is NULL for the deals whose stage is not recorded."""
    open_deals = deals.subquery()
    keys = [open_deals.c[name] for name in group]
    stage, order = open_deals.c.stage, open_deals.c.stage_order
    return select(
        *keys,
        stage,
        order.label("sort_order"),
        func.count().label("deals"),
        func.coalesce(func.sum(open_deals.c.amount), 0).label("amount"),
        func.sum(open_deals.c.amount * open_deals.c.probability).label("weighted"),
    ).group_by(*keys, stage, order)


def _in_stage_order(rows: Sequence[Any]) -> list[dict[str, Any]]:
    """Stage rows (stage, sort_order, deals, amount, weighted) as dicts, in stage order;
    stages missing from the stage map, then the stage not recorded (weighted None), last."""
    result = [
        {
            "stage": STAGE_NOT_RECORDED if r.stage is None else r.stage,
            "order": r.sort_order,
            "count": int(r.deals),
            "amount": float(r.amount),
            "weighted_amount": None if r.stage is None else float(r.weighted or 0),
        }
        for r in rows
    ]
    big = 1 << 30

    def place(row: dict[str, Any]) -> tuple[int, str]:
        if row["weighted_amount"] is None:
            return big + 1, row["stage"]
        return (big if row["order"] is None else row["order"]), row["stage"]

    return sorted(result, key=place)


@dataclass(frozen=True)
class Unanswered:
    """Leads not answered by `now`: still waiting, or closed without a response."""

    waiting: int
    closed: int

    @property
    def total(self) -> int:
        """All leads not answered by `now` (the `leads_unanswered` KPI)."""
        return self.waiting + self.closed


def unanswered_leads(session: Session, scope: Scope, period: Period, now: datetime) -> Unanswered:
    """The scope's leads created in the period and not answered by `now` (`responded_by`, the
    rule the `leads_unanswered` KPI counts by), split into still waiting and closed: one query.
    A lead keeps no close time, only today's status, so one closed after `now` counts as closed."""
    closed = case((Lead.status == LeadStatus.CLOSED, 1), else_=0)
    total, closed_count = session.execute(
        select(func.count(), func.coalesce(func.sum(closed), 0)).where(
            responded_by(now).is_(None),
            Lead.created_at >= at_time(period.start),
            Lead.created_at < at_time(period.end),
            in_scope(Lead.owner_id, scope),
        )
    ).one()
    return Unanswered(waiting=int(total) - int(closed_count), closed=int(closed_count))


def lead_response_minutes(
    session: Session,
    scope: Scope,
    period: Period,
    org: OrgConfig,
    sla: Sequence[SlaPolicy] = (),
    *,
    now: datetime | None = None,
) -> list[dict[str, Any]]:
    """One row per lead created in the period, oldest first, with its response time and SLA
    (the lead's stored deadline; a lead without one is not decided)."""
    now = now or utcnow()
    answered = responded_by(now).is_not(None)
    minutes = response_minutes_expr(session, now)
    rows = session.execute(
        select(
            Lead.external_id,
            Lead.created_at,
            Lead.source,
            Lead.owner_id,
            answered.label("answered"),
            minutes.label("minutes"),
            (seconds_between(session, Lead.sla_due_at, Lead.created_at) / 60.0).label(
                "sla_minutes"
            ),
            sla_met(now).label("met"),
            sla_decided(now).label("decided"),
        )
        .where(
            Lead.created_at >= at_time(period.start),
            Lead.created_at < at_time(period.end),
            in_scope(Lead.owner_id, scope),
        )
        .order_by(Lead.created_at, Lead.id)
    ).all()
    result = []
    for r in rows:
        met = bool(r.met) if r.decided else None  # None: inside its SLA, or no deadline yet
        result.append(
            {
                "external_id": r.external_id,
                "created_at": r.created_at,
                "source": r.source,
                "owner_id": r.owner_id,
                "minutes": float(r.minutes) if r.answered else None,
                "waiting_minutes": None if r.answered else float(r.minutes),
                "sla_minutes": None if r.sla_minutes is None else float(r.sla_minutes),
                "sla_from": "lead deadline" if r.sla_minutes is not None else "no deadline yet",
                "met_sla": met,
            }
        )
    return result
