"""Background jobs: the lead sweep every few seconds and the outbox dispatcher loop.

APScheduler 3 runs the jobs in this one process (`salesops scheduler`, or inside
`salesops serve --with-scheduler` through `start_background`). Each sweep is still guarded:
on PostgreSQL it runs only while holding a transaction-level advisory lock, so a second
scheduler started by accident skips the run; on SQLite (single writer) and in any case the
ladder's compare-and-set and the outbox's unique keys keep every step to one message.
Dispatchers need no guard: claims are leases, any number may run.
"""

from __future__ import annotations

import logging
import threading
import zlib
from dataclasses import dataclass, field

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient
from sqlalchemy import text

from bot.deps import Deps
from bot.jobs.delivery import Dispatcher, make_sync_client
from salesops_core.db.engine import is_postgres, transaction
from salesops_core.leads.engine import LeadRules, SweepResult, sweep

log = logging.getLogger("salesops.scheduler")

SWEEP_LOCK_KEY = zlib.crc32(b"salesops:lead_sweep")
DEFAULT_SWEEP_SECONDS = 1.0


def rules_from(deps: Deps) -> LeadRules:
    """The lead engine's configuration from the process settings."""
    return LeadRules(org=deps.settings.org, policies=list(deps.settings.sla))


def run_sweep(deps: Deps, rules: LeadRules | None = None) -> SweepResult | None:
    """One guarded sweep in its own transaction; None when another process holds the lock."""
    rules = rules or rules_from(deps)
    with transaction(deps.sessions) as session:
        if is_postgres(session):
            locked = session.scalar(
                text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": SWEEP_LOCK_KEY}
            )
            if not locked:
                log.info("lead sweep skipped: another scheduler holds the lock")
                return None
        result = sweep(session, rules)
    if result.steps_fired:
        log.info("lead sweep: %s due, fired %s", result.leads_due, result.steps_fired)
    return result


@dataclass
class Background:
    """A running scheduler plus its dispatcher threads; `stop()` ends them all."""

    scheduler: BackgroundScheduler
    dispatchers: list[Dispatcher]
    stop_event: threading.Event = field(default_factory=threading.Event)
    threads: list[threading.Thread] = field(default_factory=list)

    def stop(self) -> None:
        """Stop the sweep and the dispatchers (waits for a send in flight to finish)."""
        self.stop_event.set()
        self.scheduler.shutdown(wait=True)
        for thread in self.threads:
            thread.join(timeout=30)

    def shutdown(self, wait: bool = True) -> None:
        """APScheduler-style alias of `stop` (`wait=False` does not wait for the threads)."""
        self.stop_event.set()
        self.scheduler.shutdown(wait=wait)
        if wait:
            for thread in self.threads:
                thread.join(timeout=30)


def start_background(
    deps: Deps,
    *,
    client: WebClient | None = None,
    sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
    dispatchers: int = 1,
    idle_seconds: float = 0.2,
) -> Background:
    """Start the sweep job and `dispatchers` dispatcher threads; returns the handle to stop."""
    client = client or make_sync_client(deps.settings)
    rules = rules_from(deps)
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        run_sweep,
        "interval",
        seconds=sweep_seconds,
        args=[deps, rules],
        id="lead_sweep",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=max(1, int(sweep_seconds)),
    )
    background = Background(
        scheduler=scheduler,
        dispatchers=[Dispatcher(deps.sessions, client) for _ in range(dispatchers)],
    )
    scheduler.start()
    for index, dispatcher in enumerate(background.dispatchers):
        thread = threading.Thread(
            target=dispatcher.run_forever,
            args=(background.stop_event, idle_seconds),
            name=f"outbox-dispatcher-{index}",
            daemon=True,
        )
        thread.start()
        background.threads.append(thread)
    return background


def start_background_scheduler(deps: Deps) -> Background:
    """The scheduler for `salesops serve --with-scheduler` (defaults from the settings)."""
    return start_background(deps)
