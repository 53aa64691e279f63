"""The forecast scorecard job: after a quarter closes, each rep's scorecard and each manager's
team scorecard into the outbox, once (`salesops_core.forecast.notices`).

When: 09:00 in the person's time zone (their own, else the org's) on their first working day
after the quarter ended (their workdays and public holidays, as the nudges read them; a 09:00
that comes before the quarter's end in the org's zone does not count). From then for
`SEND_WITHIN_DAYS`: a scheduler that was down on that morning still sends, but a bot first
started mid-quarter does not surprise everyone with last quarter's numbers. The job runs every
15 minutes; each run is guarded by a job lock (PostgreSQL), and the outbox keys keep every scorecard
to one message.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from bot.deps import Deps
from bot.jobs.digest_schedule import wall_clock_instant
from salesops_core.db.engine import transaction, try_job_lock
from salesops_core.forecast.accuracy import closed_quarters
from salesops_core.forecast.notices import SendCounts, enqueue_scorecards, scorecard_sends
from salesops_core.nudges.people import Person, load_people
from salesops_core.nudges.policy import MAX_DAYS_AHEAD, is_day_off
from salesops_core.timeutil import utcnow

log = logging.getLogger("salesops.scorecards")

SCORECARD_JOB = "forecast_scorecards"
SEND_AT = time(9, 0)
SEND_WITHIN_DAYS = 7


def send_moment(person: Person, quarter_end: datetime) -> datetime:
    """09:00 local on the person's first working day whose 09:00 comes after `quarter_end`."""
    tz = person.tz
    day = quarter_end.astimezone(tz).date()
    for _ in range(MAX_DAYS_AHEAD):
        moment = wall_clock_instant(day, SEND_AT, tz)
        if not is_day_off(person, day) and moment >= quarter_end:
            return moment
        day += timedelta(days=1)
    return wall_clock_instant(day, SEND_AT, tz)  # no working day in a year: a broken calendar


def is_due(person: Person, quarter_end: datetime, now: datetime) -> bool:
    """The person's scorecard moment has come, and is not more than SEND_WITHIN_DAYS old."""
    moment = send_moment(person, quarter_end)
    return moment <= now < moment + timedelta(days=SEND_WITHIN_DAYS)


def enqueue_due_scorecards(
    deps: Deps, session: Session, now: datetime, *, everyone: bool = False
) -> SendCounts:
    """The scorecards of the last closed quarter due at `now` into the outbox, in the caller's
    transaction; `everyone`: whatever the hour (`salesops forecast scorecard --send-now`)."""
    org = deps.settings.org
    quarters = closed_quarters(org, now)
    quarter = quarters[-1]
    people = load_people(session, deps.settings.nudges, org)
    due = [rep_id for rep_id, p in people.items() if everyone or is_due(p, quarter.end, now)]
    if not due:
        return SendCounts(quarter.label, 0, 0)
    sends = scorecard_sends(session, org, quarters, set(due))
    return enqueue_scorecards(session, quarter.label, sends, now)


def run_scorecards(deps: Deps, now: datetime | None = None) -> SendCounts | None:
    """One guarded run at `now` in its own transaction; None when another scheduler holds the
    lock (on PostgreSQL)."""
    now = now or utcnow()
    with transaction(deps.sessions) as session:
        if not try_job_lock(session, SCORECARD_JOB):
            log.info("scorecard run skipped: another scheduler holds the lock")
            return None
        counts = enqueue_due_scorecards(deps, session, now)
    if counts.enqueued:
        log.info("forecast scorecards for %s: %s enqueued", counts.quarter, counts.enqueued)
    return counts
