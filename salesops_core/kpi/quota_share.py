"""Quota rows wider than a report period (a quarter's quota seen from one of its months).

The KPIs count only quota rows lying inside the period (kpi.engine); a month of quarterly
quotas has no quota there. This read view says what the wider rows are and the period's share
of each, pro-rated by calendar days in the org time zone, for /quota, /team and /kpi to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, not_, select
from sqlalchemy.orm import Session

from salesops_core.db.models import Quota
from salesops_core.kpi.rules import at_time, quota_inside
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period
from salesops_core.timeutil import as_utc

KINDS = {1: "monthly", 3: "quarterly", 6: "half-yearly", 12: "yearly"}  # by whole months


@dataclass(frozen=True)
class WiderQuota:
    """The scope's quota rows sharing one span that reaches outside the period."""

    start: datetime  # in the period's time zone
    end: datetime
    amount: float  # summed over the scope's rows with this span
    days: float  # calendar days of the span
    shared_days: float  # calendar days the span shares with the period

    @property
    def share(self) -> float:
        """The period's part of the amount, pro-rated by days."""
        return self.amount * self.shared_days / self.days

    @property
    def kind(self) -> str | None:
        """ "quarterly", "yearly"...: spans of whole calendar months; None for others."""
        if self.start.day != 1 or self.end.day != 1 or self.start.time() != self.end.time():
            return None
        months = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        return KINDS.get(months)


def _days(start: datetime, end: datetime) -> float:
    """Calendar days from start to end, on the local clock (a 25-hour day counts as one)."""
    return (end.replace(tzinfo=None) - start.replace(tzinfo=None)).total_seconds() / 86400


def wider_quotas(session: Session, scope: Scope, period: Period) -> list[WiderQuota]:
    """The scope's quota rows overlapping the period but reaching outside it, summed per span,
    earliest first (one grouped query)."""
    rows = session.execute(
        select(Quota.period_start, Quota.period_end, func.sum(Quota.amount))
        .where(
            Quota.period_start < at_time(period.end),
            Quota.period_end > at_time(period.start),
            not_(quota_inside(period)),
            Quota.amount > 0,
            in_scope(Quota.rep_id, scope),
        )
        .group_by(Quota.period_start, Quota.period_end)
        .order_by(Quota.period_start, Quota.period_end)
    ).all()
    tz = period.start.tzinfo
    wider = []
    for start, end, amount in rows:
        start, end = as_utc(start).astimezone(tz), as_utc(end).astimezone(tz)
        shared = _days(max(start, period.start), min(end, period.end))
        wider.append(WiderQuota(start, end, float(amount), _days(start, end), shared))
    return wider
