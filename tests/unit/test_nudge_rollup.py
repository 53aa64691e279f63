"""A manager's roll-up without a database: what it counts, which items it names, and when."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from salesops_core.db.models import Role
from salesops_core.nudges.facts import Decision, Hold, Nudge, Rule
from salesops_core.nudges.rollup import TOP_ITEMS, in_morning, rollup_lines
from tests.support.nudge_org import NY_REP

MIA = replace(NY_REP, name="Mia Manager", role=Role.MANAGER, slack_user_id="M1")


def nudge(rule: Rule, value: float, rep: str = "Jane", subject: str = "s") -> Nudge:
    return Nudge(
        rule=rule,
        rep_id=2,
        rep=rep,
        subject=subject,
        fact=f"{rep} {value}",
        why="",
        actions=(),
        value=value,
    )


def test_counts_every_open_nudge_but_not_muted_ones_rules_in_priority_order():
    decisions = [
        Decision(nudge(Rule.STALE_DEAL, 20, subject="a")),
        Decision(nudge(Rule.STALE_DEAL, 30, subject="b"), Hold.QUIET_HOURS),
        Decision(nudge(Rule.STALE_DEAL, 90, subject="c"), Hold.MUTED),
        Decision(nudge(Rule.NO_FORECAST, 2)),
    ]
    lines = rollup_lines(decisions)
    assert [(line.rule, line.count) for line in lines] == [
        (Rule.NO_FORECAST, 1),
        (Rule.STALE_DEAL, 2),
    ]


def test_names_the_worst_few_of_each_rule():
    stale = [Decision(nudge(Rule.STALE_DEAL, days, subject=str(days))) for days in (15, 60, 30, 45)]
    behind = [
        Decision(nudge(Rule.BEHIND_PACE, share, rep=r)) for r, share in [("A", 0.4), ("B", 0.1)]
    ]
    lines = {line.rule: line for line in rollup_lines(stale + behind)}
    assert [n.value for n in lines[Rule.STALE_DEAL].top] == [60, 45, 30][:TOP_ITEMS]
    assert lines[Rule.STALE_DEAL].count == 4
    assert [n.rep for n in lines[Rule.BEHIND_PACE].top] == ["B", "A"]  # furthest behind first


def test_the_morning_is_the_first_hours_of_a_workday_in_the_managers_zone():
    assert not in_morning(MIA, datetime(2026, 11, 24, 13, 59, tzinfo=UTC))  # 08:59 EST
    assert in_morning(MIA, datetime(2026, 11, 24, 14, 0, tzinfo=UTC))  # 09:00 EST
    assert not in_morning(MIA, datetime(2026, 11, 24, 18, 0, tzinfo=UTC))  # 13:00 EST
    assert not in_morning(MIA, datetime(2026, 11, 28, 14, 0, tzinfo=UTC))  # a Saturday
    assert in_morning(MIA, datetime(2027, 3, 15, 13, 0, tzinfo=UTC))  # 09:00 EDT after the change
