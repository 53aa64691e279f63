"""The nudge job: every few minutes, the due nudges and the managers' roll-ups into the outbox.

Each run evaluates every rule for the whole org at one moment (`salesops_core.nudges.service`)
and enqueues what is due then: a nudge once per (rule, subject, person, local day), a roll-up
once per (manager, local day). A nudge held for quiet hours, a weekend or a spent budget is not
queued for later: the first run after its hold ends finds it due and sends it, so it goes out
at the start of the person's next working period with the facts as they are then. A run is
guarded like the lead sweep (an advisory lock on PostgreSQL), and the nudge log's and the
outbox's unique keys keep a second scheduler or a retry from sending anything twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from bot.deps import Deps
from salesops_core.db.engine import transaction, try_job_lock
from salesops_core.nudges.rollup import RollupCounts, enqueue_rollups
from salesops_core.nudges.service import SendCounts, enqueue_due, evaluate
from salesops_core.timeutil import utcnow

log = logging.getLogger("salesops.nudges")

NUDGE_JOB = "nudges"


@dataclass(frozen=True)
class NudgeRun:
    """What one run of the nudge job put in the outbox."""

    nudges: SendCounts
    rollups: RollupCounts


def enqueue_nudges(
    deps: Deps, session: Session, now: datetime, rep_id: int | None = None
) -> NudgeRun:
    """Evaluate at `now` (the org, or one person) and put the due nudges and roll-ups in the
    outbox, in the caller's transaction: the body of a run, and of `salesops nudges --send-now`."""
    settings = deps.settings
    evaluation = evaluate(session, settings.nudges, settings.org, now, rep_id=rep_id)
    return NudgeRun(
        nudges=enqueue_due(session, evaluation, now),
        rollups=enqueue_rollups(session, evaluation, now),
    )


def run_nudges(deps: Deps, now: datetime | None = None) -> NudgeRun | None:
    """One guarded run at `now` in its own transaction; None when another scheduler holds
    the lock (on PostgreSQL)."""
    now = now or utcnow()
    with transaction(deps.sessions) as session:
        if not try_job_lock(session, NUDGE_JOB):
            log.info("nudge run skipped: another scheduler holds the lock")
            return None
        run = enqueue_nudges(deps, session, now)
    if run.nudges.sent or run.rollups.sent:
        log.info(
            "nudges: %s sent, %s held %s; %s roll-ups",
            run.nudges.sent,
            sum(run.nudges.held.values()),
            run.nudges.held,
            run.rollups.sent,
        )
    return run
