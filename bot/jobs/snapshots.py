"""The weekly forecast snapshot job: Monday 06:00 in the org time zone, or at the first run
after it that week.

It runs every 15 minutes (`bot.jobs.scheduler`) and takes the week's snapshot
(`salesops_core.forecast.snapshots`) once that moment has passed and the week has none yet, so
a scheduler that was down on Monday still takes it when it comes back. A run is guarded like
the other jobs (an advisory lock on PostgreSQL), and the snapshot's unique (rep, quarter, week)
rows keep a second scheduler, or `salesops forecast snapshot` by hand, from writing anything
twice. It sends nothing.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.deps import Deps
from salesops_core.db.engine import transaction, try_job_lock
from salesops_core.forecast.snapshots import (
    SnapshotRun,
    snapshot_moment,
    snapshot_week,
    take_snapshots,
    week_taken,
)
from salesops_core.timeutil import utcnow

log = logging.getLogger("salesops.snapshots")

SNAPSHOT_JOB = "forecast_snapshots"


def run_snapshots(deps: Deps, now: datetime | None = None) -> SnapshotRun | None:
    """One guarded run at `now` in its own transaction: the week's snapshot when it is due
    and not taken yet; None when nothing was due or another scheduler holds the lock."""
    now = now or utcnow()
    org = deps.settings.org
    week = snapshot_week(org, now)
    if now < snapshot_moment(org, week):
        return None
    with transaction(deps.sessions) as session:
        if not try_job_lock(session, SNAPSHOT_JOB):
            log.info("snapshot run skipped: another scheduler holds the lock")
            return None
        if week_taken(session, week):
            return None
        run = take_snapshots(session, org, now)
    log.info(
        "forecast snapshot for the week of %s: %s taken, %s already taken",
        run.week,
        run.taken,
        run.already_taken,
    )
    return run
