"""Benchmark: lead posted -> SLA breach -> reminder DM arriving at the local Slack.

Leads are POSTed through the real HTTP server (ingest API) at a steady rate under a zero SLA
(wall clock: the reminder is due the moment the lead exists). The scheduler's sweep and the
outbox dispatchers deliver to the local Slack-compatible server (tests/support/slack_server.py).
Measured per scenario: latency from the reminder falling due to Slack accepting the DM
(p50/p99), the same for the first lead DM, duplicates and losses.

Scenarios: one dispatcher; two dispatchers; two dispatchers with 20% of Slack calls failing
(HTTP 500) and a dispatcher that claims rows and dies without sending (crash, lease expiry).

    python bench/lead_alerts.py [--database-url URL] [--rate 20] [--seconds 15]

Exits 1 if p99 >= 5 s or any message is duplicated or lost. The database is emptied first:
never point it at real data.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import delete, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.delivery import Dispatcher, make_sync_client
from bot.jobs.scheduler import start_background
from salesops_core.config import SlaPolicy
from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import Base, Lead, Rep, Role
from tests.support.bot_harness import start_bot
from tests.support.lead_helpers import track_deliveries
from tests.support.slack_server import FakeSlack

TOKEN = "bench-token"
P99_TARGET_SECONDS = 5.0
ZERO_SLA = SlaPolicy(
    source="*",
    first_response_minutes=0.0001,  # > 0 is required; 6 ms
    remind_rep_after_minutes=0,
    alert_manager_after_minutes=None,
    reassign_after_minutes=None,
    business_hours=False,
)


@dataclass
class Scenario:
    name: str
    dispatchers: int
    failure_share: float = 0.0
    crashes: int = 0


@dataclass
class Outcome:
    name: str
    leads: int
    reminder_p50: float
    reminder_p99: float
    dm_p50: float
    dm_p99: float
    duplicates: int
    losses: int
    slack_calls: int


def reset(url: str) -> None:
    """Migrate, empty every table, and add a manager with ten reps."""
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(delete(table))
    with make_session_factory(engine).begin() as session:
        manager = Rep(
            name="Manager", email="boss@bench.test", slack_user_id="M1", role=Role.MANAGER
        )
        session.add(manager)
        session.flush()
        session.add_all(
            Rep(name=f"Rep {n}", email=f"rep{n}@bench.test", slack_user_id=f"U{n}",
                manager_id=manager.id)
            for n in range(1, 11)
        )  # fmt: skip
    engine.dispose()


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def crasher(deps, client, stop: threading.Event, crashes: int, lease: float) -> None:  # type: ignore[no-untyped-def]
    """Claims a batch and 'dies' (never sends or marks), `crashes` times during the run."""
    for _ in range(crashes):
        if stop.wait(2.0):
            return
        Dispatcher(deps.sessions, client, batch_size=5, lease_seconds=lease).claim()


def run(url: str, scenario: Scenario, rate: float, seconds: float, sweep: float) -> Outcome:
    reset(url)
    with FakeSlack() as fake:
        accepted = track_deliveries(fake)
        if scenario.failure_share:
            fake.fail_share(
                share=scenario.failure_share, status=500, seed=7, methods={"chat.postMessage"}
            )
        bot = start_bot(url, fake.base_url, ingest_token=TOKEN, sla=[ZERO_SLA])
        client = make_sync_client(bot.deps.settings)
        background = start_background(
            bot.deps, client=client, sweep_seconds=sweep, dispatchers=scenario.dispatchers
        )
        stop = threading.Event()
        crash_thread = threading.Thread(
            target=crasher, args=(bot.deps, client, stop, scenario.crashes, 3.0)
        )
        crash_thread.start()
        offset = time.time() - time.monotonic()  # fake Slack stamps calls with monotonic time
        total = int(rate * seconds)
        started = time.monotonic()
        with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as http:
            for n in range(total):
                delay = started + n / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                answer = http.post(f"{bot.url}/api/v1/leads", json={"external_id": f"b-{n}"})
                answer.raise_for_status()
        expected = total * 2  # the lead DM and the step-1 reminder
        fake.wait_for(lambda: len({key for key, _, _ in accepted}) >= expected, timeout=60)
        time.sleep(max(2 * sweep, 1.0))  # let any duplicate show up
        stop.set()
        crash_thread.join()
        background.stop()
        with bot.deps.sessions() as session:
            leads = {lead.id: lead.created_at.timestamp() for lead in session.scalars(select(Lead))}
        bot.stop()
        calls = len(fake.calls_to("chat.postMessage"))
    counts = Counter(key for key, _, _ in accepted)
    first_seen: dict[str, float] = {}
    for key, _, at in accepted:
        first_seen.setdefault(key, at + offset)
    reminder, dm = [], []
    for lead_id, created in leads.items():
        if f"lead:{lead_id}:step:1" in first_seen:
            reminder.append(first_seen[f"lead:{lead_id}:step:1"] - created)
        dm_key = next((k for k in first_seen if k.startswith(f"lead:{lead_id}:assign:")), None)
        if dm_key:
            dm.append(first_seen[dm_key] - created)
    return Outcome(
        name=scenario.name,
        leads=len(leads),
        reminder_p50=statistics.median(reminder) if reminder else float("nan"),
        reminder_p99=percentile(reminder, 0.99),
        dm_p50=statistics.median(dm) if dm else float("nan"),
        dm_p99=percentile(dm, 0.99),
        duplicates=sum(count - 1 for count in counts.values() if count > 1),
        losses=len(leads) * 2 - len(counts),
        slack_calls=calls,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--rate", type=float, default=20.0, help="leads per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to post leads")
    parser.add_argument("--sweep-seconds", type=float, default=1.0, help="sweep interval")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    scenarios = [
        Scenario("1 dispatcher", 1),
        Scenario("2 dispatchers", 2),
        Scenario("2 disp + 20% fail + crash", 2, failure_share=0.2, crashes=3),
    ]
    print(f"database {make_engine(url).url.get_backend_name()}, {args.rate:g} leads/s for "
          f"{args.seconds:g} s, sweep every {args.sweep_seconds:g} s")  # fmt: skip
    header = (
        f"{'scenario':28} {'leads':>5} {'breach->DM p50':>14} {'p99':>6} "
        f"{'new-lead DM p50':>15} {'p99':>6} {'dup':>4} {'lost':>4} {'calls':>6}"
    )
    print(header)
    failed = False
    for scenario in scenarios:
        out = run(url, scenario, args.rate, args.seconds, args.sweep_seconds)
        print(
            f"{out.name:28} {out.leads:5d} {out.reminder_p50:13.2f}s {out.reminder_p99:5.2f}s "
            f"{out.dm_p50:14.2f}s {out.dm_p99:5.2f}s {out.duplicates:4d} {out.losses:4d} "
            f"{out.slack_calls:6d}"
        )
        failed |= out.reminder_p99 >= P99_TARGET_SECONDS or out.duplicates or out.losses > 0
    print(f"targets: breach->DM p99 < {P99_TARGET_SECONDS:g} s, 0 duplicates, 0 losses: "
          + ("MISSED" if failed else "met"))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
