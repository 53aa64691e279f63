"""Deals as they were at a moment: stage, amount and probability from the stage history.

A deal's state at T is read from `deal_stage_change`; like `rules.open_at`, "at T" means just
before T (a change stamped T, like a close at T, comes after it):
- a deal still open with no change recorded from T on is in its current state (nothing recorded
  says otherwise), so at T = now every deal is as it is today (unless a change or its close
  is stamped in the future: then its history says otherwise);
- otherwise its last change before T gives the stage, with the amount and probability
  recorded on that change (else the deal's current amount; the deal's own probability only
  while that stage is still its current one; else the stage map's);
- a deal open at T whose stage at T is unknown (no change before T, or the change says
  a won or lost stage although the deal was still open, e.g. a CSV-imported closed deal) has
  its stage "not recorded": NULL stage and probability, amount as above. It counts in open
  value and is never weighted.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    case,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from salesops_core.db.models import Deal, DealStageChange, Outcome, Stage
from salesops_core.kpi.rules import at_time

STAGE_NOT_RECORDED = "Stage not recorded"  # the label of deals whose stage at T is unknown


def _last_change(at: datetime, deal_id: Any) -> ScalarSelect[Any]:
    """The id of the last stage change of deal `deal_id` (a correlated column) before `at`
    (NULL if none): one seek in the (deal_id, entered_at, stage) index; ties on entered_at go
    to the later row."""
    return (
        select(DealStageChange.id)
        .where(DealStageChange.deal_id == deal_id, DealStageChange.entered_at < at_time(at))
        .order_by(DealStageChange.entered_at.desc(), DealStageChange.id.desc())
        .limit(1)
        .scalar_subquery()
    )


def _deals_open_at(
    at: datetime, where: Sequence[ColumnElement[bool]], columns: Sequence[Any]
) -> CTE:
    """Per deal open at `at` (and matching `where`, conditions on Deal): its id, owner and
    current stage, amount and probability; `today` (open today with no change recorded from
    `at` on: one seek); and the extra `columns` (labelled, over Deal)."""
    later = (
        select(DealStageChange.id)
        .where(DealStageChange.deal_id == Deal.id, DealStageChange.entered_at >= at_time(at))
        .limit(1)
        .correlate(Deal)
        .scalar_subquery()
    )
    per_deal = select(
        Deal.id.label("deal_id"),
        Deal.owner_id,
        Deal.stage.label("current_stage"),
        Deal.amount.label("current_amount"),
        Deal.probability.label("current_probability"),
        and_(Deal.outcome == Outcome.OPEN, later.is_(None)).label("today"),
        *columns,
    ).where(*where)
    # open at T (`rules.open_at`) as two disjoint closed_at ranges, each an index range (one
    # OR makes SQLite walk every deal created before T)
    return (
        union_all(
            per_deal.where(Deal.closed_at.is_(None), Deal.created_at < at_time(at)),
            # created_at wrapped, so SQLite walks the closed_at range, not every older deal
            per_deal.where(
                Deal.closed_at >= at_time(at), func.coalesce(Deal.created_at, None) < at_time(at)
            ),
        )
        .cte()
        .prefix_with("MATERIALIZED")
    )


def _recorded_at(at: datetime, where: Sequence[ColumnElement[bool]], columns: Sequence[Any]) -> CTE:
    """The rows of `_deals_open_at` with the `stage`, `amount` and `probability` of each deal's
    last change before `at` (NULL where none or not recorded), looked up only for the deals not
    in today's state: at now, only those with a change stamped from now on or a close after.

    Each level is materialized, so `today` and each lookup run once per deal however often
    the CASEs of `open_deals_at` read them (inlined, Postgres and SQLite would repeat them);
    the change is read by primary key (a join would let Postgres scan the whole history)."""
    deals = _deals_open_at(at, where, columns)
    last = (
        select(
            deals,
            case((deals.c.today, None), else_=_last_change(at, deals.c.deal_id)).label("change_id"),
        )
        .cte()
        .prefix_with("MATERIALIZED")
    )
    return (
        select(
            last,
            *(
                select(column)
                .where(DealStageChange.id == last.c.change_id)
                .scalar_subquery()
                .label(column.key)
                for column in (
                    DealStageChange.stage,
                    DealStageChange.amount,
                    DealStageChange.probability,
                )
            ),
        )
        .cte()
        .prefix_with("MATERIALIZED")
    )


def open_deals_at(
    at: datetime, *where: ColumnElement[bool], columns: Sequence[Any] = ()
) -> Select[Any]:
    """Deals open at `at` and matching `where` (conditions on Deal) with their state then (see
    the module docstring), one row each: `deal_id`, `owner_id`, `stage` and `stage_order`
    (NULL: stage not recorded), `amount`, `probability` (0..1, through the stage map; NULL:
    stage not recorded, so not weighted), then the extra `columns` (labelled expressions over
    Deal, e.g. today's expected close, whose history is not recorded), by their names."""
    then = _recorded_at(at, where, columns)
    now_stage, then_stage = aliased(Stage), aliased(Stage)
    today = then.c.today
    recorded = and_(
        then.c.stage.is_not(None),
        or_(then_stage.outcome.is_(None), then_stage.outcome == Outcome.OPEN),
    )
    own_probability = case((then.c.stage == then.c.current_stage, then.c.current_probability))
    probability_then = func.coalesce(
        then.c.probability, own_probability, then_stage.probability, 0.0
    )
    probability_today = func.coalesce(then.c.current_probability, now_stage.probability, 0.0)
    amount_then = func.coalesce(then.c.amount, then.c.current_amount)
    return (
        select(
            then.c.deal_id,
            then.c.owner_id,
            case((today, then.c.current_stage), (recorded, then.c.stage)).label("stage"),
            case((today, now_stage.sort_order), (recorded, then_stage.sort_order)).label(
                "stage_order"
            ),
            case((today, then.c.current_amount), else_=amount_then).label("amount"),
            case((today, probability_today), (recorded, probability_then)).label("probability"),
            *(then.c[column.name] for column in columns),
        )
        .select_from(then)
        .outerjoin(now_stage, now_stage.name == then.c.current_stage)
        .outerjoin(then_stage, then_stage.name == then.c.stage)
    )
