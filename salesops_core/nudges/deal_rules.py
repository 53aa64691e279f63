"""The deal rules: stale_deal (each person's biggest quiet deals) and past_close (one per person:
the count of late deals and one example no stale_deal nudge names), from ONE query over the
open stale deals (`kpi.rules.stale_at`)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from salesops_core.config import NudgeRule, OrgConfig
from salesops_core.db.models import Deal
from salesops_core.kpi.format import money, plural, whole_days
from salesops_core.kpi.rules import (
    last_touch_before,
    open_at,
    past_close_at,
    quiet_at,
    stale_at,
)
from salesops_core.nudges.context import Context
from salesops_core.nudges.facts import DEFERRALS, Action, Nudge
from salesops_core.nudges.people import Person
from salesops_core.org.scopes import in_scope

PAST_CLOSE_SUBJECT = "deals:past-close"


def _deal_label(row: Any) -> str:
    return str(row.name or row.account or row.external_id)


def _deal_text(row: Any) -> str:
    label = _deal_label(row)
    return f"{label} ({money(row.amount)})" if row.amount is not None else label


DEAL_SUBJECT = "deal:"  # a stale_deal nudge's subject: "deal:<external id>"


def _deal_subject(row: Any) -> str:
    return f"{DEAL_SUBJECT}{row.external_id}"


def _local_day(moment: datetime, org: OrgConfig) -> str:
    local = moment.astimezone(org.tz)
    return f"{local:%b} {local.day}"


def deal_nudges(session: Session, ctx: Context) -> list[Nudge]:
    """stale_deal (each person's biggest quiet deals) and past_close (one per person: the count
    and the biggest late deal no stale_deal nudge of theirs names that day, or the count alone),
    from ONE query over the open stale deals (`stale_at`)."""
    now, stale_days = ctx.now, ctx.config.stale_days(ctx.org)
    per_person = ctx.config.stale_deals_per_person
    stale = (
        select(
            Deal.id,
            Deal.external_id,
            Deal.name,
            Deal.account,
            Deal.amount,
            Deal.owner_id,
            Deal.expected_close,
            last_touch_before(now).label("touched"),
            quiet_at(now, stale_days).label("quiet"),
            func.coalesce(past_close_at(now), False).label("past"),
        )
        .where(
            open_at(now),
            stale_at(now, stale_days),
            in_scope(Deal.owner_id, ctx.scope),
            Deal.owner_id.isnot(None),
        )
        .subquery()
    )
    by_quiet = select(
        stale,
        func.row_number()
        .over(
            partition_by=(stale.c.owner_id, stale.c.quiet),
            order_by=(func.coalesce(stale.c.amount, 0).desc(), stale.c.id),
        )
        .label("quiet_rank"),
        func.sum(case((stale.c.past, 1), else_=0))
        .over(partition_by=stale.c.owner_id)
        .label("past_count"),
    ).subquery()
    named = and_(by_quiet.c.quiet, by_quiet.c.quiet_rank <= per_person)  # a stale_deal nudge
    ranked = select(
        by_quiet,
        named.label("named"),
        func.row_number()  # past_close example candidates: late deals not named, biggest first
        .over(
            partition_by=(by_quiet.c.owner_id, by_quiet.c.past),
            order_by=(named, func.coalesce(by_quiet.c.amount, 0).desc(), by_quiet.c.id),
        )
        .label("past_rank"),
    ).subquery()
    # enough candidates to skip the deals named by stale_deal nudges sent earlier today
    candidates = 1 + max((len(subjects) for subjects in ctx.named_today.values()), default=0)
    query = select(ranked).where(
        or_(ranked.c.named, and_(ranked.c.past, ranked.c.past_rank <= candidates))
    )
    rows: dict[int, list[Any]] = defaultdict(list)
    for row in session.execute(query):
        if row.owner_id in ctx.people:
            rows[row.owner_id].append(row)
    found: list[Nudge] = []
    for owner_id in sorted(rows):
        person, own = ctx.people[owner_id], rows[owner_id]
        quiet = sorted((row for row in own if row.named), key=lambda row: row.quiet_rank)
        found += [_stale_deal(row, person, ctx) for row in quiet]
        if own[0].past_count:
            taken = {_deal_subject(row) for row in quiet} | ctx.named_today.get(
                owner_id, frozenset()
            )
            late = sorted((row for row in own if row.past), key=lambda row: row.past_rank)
            example = next((row for row in late if _deal_subject(row) not in taken), None)
            found.append(_past_close(person, int(own[0].past_count), example, late, ctx.org))
    return found


def _deal_fields(row: Any, person: Person, org: OrgConfig) -> dict[str, Any]:
    """A deal nudge's person and deal, and the CRM link when `[org] deal_url` is set."""
    return {
        "rep_id": person.rep_id,
        "rep": person.name,
        "deal_id": row.id,
        "deal_external_id": row.external_id,
        "crm_url": org.deal_link(row.external_id),
    }


def _stale_deal(row: Any, person: Person, ctx: Context) -> Nudge:
    fields = _deal_fields(row, person, ctx.org)
    quiet_days = (ctx.now - row.touched) / timedelta(days=1)
    return Nudge(
        rule=NudgeRule.STALE_DEAL,
        subject=_deal_subject(row),
        fact=f"{_deal_text(row)} has had no activity for {whole_days(quiet_days)}",
        why="Deals that go quiet rarely close: log the next step, or close it out.",
        actions=(Action.LOG_ACTIVITY, *_opening(fields), *DEFERRALS),
        value=quiet_days,
        target=ctx.config.stale_days(ctx.org),
        **fields,
    )


def _opening(fields: Mapping[str, Any]) -> tuple[Action, ...]:
    return (Action.OPEN_DEAL,) if fields.get("crm_url") else ()


def _past_close(
    person: Person, count: int, example: Any | None, late: list[Any], org: OrgConfig
) -> Nudge:
    """The count of late deals and an example: the biggest late deal no stale_deal nudge names
    ("the biggest" when no bigger one is late), or the count alone when every one is named."""
    fields: dict[str, Any] = {"rep_id": person.rep_id, "rep": person.name}
    if example is None:
        fact = (
            f"{plural(count, 'deal')} is past its expected close"
            if count == 1
            else f"{plural(count, 'deal')} are past their expected close"
        )
    else:
        fields = _deal_fields(example, person, org)
        due = _local_day(example.expected_close, org)
        biggest = max(late, key=lambda row: (row.amount or 0, -row.id)) is example
        if count == 1:
            fact = f"{_deal_text(example)} is past its expected close ({due})"
        elif biggest:
            fact = (
                f"{plural(count, 'deal')} are past their expected close; "
                f"the biggest, {_deal_text(example)}, was due {due}"
            )
        else:
            fact = (
                f"{plural(count, 'deal')} are past their expected close, "
                f"among them {_deal_text(example)}, due {due}"
            )
    return Nudge(
        rule=NudgeRule.PAST_CLOSE,
        subject=PAST_CLOSE_SUBJECT,
        fact=fact,
        why="Close dates in the past make the pipeline and the forecast look better than they are.",
        actions=(*_opening(fields), *DEFERRALS),
        value=count,
        **fields,
    )


def still_quiet(
    session: Session, subjects: set[str], now: datetime, stale_deal_days: float
) -> set[str]:
    """Which of these stale_deal subjects ("deal:<external id>") are deals still open and quiet
    at `now` (one query)."""
    if not subjects:
        return set()
    external_ids = [s.removeprefix(DEAL_SUBJECT) for s in subjects]
    query = select(Deal.external_id).where(
        Deal.external_id.in_(external_ids), open_at(now), quiet_at(now, stale_deal_days)
    )
    return {_deal_subject(row) for row in session.execute(query)}
