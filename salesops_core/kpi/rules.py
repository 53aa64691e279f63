"""What counts, as SQL expressions: closed in a period, open at a moment, stale, due, inside.

Each rule is written once here and used by the KPI queries, the read views and `explain`, so a
number and the records listed behind it can never disagree.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    ScalarSelect,
    and_,
    case,
    cast,
    func,
    literal,
    or_,
    select,
)
from sqlalchemy.orm import Session

from salesops_core.db.engine import is_postgres
from salesops_core.db.models import (
    SELLING_ACTIVITY_TYPES,
    Activity,
    ActivityType,
    Deal,
    Lead,
    Quota,
)
from salesops_core.periods import Period
from salesops_core.timeutil import UtcDateTime

MEETING_TYPES = (ActivityType.MEETING, ActivityType.DEMO)


def at_time(value: datetime) -> ColumnElement[datetime]:
    """A typed time-stamp literal (stored as naive UTC like the columns)."""
    return literal(value, UtcDateTime())


def seconds_between(session: Session, later: Any, earlier: Any) -> ColumnElement[float]:
    """`later - earlier` in seconds: julianday() on SQLite (rounded to ms), epoch on Postgres."""
    if is_postgres(session):
        return cast(func.extract("epoch", later - earlier), Float)
    return func.round((func.julianday(later) - func.julianday(earlier)) * 86400.0, 3)


def closed_in(period: Period) -> ColumnElement[bool]:
    """The deal's close time falls in [start, end): it is won or lost in that period."""
    return and_(Deal.closed_at >= at_time(period.start), Deal.closed_at < at_time(period.end))


def open_at(at: datetime) -> ColumnElement[bool]:
    """A deal is open at `at` when created before it and not closed before it."""
    return and_(
        Deal.created_at < at_time(at),
        or_(Deal.closed_at.is_(None), Deal.closed_at >= at_time(at)),
    )


def last_activity_before(at: datetime) -> ScalarSelect[datetime]:
    """When the deal's latest activity before `at` started (correlated to Deal; NULL if none)."""
    return (
        select(func.max(Activity.started_at))
        .where(Activity.deal_id == Deal.id, Activity.started_at < at_time(at))
        .correlate(Deal)
        .scalar_subquery()
    )


def last_touch_before(at: datetime) -> ColumnElement[datetime]:
    """The deal's latest activity before `at`; its creation when it has none."""
    return func.coalesce(last_activity_before(at), Deal.created_at)


def quiet_at(at: datetime, stale_deal_days: float) -> ColumnElement[bool]:
    """No activity on the deal in the `stale_deal_days` before `at` (see `last_touch_before`)."""
    return last_touch_before(at) < at_time(at - timedelta(days=stale_deal_days))


def past_close_at(at: datetime) -> ColumnElement[bool]:
    """The deal's expected close is before `at`."""
    return Deal.expected_close < at_time(at)


def stale_at(at: datetime, stale_deal_days: float) -> ColumnElement[bool]:
    """The one definition of a stale deal at `at`: quiet for `stale_deal_days` (`quiet_at`),
    or past its expected close (`past_close_at`)."""
    return or_(quiet_at(at, stale_deal_days), past_close_at(at))


def due_in(period: Period) -> ColumnElement[bool]:
    """The deal is expected to close in [start, end) (the pipeline that coverage counts)."""
    return and_(
        Deal.expected_close >= at_time(period.start), Deal.expected_close < at_time(period.end)
    )


def quota_inside(period: Period) -> ColumnElement[bool]:
    """The quota row lies inside the period (rows reaching outside it are not pro-rated)."""
    return and_(
        Quota.period_start >= at_time(period.start), Quota.period_end <= at_time(period.end)
    )


def responded_by(now: datetime) -> ColumnElement[datetime]:
    """The lead's first response if given by `now`, else NULL: a later one is not given yet
    (the previous period to the same point, a run reproduced with --now)."""
    return case((Lead.first_response_at <= at_time(now), Lead.first_response_at))


def sla_met(now: datetime) -> ColumnElement[int]:
    """1 for a lead answered by `now` and by its stored deadline (`sla_due_at`), else 0."""
    return case((responded_by(now) <= Lead.sla_due_at, 1), else_=0)


def sla_decided(now: datetime) -> ColumnElement[int]:
    """1 for a lead whose SLA is decided at `now`: it has a deadline and was answered or the
    deadline has passed. A lead without a deadline (not yet given one by the lead engine or
    `fill_sla_deadlines`) is not decided: it counts neither as met nor as missed."""
    answered_or_late = or_(responded_by(now).is_not(None), Lead.sla_due_at < at_time(now))
    return case((and_(Lead.sla_due_at.is_not(None), answered_or_late), 1), else_=0)


def selling_activity() -> ColumnElement[bool]:
    """The activity is selling time: a call, email, meeting or demo."""
    return Activity.type.in_(SELLING_ACTIVITY_TYPES)


def prospect_meeting() -> ColumnElement[bool]:
    """The activity is a prospect meeting: a meeting or demo with an external attendee."""
    return and_(Activity.type.in_(MEETING_TYPES), Activity.external_attendee.is_(True))


def response_minutes_expr(session: Session, now: datetime) -> ColumnElement[float]:
    """Minutes from creation to first response; leads unanswered at `now` count up to it."""
    responded = func.coalesce(responded_by(now), at_time(now))
    return seconds_between(session, responded, Lead.created_at) / 60.0
