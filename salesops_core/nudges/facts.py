"""What a nudge says, as facts: the rule, the person, the subject, the numbers, one action.

`salesops_core.nudges.rules` finds nudges with a few grouped queries over the whole org;
`salesops_core.nudges.policy` decides which go out now and which are held (quiet hours,
budget, cooldown, snooze, mute); the outbox stores a due nudge as the facts of a
`NudgeNotice` and `commands.notices` renders it when it is sent. No Slack here.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from salesops_core.config import NudgeRule
from salesops_core.outbox import NoticeKind

# The rules are named where `[nudges] rules` is validated (the config floor, below this one).
Rule = NudgeRule


class Action(enum.StrEnum):
    """What a nudge's buttons do."""

    OPEN_DEAL = "open_deal"  # a URL button to the deal in the CRM (when `[org] deal_url` is set)
    LOG_ACTIVITY = "log_activity"  # a modal: type, minutes, note; writes an activity
    SUBMIT_FORECAST = "submit_forecast"  # where to submit a forecast
    SNOOZE_DAY = "snooze_day"
    SNOOZE_WEEK = "snooze_week"
    NOT_RELEVANT = "not_relevant"  # mutes this subject for this rule


DEFERRALS = (Action.SNOOZE_DAY, Action.SNOOZE_WEEK, Action.NOT_RELEVANT)  # on every nudge


class Hold(enum.StrEnum):
    """Why a due nudge is not sent now."""

    QUIET_HOURS = "quiet hours"
    WEEKEND = "weekend"
    BUDGET = "budget"  # the person's daily budget is spent
    ALREADY_SENT = "already sent"  # this rule and subject went out earlier on the person's day
    COOLDOWN = "cooldown"  # the same rule and subject was sent less than `cooldown_days` ago
    SNOOZED = "snoozed"
    MUTED = "muted"  # "not relevant", or the rule is off in the person's settings


@dataclass(frozen=True)
class Nudge:
    """One nudge for one person about one subject."""

    rule: Rule
    rep_id: int
    rep: str  # the person's name
    subject: str  # what it is about, stable across days: "deal:OPP-123", "period:2027-Q1"
    fact: str  # the fact, e.g. "Acme renewal ($48,000) has had no activity for 19 days"
    why: str  # why it matters, one short sentence
    actions: tuple[Action, ...]
    deal_id: int | None = None
    deal_external_id: str | None = None
    crm_url: str | None = None
    value: float | None = None  # the number the rule judged (days quiet, attainment, ...)
    target: float | None = None  # what it was judged against


@dataclass(frozen=True)
class Decision:
    """A nudge and whether it goes out now: `held` is None when it does."""

    nudge: Nudge
    held: Hold | None = None
    until: datetime | None = None  # when a held nudge may go out (quiet hours, snooze)


@dataclass(frozen=True)
class NudgeNotice:
    """A nudge to deliver to its person: the outbox row's facts."""

    kind: ClassVar[NoticeKind] = NoticeKind.NUDGE
    nudge: Nudge
    log_id: int  # the nudge log row the buttons act on


@dataclass(frozen=True)
class RollupLine:
    """One rule in a manager's roll-up: how many of the team's nudges, and the top items."""

    rule: Rule
    count: int
    top: list[Nudge] = field(default_factory=list)


@dataclass(frozen=True)
class RollupNotice:
    """A manager's daily roll-up of their team's open nudges, instead of a copy of each."""

    kind: ClassVar[NoticeKind] = NoticeKind.NUDGE_ROLLUP
    manager_id: int
    team: str | None
    day: str  # the manager's local date, ISO
    lines: list[RollupLine]
