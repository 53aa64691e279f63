"""The stale deals worth a call: each team's biggest open deals that have gone quiet.

Stale is the KPI's one rule (`kpi.rules.stale_at`): no activity on the deal in the
`stale_deal_days` before the moment (a deal never touched is dated from its creation), or its
expected close has passed. Every team's list comes from one query (a window per team).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Deal, Rep
from salesops_core.digest.facts import StaleDeal
from salesops_core.kpi.rules import last_touch_before, open_at, past_close_at, stale_at
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.timeutil import as_utc

STALE_DEALS_SHOWN = 5


def stale_deals_per_team(
    session: Session, scope: Scope, org: OrgConfig, at: datetime, limit: int = STALE_DEALS_SHOWN
) -> dict[int, list[StaleDeal]]:
    """Each team's stale deals open at `at`, biggest amount first (no amount last), at most
    `limit` a team, with days quiet since the last activity (or creation) and the CRM link."""
    ranked = (
        select(
            Deal.id,
            Deal.external_id,
            Deal.name,
            Deal.account,
            Deal.amount,
            past_close_at(at).label("past_close"),
            Rep.name.label("owner"),
            Rep.team_id,
            last_touch_before(at).label("quiet_since"),
            func.row_number()
            .over(partition_by=Rep.team_id, order_by=(Deal.amount.desc().nulls_last(), Deal.id))
            .label("rank"),
        )
        .join(Rep, Rep.id == Deal.owner_id)
        .where(
            open_at(at),
            stale_at(at, org.stale_deal_days),
            in_scope(Deal.owner_id, scope),
            Rep.team_id.is_not(None),
        )
        .subquery()
    )
    rows = session.execute(
        select(ranked).where(ranked.c.rank <= limit).order_by(ranked.c.team_id, ranked.c.rank)
    ).all()
    deals: dict[int, list[StaleDeal]] = {}
    for r in rows:
        quiet = None if r.quiet_since is None else (at - as_utc(r.quiet_since)).total_seconds()
        deals.setdefault(r.team_id, []).append(
            StaleDeal(
                deal_id=r.id,
                external_id=r.external_id,
                name=r.name,
                account=r.account,
                owner=r.owner,
                amount=None if r.amount is None else float(r.amount),
                days_quiet=None if quiet is None else quiet / 86400.0,
                past_close=bool(r.past_close),
                crm_url=org.deal_link(r.external_id),
            )
        )
    return deals
