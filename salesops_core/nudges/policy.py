"""Noise control, as pure functions: which of a person's nudges go out now, and which wait.

In order: a rule turned off or a subject marked "not relevant" is muted; a snoozed one waits
for its snooze; one that already went out on the person's local day is not sent again that day
(its outbox key); one sent less than `cooldown_days` ago waits out the cooldown; outside working
time (quiet hours, weekends and public holidays, in the person's own time zone) everything
waits for the start of the next working period (09:00 on the next workday, not 00:01); then
the daily budget lets the most valuable through and holds the rest until the next working day.

Most valuable first: each rule's first nudge (the biggest deal, ...) before any rule's second,
rules in `RULE_PRIORITY` order, so a budget of three is three different kinds of news.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from salesops_core.config import NudgeRule
from salesops_core.leads.business_hours import is_holiday
from salesops_core.nudges.facts import Decision, Hold, Nudge
from salesops_core.nudges.people import Person

RULE_PRIORITY = (
    NudgeRule.NO_FORECAST,  # a deadline
    NudgeRule.STALE_DEAL,  # money going cold
    NudgeRule.BEHIND_PACE,
    NudgeRule.PAST_CLOSE,
    NudgeRule.FEW_MEETINGS,
    NudgeRule.LOW_SELLING_TIME,
)
MAX_DAYS_AHEAD = 400  # a calendar with no working day in a year of days is a broken calendar

Key = tuple[NudgeRule, str]  # (rule, subject)


@dataclass(frozen=True)
class History:
    """What the nudge log says about one person at the moment of deciding."""

    last_sent: Mapping[Key, datetime] = field(default_factory=dict)
    snoozed_until: Mapping[Key, datetime] = field(default_factory=dict)
    muted: frozenset[Key] = frozenset()
    sent_today: frozenset[Key] = frozenset()  # sent on the person's current local day


def is_day_off(person: Person, day: date) -> bool:
    """Not one of the person's workdays, or a public holiday where they work."""
    return day.isoweekday() not in person.workdays or is_holiday(person.holiday_country, day)


def _in_quiet_hours(person: Person, moment: time) -> bool:
    start, end = person.quiet_start, person.quiet_end
    if start > end:  # across midnight: 18:00-09:00
        return moment >= start or moment < end
    return start <= moment < end


def _working_spans(person: Person) -> list[tuple[time, time | None]]:
    """A workday's working spans, local (None: until midnight)."""
    start, end = person.quiet_start, person.quiet_end
    if start > end:
        return [(end, start)]
    spans: list[tuple[time, time | None]] = [(time(0), start), (end, None)]
    return [(a, b) for a, b in spans if b is None or a < b]


def off_hours_hold(person: Person, now: datetime) -> Hold | None:
    """Why `now` is not working time for the person (weekend / day off, quiet hours), or None."""
    local = now.astimezone(person.tz)
    if is_day_off(person, local.date()):
        return Hold.WEEKEND
    if _in_quiet_hours(person, local.time()):
        return Hold.QUIET_HOURS
    return None


def next_working_start(person: Person, moment: datetime) -> datetime:
    """The first moment at or after `moment` that is working time for the person (UTC).

    Built as local wall-clock times on each day and only then converted, so a DST change
    keeps 09:00 at 09:00.
    """
    tz = person.tz
    local = moment.astimezone(tz)
    day = local.date()
    for _ in range(MAX_DAYS_AHEAD):
        if not is_day_off(person, day):
            for begin, end in _working_spans(person):
                opens = datetime.combine(day, begin, tz)
                closes = (
                    datetime.combine(day + timedelta(days=1), time(0), tz)
                    if end is None
                    else datetime.combine(day, end, tz)
                )
                if closes > local:
                    return max(opens, local).astimezone(UTC)
        day += timedelta(days=1)
    raise ValueError(f"{person.name} has no working time in the next {MAX_DAYS_AHEAD} days")


def next_working_day_start(person: Person, now: datetime) -> datetime:
    """The start of the person's first working period on a later local day than `now`'s."""
    local = now.astimezone(person.tz)
    tomorrow = datetime.combine(local.date() + timedelta(days=1), time(0), person.tz)
    return next_working_start(person, tomorrow)


def ranked(nudges: Sequence[Nudge]) -> list[Nudge]:
    """One person's nudges, most valuable first (see the module docstring)."""
    position: dict[NudgeRule, int] = defaultdict(int)
    keyed = []
    for index, nudge in enumerate(nudges):
        keyed.append(((position[nudge.rule], RULE_PRIORITY.index(nudge.rule), index), nudge))
        position[nudge.rule] += 1
    return [nudge for _, nudge in sorted(keyed, key=lambda pair: pair[0])]


def decide(
    person: Person,
    nudges: Sequence[Nudge],
    history: History,
    now: datetime,
    *,
    daily_budget: int,
    cooldown_days: float,
) -> list[Decision]:
    """Decide each of one person's nudges at `now`, in rank order (see the module docstring)."""
    off_hours = off_hours_hold(person, now)
    resumes = next_working_start(person, now) if off_hours else None
    budget = max(0, daily_budget - len(history.sent_today))
    cooldown = timedelta(days=cooldown_days)
    decisions = []
    for nudge in ranked(nudges):
        key = (nudge.rule, nudge.subject)
        last = history.last_sent.get(key)
        snoozed = history.snoozed_until.get(key)
        if nudge.rule in person.rules_off or key in history.muted:
            decision = Decision(nudge, Hold.MUTED)
        elif snoozed is not None and snoozed > now:
            decision = Decision(nudge, Hold.SNOOZED, next_working_start(person, snoozed))
        elif key in history.sent_today:
            again = max(next_working_day_start(person, now), (last or now) + cooldown)
            decision = Decision(nudge, Hold.ALREADY_SENT, next_working_start(person, again))
        elif last is not None and now < last + cooldown:
            decision = Decision(nudge, Hold.COOLDOWN, next_working_start(person, last + cooldown))
        elif off_hours is not None:
            decision = Decision(nudge, off_hours, resumes)
        elif budget <= 0:
            decision = Decision(nudge, Hold.BUDGET, next_working_day_start(person, now))
        else:
            budget -= 1
            decision = Decision(nudge)
        decisions.append(decision)
    return decisions
