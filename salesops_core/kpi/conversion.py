"""Pipeline efficiency (`pipeline_conversion`): what became of the amount open at a period start.

The deals open at the period start (created before it, not closed before it), each with its
amount as of then (`kpi.asof`), are followed to the period end, or to now while the period
runs:
- won: closed won by then, at its won amount but at most its start amount (a deal won for more
  counts its start amount: growth is not conversion);
- lost: closed lost by then, its whole start amount;
- slipped: still open then (pushed or not), at its amount then, at most its start amount;
- shrunk: what a won or still open deal lost in amount since the start.
Per deal, won + lost + slipped + shrunk = its start amount, so the parts add up per rep and a
team is the sum of its reps. Deals created during the period are not in it; a deal without an
amount at the start adds nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Subquery, and_, case, func, or_, select

from salesops_core.db.models import Deal, Outcome
from salesops_core.kpi.asof import open_deals_at
from salesops_core.kpi.rules import at_time, due_in
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period

CONVERSION_SPLIT = ("won", "lost", "slipped", "shrunk")  # the parts of a start amount


def _least(a: Any, b: Any) -> Any:
    """The smaller of two amounts (SQLite has no LEAST)."""
    return case((a < b, a), else_=b)


def start_outcomes(scope: Scope, period: Period, until: datetime) -> Subquery:
    """One row per deal in the scope open at the period start: `deal_id`, `owner`,
    `start_amount` (as of the start; NULL: none) and its split into `won`, `lost`, `slipped` and
    `shrunk` at `until` (the period end, or now while it runs); `start_due`: its start amount
    when it is expected to close in the period (a closed period's coverage), else 0."""
    mine = in_scope(Deal.owner_id, scope)
    due = due_in(period).label("due")
    start = open_deals_at(period.start, mine, columns=(due,)).subquery("at_start")
    # only deals created before the start can be open at both ends (created_at wrapped, so
    # SQLite still walks the closed_at ranges of `open_deals_at`)
    older = func.coalesce(Deal.created_at, None) < at_time(period.start)
    end = open_deals_at(until, mine, older).subquery("at_end")
    amount = start.c.amount
    closed = Deal.closed_at < at_time(until)
    won = and_(closed, Deal.outcome == Outcome.WON)
    lost = and_(closed, Deal.outcome == Outcome.LOST)
    # the amount kept: won at, or still open at `until` (as of then); none recorded: unchanged
    final = func.coalesce(case((won, Deal.amount), else_=end.c.amount), amount)
    kept = _least(final, amount)
    return (
        select(
            Deal.id.label("deal_id"),
            Deal.owner_id.label("owner"),
            amount.label("start_amount"),
            case((won, kept), else_=0).label("won"),
            case((lost, amount), else_=0).label("lost"),
            case((or_(won, lost), 0), else_=kept).label("slipped"),
            case((lost, 0), else_=amount - kept).label("shrunk"),
            case((start.c.due, amount), else_=0).label("start_due"),
        )
        .join(start, start.c.deal_id == Deal.id)
        .outerjoin(end, end.c.deal_id == Deal.id)
        .subquery("start_outcomes")
    )
