"""Evaluate the nudges at a moment and put the due ones in the outbox: what the CLI's
`salesops nudges` and the scheduler's nudge job both run.

`evaluate` only reads (a dry run is an evaluation); `enqueue_due` writes the nudge log and the
outbox, and records sends whose facts have changed since as acted on. The caller owns the
transaction.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy.orm import Session

from salesops_core import outbox
from salesops_core.config import NudgeConfig, NudgeRule, OrgConfig
from salesops_core.nudges import log
from salesops_core.nudges.context import Context
from salesops_core.nudges.deal_rules import still_quiet
from salesops_core.nudges.facts import Decision, Hold, Nudge, NudgeNotice
from salesops_core.nudges.people import Person, load_people
from salesops_core.nudges.policy import History, decide
from salesops_core.nudges.rules import find_nudges, scope_of


@dataclass(frozen=True)
class Evaluation:
    """Every nudge found at `at`, decided, and the earlier sends whose facts have changed."""

    at: datetime
    people: dict[int, Person]
    decisions: list[Decision]
    fact_changed: list[int] = field(default_factory=list)  # nudge log ids

    def for_person(self, rep_id: int) -> list[Decision]:
        """One person's decisions, in rank order."""
        return [d for d in self.decisions if d.nudge.rep_id == rep_id]

    def local_day(self, rep_id: int) -> date:
        """The person's local date at the moment of the evaluation (their budget day)."""
        return self.at.astimezone(self.people[rep_id].tz).date()


def evaluate(
    session: Session,
    config: NudgeConfig,
    org: OrgConfig,
    now: datetime,
    *,
    rep_id: int | None = None,
) -> Evaluation:
    """Find and decide every nudge at `now` for the org, or for one person (`rep_id`).

    A handful of queries in all, whatever the size of the org: people, open stale deals,
    this quarter's per-rep sums, forecasts and quotas of the coming quarter, this week's
    meetings, the nudge log and mutes.
    """
    people = load_people(session, config, org, rep_id)
    today = {pid: now.astimezone(person.tz).date() for pid, person in people.items()}
    histories, open_sends = log.load_histories(
        session, None if rep_id is None else [rep_id], today, now, config.cooldown_days
    )
    named_today = {
        pid: frozenset(
            subject for rule, subject in history.sent_today if rule == NudgeRule.STALE_DEAL
        )
        for pid, history in histories.items()
    }
    ctx = Context(config, org, now, people, scope_of(rep_id, people), named_today)
    found: dict[int, list[Nudge]] = defaultdict(list)
    for nudge in find_nudges(session, ctx):
        found[nudge.rep_id].append(nudge)
    decisions: list[Decision] = []
    for pid, person in people.items():
        if found.get(pid):
            decisions += decide(
                person,
                found[pid],
                histories.get(pid, History()),
                now,
                daily_budget=config.daily_budget,
                cooldown_days=config.cooldown_days,
            )
    changed = _fact_changed(session, ctx, found, open_sends)
    return Evaluation(now, people, decisions, changed)


def _fact_changed(
    session: Session, ctx: Context, found: dict[int, list[Nudge]], open_sends: list[log.OpenSend]
) -> list[int]:
    """Sends of the last 24 hours whose (rule, subject) the rules no longer find. Only rules
    that were evaluated count; a quiet deal outside a person's top few is checked directly."""
    evaluated = set(ctx.config.rules)
    keys = {(n.rep_id, n.rule, n.subject) for nudges in found.values() for n in nudges}
    missing = [
        s
        for s in open_sends
        if s.rep_id in ctx.people
        and s.rule in evaluated
        and (s.rep_id, s.rule, s.subject) not in keys
    ]
    stale_subjects = {s.subject for s in missing if s.rule == NudgeRule.STALE_DEAL}
    still = still_quiet(session, stale_subjects, ctx.now, ctx.config.stale_days(ctx.org))
    return [
        s.log_id for s in missing if not (s.rule == NudgeRule.STALE_DEAL and s.subject in still)
    ]


@dataclass
class SendCounts:
    """What `enqueue_due` did."""

    sent: int = 0  # put in the outbox now
    already_sent: int = 0  # this (rule, subject, person, day) was sent before
    no_slack_user: int = 0  # due, but the person has no Slack user to write to
    held: dict[str, int] = field(default_factory=dict)  # held, by reason
    fact_changed: int = 0  # earlier sends now recorded as acted on


def enqueue_due(session: Session, evaluation: Evaluation, now: datetime) -> SendCounts:
    """Log and enqueue the evaluation's due nudges, keyed by (rule, subject, person, local day)
    so a second run or a second scheduler sends nothing twice."""
    counts = SendCounts(fact_changed=log.mark_fact_changed(session, evaluation.fact_changed, now))
    for decision in evaluation.decisions:
        nudge = decision.nudge
        if decision.held == Hold.ALREADY_SENT:
            counts.already_sent += 1
            continue
        if decision.held is not None:
            counts.held[decision.held.value] = counts.held.get(decision.held.value, 0) + 1
            continue
        person = evaluation.people[nudge.rep_id]
        if not person.slack_user_id:
            counts.no_slack_user += 1
            continue
        day = evaluation.local_day(nudge.rep_id)
        log_id = log.record_send(session, nudge.rep_id, nudge.rule, nudge.subject, day, now)
        if log_id is None:
            counts.already_sent += 1
            continue
        outbox.enqueue(
            session,
            NudgeNotice(nudge=nudge, log_id=log_id),
            dedupe_key=log.nudge_key(nudge.rep_id, nudge.rule, nudge.subject, day),
            recipient=person.slack_user_id,
            now=now,
        )
        counts.sent += 1
    return counts


def held_for_digest(
    session: Session,
    config: NudgeConfig,
    org: OrgConfig,
    manager_ids: Collection[int],
    now: datetime,
) -> dict[int, list[Nudge]]:
    """Each manager's own nudges the daily budget holds back at `now`, most valuable first: what
    the weekly digest folds in instead of sending them one by one (managers with none are left
    out). One evaluation: of the one manager, or of the whole org for several."""
    wanted = set(manager_ids)
    if not wanted:
        return {}
    only = next(iter(wanted)) if len(wanted) == 1 else None
    held: dict[int, list[Nudge]] = defaultdict(list)
    for decision in evaluate(session, config, org, now, rep_id=only).decisions:
        if decision.held == Hold.BUDGET and decision.nudge.rep_id in wanted:
            held[decision.nudge.rep_id].append(decision.nudge)
    return dict(held)
