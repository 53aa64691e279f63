"""Read views of leads: who is still waiting for an answer, whose deadline passed, and which
`[[sla]]` sources match no lead (the unanswered split of a period is a KPI: `kpi/details`).

An open lead is one still waiting for its first response: status open (neither responded nor
closed) and no first response recorded. `is_open` is that definition; everything that lists,
counts or escalates open leads uses it (the lead engine's sweep, /leads, App Home, the CLI).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, selectinload

from salesops_core.config import SlaPolicy
from salesops_core.db.models import Lead, LeadStatus, Rep
from salesops_core.org.scopes import Scope, in_scope
from salesops_core.periods import Period
from salesops_core.timeutil import utcnow


def is_open() -> ColumnElement[bool]:
    """The one definition of an open lead: status open and no first response yet."""
    return and_(Lead.status == LeadStatus.OPEN, Lead.first_response_at.is_(None))


@dataclass(frozen=True)
class WaitingLead:
    """One open lead as a list shows it."""

    external_id: str
    company: str | None
    source: str | None
    created_at: datetime
    owner: str | None  # the owner's name; None when unassigned


@dataclass(frozen=True)
class WaitingLeads:
    """How many open leads there are, and the oldest few of them."""

    total: int
    oldest: list[WaitingLead]


def waiting_leads(
    session: Session, scope: Scope, *, limit: int, created_in: Period | None = None
) -> WaitingLeads:
    """The scope's open leads (only those created in `created_in` when given), oldest first:
    their number and the first `limit`, in one query."""
    conditions = [is_open(), in_scope(Lead.owner_id, scope)]
    if created_in is not None:
        conditions += [Lead.created_at >= created_in.start, Lead.created_at < created_in.end]
    rows = session.execute(
        select(
            Lead.external_id,
            Lead.company,
            Lead.source,
            Lead.created_at,
            Rep.name,
            func.count().over().label("total"),
        )
        .outerjoin(Rep, Rep.id == Lead.owner_id)
        .where(*conditions)
        .order_by(Lead.created_at, Lead.id)
        .limit(limit)
    ).all()
    oldest = [WaitingLead(r.external_id, r.company, r.source, r.created_at, r.name) for r in rows]
    return WaitingLeads(int(rows[0].total) if rows else 0, oldest)


def open_leads(session: Session, *, limit: int = 100) -> list[Lead]:
    """Open leads, newest first, with their owners loaded."""
    stmt = (
        select(Lead)
        .where(is_open())
        .order_by(Lead.created_at.desc())
        .limit(limit)
        .options(selectinload(Lead.owner))
    )
    return list(session.scalars(stmt))


def breaches_between(
    session: Session, start: datetime, end: datetime, *, now: datetime | None = None
) -> list[Lead]:
    """Leads whose deadline fell in [start, end) (and has passed) without a response in time."""
    now = now or utcnow()
    stmt = (
        select(Lead)
        .where(
            Lead.sla_due_at >= start,
            Lead.sla_due_at < end,
            Lead.sla_due_at <= now,
            or_(Lead.first_response_at.is_(None), Lead.first_response_at > Lead.sla_due_at),
        )
        .order_by(Lead.sla_due_at)
        .options(selectinload(Lead.owner))
    )
    return list(session.scalars(stmt))


def lead_sources(session: Session) -> list[str]:
    """The distinct lead sources in the database, sorted."""
    rows = session.scalars(
        select(Lead.source).where(Lead.source.is_not(None)).distinct().order_by(Lead.source)
    )
    return [source for source in rows if source]


@dataclass(frozen=True)
class UnmatchedSlaPolicy:
    """An `[[sla]]` policy whose `source` names no lead source in the database."""

    source: str
    known: list[str]  # the lead sources that exist
    suggestion: str | None  # the existing source closest to `source`

    def message(self) -> str:
        """The warning, naming the policy, the sources that exist and the closest one."""
        hint = f"; did you mean {self.suggestion!r}?" if self.suggestion else "."
        return (
            f"[[sla]] source {self.source!r} matches no lead source in the database "
            f"({', '.join(self.known)}){hint}"
        )


def _folded(source: str) -> str:
    return re.sub(r"[\s_-]+", "", source.lower())


def unmatched_sla_policies(
    session: Session, policies: Sequence[SlaPolicy]
) -> list[UnmatchedSlaPolicy]:
    """The policies (other than `*`) that match no lead source stored, with a did-you-mean.
    Nothing to say while the database holds no lead with a source."""
    known = lead_sources(session)
    if not known:
        return []
    folded = {_folded(source): source for source in known}
    unmatched = []
    for policy in policies:
        if any(policy.matches(source) for source in known):  # `*` matches any
            continue
        close = difflib.get_close_matches(_folded(policy.source), list(folded), n=1, cutoff=0.6)
        unmatched.append(
            UnmatchedSlaPolicy(policy.source, known, folded[close[0]] if close else None)
        )
    return unmatched


def overdue_by_owner(session: Session, scope: Scope, now: datetime) -> list[tuple[str | None, int]]:
    """Open leads past their SLA deadline at `now`, counted per owner (None: nobody's), most
    first: what a manager chases."""
    count = func.count().label("overdue")
    rows = session.execute(
        select(Rep.name, count)
        .select_from(Lead)
        .outerjoin(Rep, Rep.id == Lead.owner_id)
        .where(is_open(), in_scope(Lead.owner_id, scope), Lead.sla_due_at <= now)
        .group_by(Lead.owner_id, Rep.name)
        .order_by(count.desc(), Rep.name)
    ).all()
    return [(row.name, int(row.overdue)) for row in rows]
