"""The grouped SQL behind the KPIs: each query returns one row of partial sums per rep.

Every query covers a whole scope and groups by the owning rep, so the scope's numbers and its
leaderboard come from the same few queries (never one query per rep). The partial sums are
additive, so a team is the sum of its reps and the org the sum of everything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    and_,
    case,
    func,
    not_,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.engine import is_postgres
from salesops_core.db.models import (
    Activity,
    Deal,
    Forecast,
    Lead,
    Outcome,
    Quota,
    Rep,
)
from salesops_core.kpi.asof import open_deals_at
from salesops_core.kpi.conversion import CONVERSION_SPLIT, start_outcomes
from salesops_core.kpi.percentiles import grouped_quantile, quantile
from salesops_core.kpi.rules import (
    at_time,
    closed_in,
    due_in,
    prospect_meeting,
    quota_inside,
    responded_by,
    response_minutes_expr,
    seconds_between,
    selling_activity,
    sla_decided,
    sla_met,
    stale_at,
)
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period

Partials = dict[int | None, dict[str, Any]]
DEFAULT_FORECAST_CATEGORY = "commit"


def _to_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _merge(target: Partials, result: Any) -> None:
    """Add each row's sums into the owner's partials (sums from several queries add up)."""
    keys = list(result.keys())
    owner_at = keys.index("owner")
    fields = [(i, key) for i, key in enumerate(keys) if i != owner_at]
    for row in result:
        partial = target.setdefault(row[owner_at], {})
        for i, key in fields:
            value = row[i]
            if key == "submitted_at":
                partial[key] = value
            elif value is None:
                partial.setdefault(key, None)
            else:
                partial[key] = (partial.get(key) or 0.0) + float(value)


def closed_deals(session: Session, scope: Scope, period: Period, partials: Partials) -> None:
    """Won and lost deals whose close time falls in [start, end), per owner."""
    won = Deal.outcome == Outcome.WON
    cycle = seconds_between(session, Deal.closed_at, Deal.created_at) / 86400.0
    query = (
        select(
            Deal.owner_id.label("owner"),
            func.sum(case((won, 1), else_=0)).label("won_count"),
            func.sum(case((Deal.outcome == Outcome.LOST, 1), else_=0)).label("lost_count"),
            func.coalesce(func.sum(case((won, Deal.amount))), 0).label("won_amount"),
            func.count(case((won, Deal.amount))).label("won_with_amount"),
            func.coalesce(func.sum(case((won, cycle))), 0).label("cycle_days_sum"),
        )
        .where(
            closed_in(period), in_scope(Deal.owner_id, scope)
        )  # no outcome filter here: SQLite would then walk the outcome index (all closed deals)
        .group_by(Deal.owner_id)
    )
    _merge(partials, session.execute(query))


def open_pipeline(
    session: Session, scope: Scope, period: Period, at: datetime, org: OrgConfig, partials: Partials
) -> None:
    """Deals open at `at`, each as of then (`kpi.asof`): count, amount, weighted amount (a deal
    whose stage then is not recorded is not weighted), due-in-period amount and weighted
    amount, stale count."""
    deals = open_deals_at(
        at,
        in_scope(Deal.owner_id, scope),
        columns=(due_in(period).label("due"), stale_at(at, org.stale_deal_days).label("stale")),
    ).subquery()
    query = select(
        deals.c.owner_id.label("owner"),
        func.count().label("open_count"),
        func.coalesce(func.sum(deals.c.amount), 0).label("open_amount"),
        func.coalesce(func.sum(deals.c.amount * deals.c.probability), 0).label("weighted_amount"),
        func.coalesce(func.sum(case((deals.c.due, deals.c.amount))), 0).label("due_amount"),
        func.coalesce(func.sum(case((deals.c.due, deals.c.amount * deals.c.probability))), 0).label(
            "due_weighted_amount"
        ),
        func.sum(case((deals.c.stale, 1), else_=0)).label("stale_count"),
    ).group_by(deals.c.owner_id)
    _merge(partials, session.execute(query))


def pipeline_conversion(
    session: Session,
    scope: Scope,
    period: Period,
    until: datetime,
    partials: Partials,
    *,
    due: bool = False,
) -> None:
    """The amount open at the period start and its split at `until` (won, lost, slipped,
    shrunk; see kpi.conversion); nothing before the period has started. `due`: also the part
    expected to close in the period, the pipeline a closed period's coverage is judged on
    (`start_due_amount`), from the same read of the deals open at the start."""
    if until <= period.start:
        return
    rows = start_outcomes(scope, period, until)
    query = select(
        rows.c.owner.label("owner"),
        func.sum(rows.c.start_amount).label("start_amount"),
        *(func.sum(rows.c[part]).label(f"start_{part}") for part in CONVERSION_SPLIT),
        *([func.coalesce(func.sum(rows.c.start_due), 0).label("start_due_amount")] if due else []),
    ).group_by(rows.c.owner)
    _merge(partials, session.execute(query))


def quotas(session: Session, scope: Scope, period: Period, partials: Partials) -> None:
    """Sum of each rep's quota rows lying inside the period (no pro-rating of wider rows)."""
    query = (
        select(Quota.rep_id.label("owner"), func.sum(Quota.amount).label("quota"))
        .where(quota_inside(period), in_scope(Quota.rep_id, scope))
        .group_by(Quota.rep_id)
    )
    _merge(partials, session.execute(query))


def latest_forecasts(
    session: Session,
    scope: Scope,
    period: Period,
    category: str = DEFAULT_FORECAST_CATEGORY,
    submitted_before: datetime | None = None,
) -> Any:
    """The forecast rows that count for the period, one per rep and forecast period inside it:
    each rep's own last row (team calls are not a rep's forecast) submitted before
    `submitted_before` (default: the period start, as forecast accuracy uses it); a rep with
    such a row for the whole period counts only that one (a quarter's commit is not added to
    the monthly ones inside it), others the sum of their rows for its parts. Ranked 1."""
    ranked = (
        select(
            Forecast.id,
            Forecast.rep_id,
            Forecast.amount,
            Forecast.submitted_at,
            Forecast.period_start,
            Forecast.period_end,
            func.row_number()
            .over(
                partition_by=(Forecast.rep_id, Forecast.period_start, Forecast.period_end),
                order_by=(Forecast.submitted_at.desc(), Forecast.id.desc()),
            )
            .label("rank"),
        )
        .where(
            Forecast.category == category,
            Forecast.team_id.is_(None),
            Forecast.period_start >= at_time(period.start),
            Forecast.period_end <= at_time(period.end),
            Forecast.submitted_at < at_time(submitted_before or period.start),
            in_scope(Forecast.rep_id, scope),
        )
        .subquery()
    )
    whole = and_(
        ranked.c.period_start == at_time(period.start), ranked.c.period_end == at_time(period.end)
    )
    latest = (
        select(
            ranked.c.id,
            ranked.c.rep_id,
            ranked.c.amount,
            ranked.c.submitted_at,
            ranked.c.rank,
            case((whole, 1), else_=0).label("whole"),
            func.max(case((whole, 1), else_=0))
            .over(partition_by=ranked.c.rep_id)
            .label("has_whole"),
        )
        .where(ranked.c.rank == 1)
        .subquery()
    )
    return (
        select(latest.c.id, latest.c.rep_id, latest.c.amount, latest.c.submitted_at, latest.c.rank)
        .where(latest.c.whole == latest.c.has_whole)
        .subquery()
    )


def forecasts(
    session: Session,
    scope: Scope,
    period: Period,
    partials: Partials,
    category: str = DEFAULT_FORECAST_CATEGORY,
    submitted_before: datetime | None = None,
) -> None:
    """Each rep's forecast for the period: the sum of their latest rows submitted before
    `submitted_before` (default: the period start)."""
    ranked = latest_forecasts(session, scope, period, category, submitted_before)
    query = (
        select(
            ranked.c.rep_id.label("owner"),
            func.sum(ranked.c.amount).label("forecast"),
            func.max(ranked.c.submitted_at).label("submitted_at"),
        )
        .where(ranked.c.rank == 1)
        .group_by(ranked.c.rep_id)
    )
    _merge(partials, session.execute(query))


def leads(
    session: Session,
    scope: Scope,
    period: Period,
    now: datetime,
    partials: Partials,
) -> tuple[dict[str, float | None], Partials]:
    """Postgres: leads created in the period in ONE scan, per owner and for the whole scope.

    Counts (leads, answered, unanswered, SLA met / decided) go into `partials`; the response
    percentiles (median of answered leads, p90 with unanswered ones counted at now) come back
    for the scope (the empty grouping set) and per owner.
    """
    answered = responded_by(now).is_not(None)
    minutes = response_minutes_expr(session, now)
    query = (
        select(
            Lead.owner_id.label("owner"),
            func.grouping(Lead.owner_id).label("whole_scope"),
            func.count().label("leads"),
            func.count(responded_by(now)).label("leads_answered"),
            func.sum(case((not_(answered), 1), else_=0)).label("leads_unanswered"),
            func.sum(sla_met(now)).label("sla_met"),
            func.sum(sla_decided(now)).label("sla_decided"),
            func.percentile_cont(0.5).within_group(minutes).filter(answered).label("median"),
            func.percentile_cont(0.9).within_group(minutes).label("p90"),
        )
        .where(
            Lead.created_at >= at_time(period.start),
            Lead.created_at < at_time(period.end),
            in_scope(Lead.owner_id, scope),
        )
        .group_by(func.grouping_sets(Lead.owner_id, tuple_()))
    )
    total: dict[str, float | None] = {"median": None, "p90": None}
    per_owner: Partials = {}
    for row in session.execute(query):
        values = {"median": _to_float(row.median), "p90": _to_float(row.p90)}
        if row.whole_scope:
            total = values
            continue
        per_owner[row.owner] = values
        partial = partials.setdefault(row.owner, {})
        for key in ("leads", "leads_answered", "leads_unanswered", "sla_met", "sla_decided"):
            partial[key] = (partial.get(key) or 0.0) + float(getattr(row, key))
    return total, per_owner


def lead_numbers(
    session: Session,
    scope: Scope,
    period: Period,
    now: datetime,
    partials: Partials,
) -> tuple[dict[str, float | None], Partials]:
    """Lead counts into `partials`; response-time percentiles for the scope and per owner.

    Postgres: grouped counts and percentile_cont in SQL. SQLite has no percentile, so the
    period's leads are fetched once as (owner, seconds waited, answered, SLA met, SLA decided)
    in owner order and numpy computes the counts and the same linear-interpolation percentiles
    (`kpi.percentiles`). SLA met / decided read the lead's stored deadline only (`sla_decided`).
    """
    if is_postgres(session):
        return leads(session, scope, period, now, partials)
    waited = seconds_between(
        session, func.coalesce(responded_by(now), at_time(now)), Lead.created_at
    )
    values = _numeric_rows(
        session,
        select(
            func.coalesce(Lead.owner_id, NO_OWNER),
            waited,
            responded_by(now).is_not(None),
            sla_met(now),
            sla_decided(now),
        )
        .where(
            Lead.created_at >= at_time(period.start),
            Lead.created_at < at_time(period.end),
            in_scope(Lead.owner_id, scope),
        )
        .order_by(Lead.owner_id),  # the (owner_id, created_at) index: no sort, fewer page hops
    )
    if values is None:
        return {"median": None, "p90": None}, {}
    owners, minutes, answered = values[:, 0].astype("int64"), values[:, 1] / 60.0, values[:, 2] != 0
    owner_ids, row_owner = np.unique(owners, return_inverse=True)
    sums = {
        key: np.bincount(row_owner, weights=weights, minlength=len(owner_ids))
        for key, weights in (
            ("leads", None),
            ("leads_answered", answered),
            ("leads_unanswered", ~answered),
            ("sla_met", values[:, 3]),
            ("sla_decided", values[:, 4]),
        )
    }
    for i, owner in enumerate(owner_ids.tolist()):
        partial = partials.setdefault(_owner(owner), {})
        for key, column in sums.items():
            partial[key] = (partial.get(key) or 0.0) + float(column[i])
    per_owner: Partials = {
        _owner(owner): percentiles
        for owner, percentiles in _response_percentiles(owners, minutes, answered).items()
    }
    total = {"median": quantile(minutes[answered], 0.5), "p90": quantile(minutes, 0.9)}
    return total, per_owner


def _response_percentiles(
    groups: np.ndarray, minutes: np.ndarray, answered: np.ndarray
) -> dict[int, dict[str, float | None]]:
    """Per group, the median minutes of the answered leads and the p90 of all (None: no
    answered lead), as `percentile_cont` gives them on Postgres."""
    result: dict[int, dict[str, float | None]] = {
        int(group): {"median": None, "p90": float(p90)}
        for group, p90 in zip(*grouped_quantile(groups, minutes, 0.9), strict=True)
    }
    medians = grouped_quantile(groups[answered], minutes[answered], 0.5)
    for group, median in zip(*medians, strict=True):
        result[int(group)]["median"] = float(median)
    return result


NO_OWNER = -1  # a lead without an owner, in numeric rows


def _owner(owner: int) -> int | None:
    return None if owner == NO_OWNER else owner


def _numeric_rows(session: Session, query: Any) -> np.ndarray | None:
    """The rows of an all-numeric query as one float array (None when there are none): raw
    DBAPI tuples (no result processing is needed) in one C conversion, 2x faster than rows."""
    result = session.connection().execute(query)
    try:
        raw = result.cursor.fetchall()
    finally:
        result.close()
    return np.array(raw, dtype="float64") if raw else None


def lead_percentiles_by_team(
    session: Session, scope: Scope, period: Period, now: datetime
) -> dict[int, dict[str, float | None]]:
    """Each team's lead-response median and p90 (leads created in the period, owners on a
    team in the scope): the numbers `lead_numbers` gives a team scope, for every team at once.

    Percentiles do not add up over reps, so one grouped read serves all teams; it computes each
    team's values exactly as `lead_numbers` computes a scope's (percentile_cont on Postgres,
    the same interpolation over the same minutes on SQLite).
    """
    answered = responded_by(now).is_not(None)
    in_period = (
        Lead.created_at >= at_time(period.start),
        Lead.created_at < at_time(period.end),
        in_scope(Lead.owner_id, scope),
        Rep.team_id.is_not(None),
    )
    if is_postgres(session):
        minutes = response_minutes_expr(session, now)
        rows = session.execute(
            select(
                Rep.team_id,
                func.percentile_cont(0.5).within_group(minutes).filter(answered),
                func.percentile_cont(0.9).within_group(minutes),
            )
            .join(Rep, Rep.id == Lead.owner_id)
            .where(*in_period)
            .group_by(Rep.team_id)
        ).all()
        return {team: {"median": _to_float(m), "p90": _to_float(p)} for team, m, p in rows}
    waited = seconds_between(
        session, func.coalesce(responded_by(now), at_time(now)), Lead.created_at
    )
    values = _numeric_rows(
        session,
        select(Rep.team_id, waited, answered).join(Rep, Rep.id == Lead.owner_id).where(*in_period),
    )
    if values is None:
        return {}
    return _response_percentiles(
        values[:, 0].astype("int64"), values[:, 1] / 60.0, values[:, 2] != 0
    )


def activities(
    session: Session, scope: Scope, period: Period, until: datetime, partials: Partials
) -> None:
    """Activities started in [start, until): selling / logged minutes, prospect meetings."""
    selling = selling_activity()
    meeting = prospect_meeting()
    query = (
        select(
            Activity.rep_id.label("owner"),
            func.count().label("activity_count"),
            func.coalesce(func.sum(case((selling, Activity.minutes))), 0).label("selling_minutes"),
            func.coalesce(func.sum(Activity.minutes), 0).label("logged_minutes"),
            func.sum(case((meeting, 1), else_=0)).label("meetings"),
        )
        .where(
            Activity.started_at >= at_time(period.start),
            Activity.started_at < at_time(until),
            in_scope(Activity.rep_id, scope),
        )
        .group_by(Activity.rep_id)
    )
    _merge(partials, session.execute(query))
