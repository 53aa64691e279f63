"""A manager's daily roll-up of their team's open nudges, instead of a copy of each.

A manager is anyone whom an active person reports to (`manager_id`); their team is those
direct reports. Once a day, in the manager's morning (the first hours of their first working
period on a workday, in their own time zone and quiet hours), the roll-up says how many of the
team's nudges are open per rule and names the worst few of each. Open: every nudge the rules
find for the team now, held or not, except those the rep muted ("not relevant", or the rule
turned off). One outbox row per (manager, local day), so a second run sends nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from salesops_core import outbox
from salesops_core.db.models import Outbox, Team
from salesops_core.nudges.facts import Decision, Hold, Nudge, RollupLine, RollupNotice, Rule
from salesops_core.nudges.people import Person
from salesops_core.nudges.policy import RULE_PRIORITY, next_working_start
from salesops_core.nudges.service import Evaluation

TOP_ITEMS = 3  # the worst few of each rule a roll-up names
MORNING = timedelta(hours=4)  # a day's roll-up may go out this long after the working day starts
# The worst first, by the number the rule judged: the most days quiet and the most deals past
# close; for every other rule the lowest number (meetings, attainment, selling share, days left).
HIGHER_IS_WORSE = frozenset({Rule.STALE_DEAL, Rule.PAST_CLOSE})


def rollup_key(manager_id: int, day: date) -> str:
    """The outbox key of a manager's roll-up: one per (manager, local day)."""
    return f"nudge_rollup:{manager_id}:{day.isoformat()}"


def morning(person: Person, now: datetime) -> tuple[datetime, datetime] | None:
    """When the person's roll-up may go out on their local day of `now` (UTC start, end):
    from the start of that day's first working period on; None on a day off."""
    tz = person.tz
    today = now.astimezone(tz).date()
    opens = next_working_start(person, datetime.combine(today, time(0), tz))
    if opens.astimezone(tz).date() != today:
        return None
    return opens, opens + MORNING


def in_morning(person: Person, now: datetime) -> bool:
    """True when `now` is in the person's roll-up morning (see `morning`)."""
    window = morning(person, now)
    return window is not None and window[0] <= now < window[1]


def _worst_first(rule: Rule, nudges: list[Nudge]) -> list[Nudge]:
    def badness(nudge: Nudge) -> float:
        value = nudge.value if nudge.value is not None else 0.0
        return -value if rule in HIGHER_IS_WORSE else value

    return sorted(nudges, key=lambda nudge: (badness(nudge), nudge.rep, nudge.subject))


def rollup_lines(decisions: Sequence[Decision]) -> list[RollupLine]:
    """Per rule (in the policy's priority order): how many open nudges, and the worst few."""
    by_rule: dict[Rule, list[Nudge]] = defaultdict(list)
    for decision in decisions:
        if decision.held != Hold.MUTED:
            by_rule[decision.nudge.rule].append(decision.nudge)
    return [
        RollupLine(rule, len(by_rule[rule]), _worst_first(rule, by_rule[rule])[:TOP_ITEMS])
        for rule in RULE_PRIORITY
        if by_rule.get(rule)
    ]


def team_decisions(evaluation: Evaluation) -> dict[int, list[Decision]]:
    """The decisions about each manager's direct reports, by manager id."""
    teams: dict[int, list[Decision]] = defaultdict(list)
    for decision in evaluation.decisions:
        person = evaluation.people.get(decision.nudge.rep_id)
        if person is not None and person.manager_id is not None:
            teams[person.manager_id].append(decision)
    return teams


@dataclass(frozen=True)
class DueRollup:
    """A manager's roll-up due now: the manager, the key it goes out under, its lines."""

    manager: Person
    dedupe_key: str
    lines: list[RollupLine]


def due_rollups(evaluation: Evaluation, now: datetime) -> list[DueRollup]:
    """The roll-up of every manager whose morning it is and whose team has open nudges (the
    whole team is in an org-wide evaluation only)."""
    due = []
    for manager_id, decisions in team_decisions(evaluation).items():
        manager = evaluation.people.get(manager_id)
        if manager is None or not in_morning(manager, now):
            continue
        lines = rollup_lines(decisions)
        if lines:
            key = rollup_key(manager_id, evaluation.local_day(manager_id))
            due.append(DueRollup(manager, key, lines))
    return sorted(due, key=lambda rollup: (rollup.manager.name, rollup.manager.rep_id))


def already_enqueued(session: Session, rollups: Sequence[DueRollup]) -> set[str]:
    """The dedupe keys of these roll-ups already in the outbox (one query)."""
    keys = [rollup.dedupe_key for rollup in rollups]
    if not keys:
        return set()
    return set(session.scalars(select(Outbox.dedupe_key).where(Outbox.dedupe_key.in_(keys))))


@dataclass
class RollupCounts:
    """What `enqueue_rollups` did."""

    sent: int = 0  # roll-ups put in the outbox now
    already_sent: int = 0  # due, but this manager's roll-up for the day was enqueued before
    no_slack_user: int = 0  # due, but the manager has no Slack user to write to


def enqueue_rollups(session: Session, evaluation: Evaluation, now: datetime) -> RollupCounts:
    """Enqueue the roll-ups due at `now` (`due_rollups`; one query for the team names, one
    insert per roll-up)."""
    due = due_rollups(evaluation, now)
    names = _team_names(session, {r.manager.team_id for r in due if r.manager.team_id is not None})
    counts = RollupCounts()
    for rollup in due:
        manager = rollup.manager
        if not manager.slack_user_id:
            counts.no_slack_user += 1
            continue
        notice = RollupNotice(
            manager_id=manager.rep_id,
            team=names.get(manager.team_id) if manager.team_id is not None else None,
            day=evaluation.local_day(manager.rep_id).isoformat(),
            lines=rollup.lines,
        )
        added = outbox.enqueue(
            session,
            notice,
            dedupe_key=rollup.dedupe_key,
            recipient=manager.slack_user_id,
            now=now,
        )
        if added:
            counts.sent += 1
        else:
            counts.already_sent += 1
    return counts


def _team_names(session: Session, team_ids: set[int]) -> dict[int, str]:
    if not team_ids:
        return {}
    rows = session.execute(select(Team.id, Team.name).where(Team.id.in_(team_ids)))
    return {team_id: name for team_id, name in rows}
