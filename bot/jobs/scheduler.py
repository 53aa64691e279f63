"""Background jobs: the lead sweep every few seconds, the digests every minute, the nudges
every five minutes (`bot.jobs.nudges`), the weekly forecast snapshot (`bot.jobs.snapshots`,
checked every 15 minutes), the forecast scorecards after a quarter (`bot.jobs.scorecards`, every
15 minutes), the CRM sync (`bot.jobs.sync`, every `[sync] interval_minutes`) and the outbox
dispatcher loop.

APScheduler 3 runs the jobs in this one process (`salesops scheduler`, or inside
`salesops serve --with-scheduler` through `start_background`). Each run is still guarded:
on PostgreSQL it runs only while holding a transaction-level advisory lock, so a second
scheduler started by accident skips the run; on SQLite (single writer) and in any case the
ladder's compare-and-set and the outbox's unique keys keep every step and every digest to one
message. Dispatchers need no guard: claims are leases, any number may run; the dispatchers of
one process share one `Pacer`, which spaces their calls to Slack's rate limits.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from apscheduler.schedulers.background import BackgroundScheduler
from slack_sdk import WebClient

from bot.deps import Deps
from bot.jobs.delivery import Dispatcher, make_sync_client
from bot.jobs.digest import DigestRun, run_digests
from bot.jobs.digest_schedule import SlackZones
from bot.jobs.nudges import NudgeRun, run_nudges
from bot.jobs.pacing import Pacer
from bot.jobs.scorecards import run_scorecards
from bot.jobs.snapshots import run_snapshots
from bot.jobs.sync import run_syncs
from salesops_core.db.engine import transaction, try_job_lock
from salesops_core.leads.engine import LeadRules, SweepResult, sweep
from salesops_core.timeutil import utcnow

log = logging.getLogger("salesops.scheduler")

DEFAULT_SWEEP_SECONDS = 1.0
DEFAULT_DIGEST_SECONDS = 60.0
DEFAULT_NUDGE_SECONDS = 300.0  # held nudges go out within five minutes of a working day's start
DEFAULT_SNAPSHOT_SECONDS = 900.0  # the weekly forecast snapshot: due Monday 06:00, checked often
DEFAULT_SCORECARD_SECONDS = 900.0  # after a quarter: scorecards from 09:00 local, within 15 min


def run_sweep(deps: Deps, rules: LeadRules | None = None) -> SweepResult | None:
    """One guarded sweep in its own transaction; None when another process holds the lock."""
    rules = rules or deps.lead_rules()
    with transaction(deps.sessions) as session:
        if not try_job_lock(session, "lead_sweep"):
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


def scheduled_digests(
    deps: Deps, zones: SlackZones, clock: Callable[[], datetime] = utcnow
) -> DigestRun | None:
    """The digest job: one guarded run at the clock's time."""
    return run_digests(deps, now=clock(), zones=zones)


def scheduled_nudges(deps: Deps, clock: Callable[[], datetime] = utcnow) -> NudgeRun | None:
    """The nudge job: one guarded run at the clock's time."""
    return run_nudges(deps, now=clock())


def scheduled_snapshots(deps: Deps, clock: Callable[[], datetime] = utcnow) -> None:
    """The weekly forecast snapshot job (`bot.jobs.snapshots`): one guarded run at the clock's
    time."""
    run_snapshots(deps, now=clock())


def scheduled_scorecards(deps: Deps, clock: Callable[[], datetime] = utcnow) -> None:
    """The forecast scorecard job (`bot.jobs.scorecards`): one guarded run at the clock's
    time."""
    run_scorecards(deps, now=clock())


def start_background(
    deps: Deps,
    *,
    client: WebClient | None = None,
    sweep_seconds: float = DEFAULT_SWEEP_SECONDS,
    digest_seconds: float = DEFAULT_DIGEST_SECONDS,
    nudge_seconds: float = DEFAULT_NUDGE_SECONDS,
    snapshot_seconds: float = DEFAULT_SNAPSHOT_SECONDS,
    scorecard_seconds: float = DEFAULT_SCORECARD_SECONDS,
    dispatchers: int = 1,
    idle_seconds: float = 0.2,
    clock: Callable[[], datetime] = utcnow,
) -> Background:
    """Start the sweep, digest and nudge jobs and `dispatchers` dispatcher threads; returns
    the handle to stop. `clock` is the digest and nudge jobs' time (tests pin it)."""
    client = client or make_sync_client(deps.settings)
    rules = deps.lead_rules()
    scheduler = BackgroundScheduler(timezone="UTC")
    jobs: list[tuple[str, Callable[..., object], float, list[object]]] = [
        ("lead_sweep", run_sweep, sweep_seconds, [deps, rules]),
        ("digests", scheduled_digests, digest_seconds, [deps, SlackZones(client), clock]),
        ("nudges", scheduled_nudges, nudge_seconds, [deps, clock]),
        ("forecast_snapshots", scheduled_snapshots, snapshot_seconds, [deps, clock]),
        ("forecast_scorecards", scheduled_scorecards, scorecard_seconds, [deps, clock]),
    ]
    sync_seconds = deps.settings.sync.interval_minutes * 60
    if sync_seconds > 0:
        jobs.append(("crm_sync", run_syncs, sync_seconds, [deps]))
    first_run = datetime.now(UTC)  # at start, then every interval (not one interval late)
    for job_id, job, seconds, args in jobs:
        scheduler.add_job(
            job,
            "interval",
            seconds=seconds,
            args=args,
            id=job_id,
            next_run_time=first_run,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=max(1, int(seconds)),
        )
    pacer = Pacer()
    background = Background(
        scheduler=scheduler,
        dispatchers=[Dispatcher(deps.sessions, client, pacer=pacer) for _ in range(dispatchers)],
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
