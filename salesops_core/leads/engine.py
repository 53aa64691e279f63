"""Speed-to-lead: a lead's response clock, its escalation ladder and the sweep that runs it.

A lead gets an owner (given, or round-robin), a first-response deadline (`sla_due_at`) in
its owner's business hours, and a DM. If nobody answers, the ladder runs: step 1 reminds
the owner, step 2 alerts the owner's manager, step 3 (when the policy has it) reassigns
the lead. Every step's minutes count from the lead's creation, in the owner's calendar.

Exactly once: the sweep moves `ladder_step` forward with a compare-and-set UPDATE (only
one transaction can move a lead from step k-1 to k) and each step's notice
(`leads.notices`) goes into the outbox under the unique key (lead, step), so a second or
concurrent sweep sends nothing twice. On PostgreSQL concurrent sweeps also skip each
other's leads (SKIP LOCKED).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from salesops_core import outbox
from salesops_core.config import OrgConfig, SlaPolicy, policy_for
from salesops_core.db.engine import rows_changed
from salesops_core.db.models import Lead, LeadAssignment, LeadStatus, Outbox, OutboxStatus, Rep
from salesops_core.leads.business_hours import calendar_for, sla_deadline
from salesops_core.leads.notices import (
    SNOOZE_MINUTES,
    LeadDmUpdate,
    LeadFacts,
    LeadReassigned,
    LeadReminder,
    ManagerAlert,
    NewLead,
)
from salesops_core.leads.routing import assign, pick_round_robin, route_new_lead
from salesops_core.leads.views import is_open
from salesops_core.timeutil import as_utc, utcnow

STEP_REMIND_REP = 1
STEP_ALERT_MANAGER = 2
STEP_REASSIGN = 3


@dataclass(frozen=True)
class LadderStep:
    """One rung of the escalation ladder: its number, what it does, when (business minutes)."""

    number: int
    kind: str
    minutes: float


@dataclass(frozen=True)
class LeadRules:
    """The configuration the lead engine needs: org calendar defaults and SLA policies."""

    org: OrgConfig = field(default_factory=OrgConfig)
    policies: list[SlaPolicy] = field(default_factory=lambda: [SlaPolicy()])

    def policy(self, source: str | None) -> SlaPolicy:
        """The first policy matching the lead source."""
        return policy_for(self.policies, source)


@dataclass
class SweepResult:
    """What one sweep did."""

    leads_due: int = 0
    steps_fired: dict[str, int] = field(default_factory=dict)


def ladder(policy: SlaPolicy) -> list[LadderStep]:
    """The policy's ladder, steps in order; a step whose minutes are None is left out."""
    rungs = (
        (STEP_REMIND_REP, "remind_rep", policy.remind_rep_after_minutes),
        (STEP_ALERT_MANAGER, "alert_manager", policy.alert_manager_after_minutes),
        (STEP_REASSIGN, "reassign", policy.reassign_after_minutes),
    )
    return [LadderStep(n, kind, minutes) for n, kind, minutes in rungs if minutes is not None]


def step_due_at(lead: Lead, step: LadderStep, rules: LeadRules) -> datetime:
    """When a ladder step falls due for this lead, in its owner's business time."""
    policy = rules.policy(lead.source)
    return sla_deadline(lead.created_at, step.minutes, calendar_for(lead.owner, rules.org, policy))


def _next_due(lead: Lead, rules: LeadRules, after_step: int) -> datetime | None:
    upcoming = [s for s in ladder(rules.policy(lead.source)) if s.number > after_step]
    if not upcoming:
        return None
    due = step_due_at(lead, upcoming[0], rules)
    if lead.snoozed_until is not None and lead.snoozed_until > due:
        return lead.snoozed_until
    return due


def _dm_key(lead_id: int, assignment_id: int) -> str:
    """The outbox key of the DM that told an owner about the lead (one per assignment)."""
    return f"lead:{lead_id}:assign:{assignment_id}"


def _reminder_key(lead_id: int) -> str:
    """The outbox key of ladder step 1, the owner's reminder (it carries the lead's buttons)."""
    return _step_key(lead_id, STEP_REMIND_REP)


def _step_key(lead_id: int, step: int) -> str:
    """The outbox key of a ladder step's notice (one per lead and step)."""
    return f"lead:{lead_id}:step:{step}"


def _dm_owner(session: Session, lead: Lead, entry: LeadAssignment, now: datetime) -> None:
    if lead.owner is None:
        return
    outbox.enqueue(
        session,
        NewLead(LeadFacts.of(lead)),
        dedupe_key=_dm_key(lead.id, entry.id),
        recipient=lead.owner.slack_user_id,
        now=now,
    )


def find_lead(session: Session, external_id: str) -> Lead | None:
    """The lead with this external id, if any."""
    return session.scalars(select(Lead).where(Lead.external_id == external_id)).one_or_none()


def lock_lead(session: Session, lead_id: int) -> Lead | None:
    """The lead, locked for this transaction and read fresh (for read-then-write changes).

    PostgreSQL: SELECT ... FOR UPDATE. SQLite: a no-op UPDATE first takes the single writer
    lock, so the read that follows cannot be stale when two button presses race.
    """
    if session.get_bind().dialect.name != "postgresql":
        session.execute(
            update(Lead)
            .where(Lead.id == lead_id)
            .values(ladder_step=Lead.ladder_step)
            .execution_options(synchronize_session=False)
        )
    return session.get(Lead, lead_id, with_for_update=True, populate_existing=True)


def update_lead_dm(session: Session, lead: Lead, status_line: str, *, key: str) -> bool:
    """Queue an edit of the lead's newest delivered DM: the status shown, the actions gone.

    For changes that do not come from the DM itself (a response recorded by the CRM).
    Nothing is queued while no DM of the lead has been delivered.
    """
    assignments = session.scalars(
        select(LeadAssignment.id).where(LeadAssignment.lead_id == lead.id)
    )
    dm = outbox.latest_sent(session, [_dm_key(lead.id, a) for a in assignments])
    if dm is None:
        return False
    return outbox.enqueue(
        session,
        LeadDmUpdate(LeadFacts.of(lead), status_line),
        dedupe_key=f"lead:{lead.id}:dm-update:{key}",
        recipient=dm.channel,
        edits=dm.id,
    )


def create_lead(
    session: Session,
    rules: LeadRules,
    *,
    external_id: str,
    created_at: datetime | None = None,
    source: str | None = None,
    company: str | None = None,
    owner: Rep | None = None,
    first_response_at: datetime | None = None,
    now: datetime | None = None,
) -> tuple[Lead, bool]:
    """Create a lead, start its clock and DM its owner; (lead, False) if it exists already.

    Without an owner, or for an owner who has left, the lead is routed by round-robin
    (`route_new_lead`; `how_routed` tells why). A lead that arrives already answered gets its
    deadline (for reporting) but no DM and no ladder.
    """
    now = now or utcnow()
    existing = find_lead(session, external_id)
    if existing is not None:
        return existing, False
    lead = Lead(
        external_id=external_id,
        source=source,
        company=company,
        created_at=as_utc(created_at or now),
        status=LeadStatus.OPEN,
        ladder_step=0,
    )
    session.add(lead)
    session.flush()
    answered = first_response_at is not None
    entry = route_new_lead(session, lead, owner, answered=answered, now=now)
    owner = lead.owner
    policy = rules.policy(source)
    calendar = calendar_for(owner, rules.org, policy)
    lead.sla_due_at = sla_deadline(lead.created_at, policy.first_response_minutes, calendar)
    if first_response_at is not None:
        record_response(session, lead, rep=owner, at=first_response_at)
    else:
        lead.next_due_at = _next_due(lead, rules, 0)
        if entry is not None:
            _dm_owner(session, lead, entry, now)
    session.flush()
    return lead, True


def record_response(
    session: Session, lead: Lead, *, rep: Rep | None = None, at: datetime | None = None
) -> bool:
    """Record the first response and stop the ladder; False if one was recorded already."""
    if lead.first_response_at is not None:
        return False
    lead.first_response_at = as_utc(at or utcnow())
    lead.responded_by_id = rep.id if rep else lead.owner_id
    lead.status = LeadStatus.RESPONDED
    lead.next_due_at = None
    lead.snoozed_until = None
    session.flush()
    return True


def snooze(
    session: Session,
    lead: Lead,
    *,
    minutes: float = SNOOZE_MINUTES,
    now: datetime | None = None,
) -> datetime:
    """Hold the ladder for `minutes`: no step fires before the snooze ends."""
    until = (now or utcnow()) + timedelta(minutes=minutes)
    lead.snoozed_until = until
    if lead.next_due_at is not None and lead.next_due_at < until:
        lead.next_due_at = until
    session.flush()
    return until


def reassign(
    session: Session,
    rules: LeadRules,
    lead: Lead,
    *,
    reason: str,
    now: datetime | None = None,
) -> Rep | None:
    """Give the lead to the next available rep (not the current owner); None if nobody is.

    The new owner gets the lead DM; the previous owner's messages about it lose their buttons
    and say where it went (`_tell_previous_owner`). The ladder stops: it belonged to the
    previous owner's clock.
    """
    now = now or utcnow()
    previous = lead.owner
    exclude = [lead.owner_id] if lead.owner_id is not None else []
    new_owner = pick_round_robin(session, exclude=exclude, now=now)
    if new_owner is None:
        return None
    entry = assign(session, lead, new_owner, reason=reason, now=now)
    lead.next_due_at = None
    _dm_owner(session, lead, entry, now)
    if previous is not None:
        _tell_previous_owner(session, lead, previous, new_owner, entry.id, now)
    session.flush()
    return new_owner


def _tell_previous_owner(
    session: Session, lead: Lead, previous: Rep, new_owner: Rep, entry_id: int, now: datetime
) -> None:
    """Rewrite the previous owner's lead messages that carry buttons (their DMs of the lead
    and the step-1 reminder) to say who has it now, without buttons; a message still waiting
    to be sent is rewritten once it is. Without any such message, they get it as a new one."""
    moved = LeadReassigned(LeadFacts.of(lead), new_owner.name)
    owned = select(LeadAssignment.id).where(
        LeadAssignment.lead_id == lead.id,
        LeadAssignment.to_rep_id == previous.id,
        LeadAssignment.id != entry_id,
    )
    their_dms = Outbox.dedupe_key.in_([_dm_key(lead.id, a) for a in session.scalars(owned)])
    # the reminder went to whoever owned the lead at step 1: theirs only if sent to them
    their_reminder = and_(
        Outbox.dedupe_key == _reminder_key(lead.id), Outbox.channel == previous.slack_user_id
    )
    shown = session.scalars(
        select(Outbox).where(or_(their_dms, their_reminder), Outbox.status != OutboxStatus.DEAD)
    ).all()
    for message in shown:
        outbox.enqueue_row(
            session,
            moved,
            dedupe_key=f"{_dm_key(lead.id, entry_id)}:moved:{message.id}",
            recipient=message.channel,
            edits=message.id,
            follows=message.id,
            now=now,
        )
    if not shown:
        outbox.enqueue(
            session,
            moved,
            dedupe_key=f"{_dm_key(lead.id, entry_id)}:notice",
            recipient=previous.slack_user_id,
            now=now,
        )


def _advance(session: Session, lead: Lead, to_step: int) -> bool:
    """Compare-and-set the ladder step; only one transaction can win each step."""
    result = session.execute(
        update(Lead)
        .where(Lead.id == lead.id, Lead.ladder_step == to_step - 1)
        .values(ladder_step=to_step)
        .execution_options(synchronize_session=False)
    )
    if not rows_changed(result):
        return False
    set_committed_value(lead, "ladder_step", to_step)
    return True


def _fire(session: Session, rules: LeadRules, lead: Lead, step: LadderStep, now: datetime) -> None:
    notice: LeadReminder | ManagerAlert
    if step.number == STEP_REMIND_REP:
        recipient = lead.owner.slack_user_id if lead.owner else None
        notice = LeadReminder(LeadFacts.of(lead))
    elif step.number == STEP_ALERT_MANAGER:
        manager = lead.owner.manager if lead.owner else None
        recipient = manager.slack_user_id if manager else None
        notice = ManagerAlert(LeadFacts.of(lead), lead.owner.name if lead.owner else None)
    else:
        reassign(session, rules, lead, reason="sla_reassign", now=now)
        return
    outbox.enqueue(
        session,
        notice,
        dedupe_key=_step_key(lead.id, step.number),
        recipient=recipient,
        now=now,
    )


def sweep(
    session: Session, rules: LeadRules, *, now: datetime | None = None, limit: int = 500
) -> SweepResult:
    """Fire every ladder step that is due (each exactly once) and schedule the next one.

    Cheap when nothing is due: one index range scan on `lead.next_due_at`.
    """
    now = now or utcnow()
    stmt = (
        select(Lead)
        .where(Lead.next_due_at <= now, is_open())
        .order_by(Lead.next_due_at, Lead.id)
        .limit(limit)
        .options(selectinload(Lead.owner).selectinload(Rep.manager))
        .with_for_update(skip_locked=True, of=Lead)
    )
    result = SweepResult()
    for lead in session.scalars(stmt).all():
        result.leads_due += 1
        if lead.snoozed_until is not None and lead.snoozed_until > now:
            lead.next_due_at = max(lead.next_due_at or now, lead.snoozed_until)
            continue
        last, ended, lost = lead.ladder_step, False, False
        for step in ladder(rules.policy(lead.source)):
            if step.number <= last:
                continue
            if step_due_at(lead, step, rules) > now:
                break
            if not _advance(session, lead, step.number):
                lost = True  # a concurrent sweep moved this lead on; leave it to that one
                break
            _fire(session, rules, lead, step, now)
            result.steps_fired[step.kind] = result.steps_fired.get(step.kind, 0) + 1
            last = step.number
            if step.number == STEP_REASSIGN:
                ended = True
                break
        if not lost:
            lead.next_due_at = None if ended else _next_due(lead, rules, last)
    session.flush()
    return result
