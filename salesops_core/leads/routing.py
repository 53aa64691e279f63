"""Lead routing: weighted round-robin over available reps, with every assignment logged.

Fairness uses stride scheduling: each rep has a *pass* value that grows by 1/weight per
lead; the rep with the lowest pass gets the next lead. The org's virtual time V is the pass
of the latest pick, recovered as max(pass - 1/weight). A rep who joins (or comes back from
away) starts at V, so adding or removing a rep neither resets anybody's count nor lets a
newcomer take a burst of leads. The state rows survive reps leaving.

A new lead goes to the owner it names while that rep is active; a lead naming nobody, or a
rep who has left, is routed by the round-robin (`route_new_lead`), and the assignment log says
so (`how_routed`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesops_core.db.engine import upsert_insert
from salesops_core.db.models import Lead, LeadAssignment, Rep, Role, RoundRobinState
from salesops_core.timeutil import utcnow

OWNER_GIVEN = "ingest"  # the lead went to the owner it named
ROUND_ROBIN = "round_robin"  # it named nobody: the round-robin chose
OWNER_INACTIVE = "owner_inactive"  # it named a rep who has left: the round-robin chose


def eligible_reps(session: Session, *, exclude: Iterable[int] = ()) -> list[Rep]:
    """Reps who can take a lead now: active, not away, positive weight, not a manager/admin."""
    stmt = (
        select(Rep)
        .where(
            Rep.active.is_(True),
            Rep.away.is_(False),
            Rep.round_robin_weight > 0,
            Rep.role == Role.REP,
        )
        .order_by(Rep.id)
    )
    excluded = list(exclude)
    if excluded:
        stmt = stmt.where(Rep.id.not_in(excluded))
    return list(session.scalars(stmt))


def _virtual_time(session: Session) -> float:
    stmt = select(func.max(RoundRobinState.pass_value - 1.0 / Rep.round_robin_weight)).join(
        Rep, Rep.id == RoundRobinState.rep_id
    )
    stmt = stmt.where(Rep.round_robin_weight > 0, RoundRobinState.assigned_count > 0)
    return float(session.scalar(stmt) or 0.0)


def pick_round_robin(
    session: Session, *, exclude: Iterable[int] = (), now: datetime | None = None
) -> Rep | None:
    """Choose (and count) the next rep by weighted round-robin; None when nobody is available."""
    candidates = eligible_reps(session, exclude=exclude)
    if not candidates:
        return None
    ids = [rep.id for rep in candidates]
    # A write first: on SQLite it takes the writer lock, so concurrent picks serialize.
    session.execute(
        upsert_insert(session, RoundRobinState)
        .values([{"rep_id": rep_id, "pass_value": 0.0, "assigned_count": 0} for rep_id in ids])
        .on_conflict_do_nothing(index_elements=["rep_id"])
    )
    states = {
        state.rep_id: state
        for state in session.scalars(
            select(RoundRobinState)
            .where(RoundRobinState.rep_id.in_(ids))
            .order_by(RoundRobinState.rep_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    }
    floor = _virtual_time(session)
    for state in states.values():
        state.pass_value = max(state.pass_value, floor)  # joiners and returners start at V
    chosen = min(candidates, key=lambda rep: (states[rep.id].pass_value, rep.id))
    state = states[chosen.id]
    state.pass_value += 1.0 / chosen.round_robin_weight
    state.assigned_count += 1
    state.last_assigned_at = now or utcnow()
    session.flush()
    return chosen


def assign(
    session: Session,
    lead: Lead,
    to_rep: Rep | None,
    *,
    reason: str,
    now: datetime | None = None,
) -> LeadAssignment:
    """Give the lead to `to_rep` and log the change (from whom, to whom, why, when)."""
    entry = LeadAssignment(
        lead_id=lead.id,
        from_rep_id=lead.owner_id,
        to_rep_id=to_rep.id if to_rep else None,
        reason=reason,
        at=now or utcnow(),
    )
    lead.owner_id = to_rep.id if to_rep else None
    lead.owner = to_rep
    session.add(entry)
    session.flush()
    return entry


def route_new_lead(
    session: Session,
    lead: Lead,
    named: Rep | None,
    *,
    answered: bool = False,
    now: datetime | None = None,
) -> LeadAssignment | None:
    """Give a new lead its first owner and log it; None when it has none.

    The owner is `named` while they are active (or when the lead arrives `answered`: it is
    history, and the response was theirs). Otherwise (nobody named, or a rep who has left) the
    round-robin picks, as for any unowned lead; a lead moved away from a leaver is logged as
    given to them and then moved on (reason OWNER_INACTIVE), so the log says why.
    """
    if named is not None:
        given = assign(session, lead, named, reason=OWNER_GIVEN, now=now)
        if named.active or answered:
            return given
    picked = pick_round_robin(session, now=now)
    if named is None and picked is None:
        return None
    reason = ROUND_ROBIN if named is None else OWNER_INACTIVE
    return assign(session, lead, picked, reason=reason, now=now)


@dataclass(frozen=True)
class Routed:
    """How a lead got its first owner when it was not simply the rep it named."""

    reason: str  # ROUND_ROBIN or OWNER_INACTIVE
    owner: Rep | None  # who has it (None: nobody was available)
    named: Rep | None  # the rep it named, who has left (OWNER_INACTIVE)

    @property
    def message(self) -> str:
        """One line saying who has the lead and why."""
        to = f"routed by round-robin to {self.owner.name}" if self.owner else "left unowned"
        if self.named is None:
            return f"No owner was given, so the lead was {to}."
        if self.owner is None:
            to += " (nobody is available for round-robin)"
        return f"{self.named.name} is inactive (has left), so the lead was {to}."


def how_routed(session: Session, lead: Lead) -> Routed | None:
    """How the lead got its first owner, read from the assignment log; None when it went to the
    rep it named (or to nobody)."""
    entries = session.scalars(
        select(LeadAssignment)
        .where(LeadAssignment.lead_id == lead.id)
        .order_by(LeadAssignment.id)
        .limit(2)
    ).all()

    def rep(rep_id: int | None) -> Rep | None:
        return session.get(Rep, rep_id) if rep_id is not None else None

    if entries and entries[0].reason == ROUND_ROBIN:
        return Routed(ROUND_ROBIN, rep(entries[0].to_rep_id), None)
    if len(entries) == 2 and entries[1].reason == OWNER_INACTIVE:
        return Routed(OWNER_INACTIVE, rep(entries[1].to_rep_id), rep(entries[0].to_rep_id))
    return None
