"""Weekly forecast snapshots: what each rep had submitted and their open pipeline, week by week.

A snapshot row is (rep, forecast quarter, week), the week being the org-local Monday of the
moment it is taken. It holds the rep's latest commit and best case submitted before that
moment for the quarter (team calls are not a rep's forecast) and, in its lines, ALL the rep's
deals open then by stage (deals, amount, weighted by stage probability; as of then through
`kpi.asof`, so a past moment reads the stage history), whatever their expected close: the
same lines stand under both forecast quarters. Taken again in the same week it adds and
changes nothing, so "what did we think three weeks ago" keeps one answer.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Select, case, func, insert, literal, select, union_all
from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.engine import upsert_insert
from salesops_core.db.models import (
    Deal,
    Forecast,
    ForecastSnapshot,
    ForecastSnapshotLine,
    Quota,
    Rep,
)
from salesops_core.forecast.submissions import BEST_CASE, COMMIT, open_quarters
from salesops_core.kpi.asof import STAGE_NOT_RECORDED, open_deals_at
from salesops_core.kpi.queries import latest_forecasts
from salesops_core.kpi.rules import at_time, quota_inside
from salesops_core.org.scopes import ORG_SCOPE, Scope, in_scope
from salesops_core.periods import Period, week_period
from salesops_core.timeutil import as_utc

SNAPSHOT_TIME = time(6, 0)  # the scheduler takes a week's snapshot on Monday at 06:00 org time


def snapshot_week(org: OrgConfig, moment: datetime) -> date:
    """The org-local Monday of `moment`'s week: the key of the snapshot taken then."""
    return week_period(moment.astimezone(org.tz).date(), org.tz).start.date()


@dataclass(frozen=True)
class SnapshotRun:
    """What one `take_snapshots` did: the week, its quarters, rows written and found."""

    week: date
    quarters: list[Period]
    reps: int  # reps snapshotted this week (now or before), for one quarter or both
    taken: int  # (rep, quarter) rows written now
    already_taken: int  # rows this week already had


def snapshot_moment(org: OrgConfig, week: date) -> datetime:
    """When the scheduler takes the snapshot of the week of `week` (its Monday): 06:00 org
    time, a wall-clock time, so it stays 06:00 across a DST change."""
    return datetime.combine(week, SNAPSHOT_TIME, tzinfo=org.tz)


def weekly_moments(org: OrgConfig, since: datetime, now: datetime) -> list[datetime]:
    """The moments in [since, now] the scheduler takes a week's snapshot, oldest first."""
    monday = snapshot_week(org, since)
    moments: list[datetime] = []
    while True:
        moment = snapshot_moment(org, monday)
        if moment > now:
            return moments
        if moment >= since:
            moments.append(moment)
        monday += timedelta(weeks=1)


def take_past_snapshots(
    session: Session, org: OrgConfig, since: datetime, now: datetime
) -> list[SnapshotRun]:
    """The snapshots a scheduler running since `since` would have taken by `now`, each as of
    its own Monday (what was submitted and open then); weeks already taken stay as they are."""
    return [take_snapshots(session, org, moment) for moment in weekly_moments(org, since, now)]


def week_taken(session: Session, week: date) -> bool:
    """True when the week of `week` (its Monday) already has a snapshot row."""
    return (
        session.scalar(select(ForecastSnapshot.id).where(ForecastSnapshot.week == week).limit(1))
        is not None
    )


def take_snapshots(session: Session, org: OrgConfig, now: datetime) -> SnapshotRun:
    """Snapshot every active rep with a quota, a forecast or open deals for the forecast
    quarters, as of `now` (a past `now` reads what was known then), keyed by `now`'s week;
    rows this week already has are left as they are. A few set-based reads for the whole org,
    none per rep."""
    week = snapshot_week(org, now)
    quarters = list(open_quarters(now, org))  # the quarters a forecast may be for
    submitted = _submitted(session, quarters, now)
    pipeline = _pipeline_by_rep(session, now)
    with_quota = _quota_reps(session, quarters)
    active = session.scalars(select(Rep.id).where(Rep.active.is_(True)).order_by(Rep.id)).all()
    wanted = [
        (rep_id, index)
        for index in range(len(quarters))
        for rep_id in active
        if rep_id in pipeline or (rep_id, index) in submitted or (rep_id, index) in with_quota
    ]
    if not wanted:
        return SnapshotRun(week, quarters, 0, 0, 0)
    taken_at = as_utc(now)
    rows = []
    for rep_id, index in wanted:
        commit, best_case, submitted_at = submitted.get((rep_id, index), (None, None, None))
        rows.append(
            {
                "rep_id": rep_id,
                "period_start": quarters[index].start,
                "period_end": quarters[index].end,
                "week": week,
                "taken_at": taken_at,
                "commit_amount": commit,
                "best_case_amount": best_case,
                "submitted_at": submitted_at,
            }
        )
    written = session.execute(
        upsert_insert(session, ForecastSnapshot)
        .on_conflict_do_nothing(index_elements=["rep_id", "period_start", "period_end", "week"])
        .returning(ForecastSnapshot.id, ForecastSnapshot.rep_id),
        rows,
    ).all()
    lines = [
        {"snapshot_id": snapshot_id, **line}
        for snapshot_id, rep_id in written
        for line in pipeline.get(rep_id, ())
    ]
    if lines:
        session.execute(insert(ForecastSnapshotLine), lines)
    reps = len({rep_id for rep_id, _ in wanted})
    return SnapshotRun(week, quarters, reps, len(written), len(rows) - len(written))


def _submitted(
    session: Session, quarters: list[Period], now: datetime
) -> dict[tuple[int, int], tuple[float | None, float | None, datetime | None]]:
    """(rep, quarter index) -> (commit, best case, when that commit was submitted): each
    rep's latest rows submitted before `now` per forecast period inside a quarter, summed;
    one query for both categories and all quarters."""
    span = Period(quarters[0].start, quarters[-1].end, "forecast quarters")
    which = case(
        *(
            (
                (Forecast.period_start >= at_time(q.start))
                & (Forecast.period_end <= at_time(q.end)),
                index,
            )
            for index, q in enumerate(quarters)
        )
    )
    parts = []
    for category in (COMMIT, BEST_CASE):
        ranked = latest_forecasts(session, ORG_SCOPE, span, category, submitted_before=now)
        parts.append(
            select(
                ranked.c.rep_id,
                which.label("quarter"),
                literal(category).label("category"),
                ranked.c.amount,
                ranked.c.submitted_at,
            )
            .join(Forecast, Forecast.id == ranked.c.id)
            .where(ranked.c.rank == 1)
        )
    rows = union_all(*parts).subquery()
    grouped = session.execute(
        select(
            rows.c.rep_id,
            rows.c.quarter,
            rows.c.category,
            func.sum(rows.c.amount),
            func.max(rows.c.submitted_at),
        )
        .where(rows.c.quarter.is_not(None))
        .group_by(rows.c.rep_id, rows.c.quarter, rows.c.category)
    ).all()
    result: dict[tuple[int, int], tuple[float | None, float | None, datetime | None]] = {}
    for rep_id, quarter, category, amount, submitted_at in grouped:
        commit, best_case, when = result.get((rep_id, quarter), (None, None, None))
        if category == COMMIT:
            commit, when = float(amount), submitted_at
        else:
            best_case = float(amount)
        result[(rep_id, quarter)] = (commit, best_case, when)
    return result


def _pipeline_by_rep(session: Session, now: datetime) -> dict[int, list[dict[str, Any]]]:
    """Each rep's deals open at `now` by stage as of then (one grouped query over `kpi.asof`):
    deals, amount, weighted (0 for deals whose stage then is not recorded: never weighted,
    as in `weighted_pipeline_value`)."""
    deals = open_deals_at(now, in_scope(Deal.owner_id, ORG_SCOPE)).subquery()
    query = select(
        deals.c.owner_id,
        deals.c.stage,
        func.count(),
        func.coalesce(func.sum(deals.c.amount), 0),
        func.coalesce(func.sum(deals.c.amount * deals.c.probability), 0),
    ).group_by(deals.c.owner_id, deals.c.stage)
    by_rep: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for owner_id, stage, deals_open, amount, weighted in session.execute(query):
        by_rep[owner_id].append(
            {
                "stage": STAGE_NOT_RECORDED if stage is None else stage,
                "deals": int(deals_open),
                "amount": float(amount),
                "weighted": float(weighted),
            }
        )
    return by_rep


def _quota_reps(session: Session, quarters: list[Period]) -> set[tuple[int, int]]:
    """(rep, quarter index) for every quota row inside a forecast quarter."""
    found: set[tuple[int, int]] = set()
    which = case(*((quota_inside(q), index) for index, q in enumerate(quarters)))
    query = select(Quota.rep_id, which).where(which.is_not(None)).distinct()
    for rep_id, index in session.execute(query):
        found.add((rep_id, index))
    return found


# ---- reading them back -----------------------------------------------------------------


@dataclass(frozen=True)
class WeekTotals:
    """A scope's snapshot of one week for one quarter, summed over its reps (None where no
    rep had submitted one; None everywhere when that week has no snapshot in the scope)."""

    week: date
    reps: int  # reps with a snapshot that week
    commit: float | None
    best_case: float | None
    pipeline: float | None
    weighted: float | None
    taken_at: datetime | None  # the latest of those snapshots

    def to_json(self) -> dict[str, Any]:
        """The row of `salesops forecast history --format json`."""
        return {
            "week": self.week.isoformat(),
            "reps": self.reps,
            "commit": self.commit,
            "best_case": self.best_case,
            "open_pipeline": self.pipeline,
            "weighted_pipeline": self.weighted,
            "taken_at": None if self.taken_at is None else self.taken_at.isoformat(),
        }


def _week_totals(scope: Scope, period: Period, first: date, last: date) -> Select[Any]:
    """Per week in [first, last]: the scope's snapshots of `period` summed (lines summed per
    snapshot first, so a snapshot's commit is counted once)."""
    lines = (
        select(
            ForecastSnapshotLine.snapshot_id,
            func.sum(ForecastSnapshotLine.amount).label("amount"),
            func.sum(ForecastSnapshotLine.weighted).label("weighted"),
        )
        .group_by(ForecastSnapshotLine.snapshot_id)
        .subquery()
    )
    return (
        select(
            ForecastSnapshot.week,
            func.count(),
            func.sum(ForecastSnapshot.commit_amount),
            func.sum(ForecastSnapshot.best_case_amount),
            func.coalesce(func.sum(lines.c.amount), 0),
            func.coalesce(func.sum(lines.c.weighted), 0),
            func.max(ForecastSnapshot.taken_at),
        )
        .outerjoin(lines, lines.c.snapshot_id == ForecastSnapshot.id)
        .where(
            ForecastSnapshot.period_start == at_time(period.start),
            ForecastSnapshot.period_end == at_time(period.end),
            ForecastSnapshot.week >= first,
            ForecastSnapshot.week <= last,
            in_scope(ForecastSnapshot.rep_id, scope),
        )
        .group_by(ForecastSnapshot.week)
    )


def snapshot_history(
    session: Session, scope: Scope, period: Period, last_week: date, weeks: int
) -> list[WeekTotals]:
    """The scope's snapshots of `period` for the `weeks` weeks ending with `last_week` (a
    Monday), oldest first; a week without a snapshot is listed with nothing in it."""
    first = last_week - timedelta(weeks=weeks - 1)
    found = {
        row[0]: _totals(row)
        for row in session.execute(_week_totals(scope, period, first, last_week))
    }
    mondays = (first + timedelta(weeks=n) for n in range(weeks))
    return [found.get(day, WeekTotals(day, 0, None, None, None, None, None)) for day in mondays]


def _totals(row: Any) -> WeekTotals:
    week, reps, commit, best_case, pipeline, weighted, taken_at = row
    return WeekTotals(
        week=week,
        reps=int(reps),
        commit=None if commit is None else float(commit),
        best_case=None if best_case is None else float(best_case),
        pipeline=float(pipeline),
        weighted=float(weighted),
        taken_at=None if taken_at is None else as_utc(taken_at),
    )
