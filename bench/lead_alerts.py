"""Benchmark: lead posted -> SLA breach -> reminder DM arriving at the local Slack.

Leads are POSTed through the real HTTP server (ingest API) at a steady rate under a zero SLA
(wall clock: the reminder is due the moment the lead exists). The scheduler's sweep and the
outbox dispatchers deliver to the local Slack-compatible server (tests/support/slack_server.py).
Measured per scenario: latency from the reminder falling due to Slack accepting the DM
(p50/p99), the same for the first lead DM, duplicates and losses.

Scenarios: one dispatcher; two dispatchers; two dispatchers with 20% of Slack calls failing
(HTTP 500) and a dispatcher that claims rows and dies without sending (crash, lease expiry).
The delivery faults, each with two dispatchers:
- "kill": the second dispatcher is its own process, SIGKILLed halfway through the run;
- "slow slack": every chat.postMessage is answered 4 s late (30 messages);
- "answer dropped": 15% of chat.postMessage calls are posted, then the connection is closed
  without an answer;
- "pg terminated": every 2 s, every other connection to the database is ended with
  pg_terminate_backend (PostgreSQL only; an ingest POST that fails is sent again and counted).

"lost": messages in the outbox that never reached Slack; "unqueued": expected messages (a
lead DM and a reminder per lead) that never got into the outbox.

    python bench/lead_alerts.py [--database-url URL] [--rate 20] [--seconds 15] [--only NAME]

Exits 1 if a message is duplicated or lost, or (scenarios without a fault) p99 >= 5 s. The
database is emptied first: never point it at real data.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx
from sqlalchemy import delete, func, select, text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.delivery import Dispatcher, make_sync_client
from bot.jobs.scheduler import start_background
from salesops_core.config import SlaPolicy
from salesops_core.db.engine import make_engine, make_session_factory, migrate
from salesops_core.db.models import Base, Lead, Outbox, OutboxStatus, Rep, Role
from tests.support.bench_kit import percentile
from tests.support.bot_harness import start_bot
from tests.support.lead_helpers import track_deliveries
from tests.support.slack_server import FakeSlack

TOKEN = "bench-token"
P99_TARGET_SECONDS = 5.0
# 20 leads/s make 40 DMs/s (the lead, then its reminder); Slack allows one a second per channel.
REPS = 80
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
    dispatchers: int  # in this process (a killed one comes on top)
    failure_share: float = 0.0
    crashes: int = 0
    kill_one: bool = False  # a second dispatcher process, SIGKILLed halfway
    slow_seconds: float = 0.0  # every chat.postMessage answered this late
    drop_share: float = 0.0  # share of chat.postMessage answers lost after posting
    terminate_every: float = 0.0  # seconds between pg_terminate_backend rounds
    leads: int | None = None  # instead of rate x seconds (at one lead a second)
    p99_target: bool = True  # held to the p99 target (the fault scenarios are not)


@dataclass
class Outcome:
    name: str
    leads: int
    reminder_p50: float
    reminder_p99: float
    dm_p50: float
    dm_p99: float
    dm_max: float
    duplicates: int
    losses: int
    unqueued: int
    slack_calls: int
    ingest_errors: int = 0


def reset(url: str) -> None:
    """Migrate, empty every table, and add a manager with REPS reps (enough DMs that Slack's one
    message per second per channel does not set the pace)."""
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
            for n in range(1, REPS + 1)
        )  # fmt: skip
    engine.dispose()


def crasher(deps, client, stop: threading.Event, crashes: int, lease: float) -> None:  # type: ignore[no-untyped-def]
    """Claims a batch and 'dies' (never sends or marks), `crashes` times during the run."""
    for _ in range(crashes):
        if stop.wait(2.0):
            return
        Dispatcher(deps.sessions, client, batch_size=5, lease_seconds=lease).claim()


KILLABLE_DISPATCHER = textwrap.dedent(
    """
    import sys, threading
    from slack_sdk import WebClient
    from bot.jobs.delivery import Dispatcher
    from bot.jobs.pacing import Pacer
    from salesops_core.db.engine import make_engine, make_session_factory

    url, base_url = sys.argv[1], sys.argv[2]
    client = WebClient(token="xoxb-bench", base_url=base_url, retry_handlers=[], timeout=10)
    sessions = make_session_factory(make_engine(url))
    dispatcher = Dispatcher(sessions, client, pacer=Pacer())
    print("ready", flush=True)
    dispatcher.run_forever(threading.Event(), 0.2)
    """
)


def terminator(url: str, stop: threading.Event, every: float) -> None:
    """End every other connection to the database every `every` seconds until stopped."""
    engine = make_engine(url)
    ended = text(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )
    while not stop.wait(every):
        with engine.begin() as connection:
            connection.execute(ended)
    engine.dispose()


def post_leads(bot_url: str, total: int, rate: float) -> int:
    """POST `total` leads at `rate` a second; a failed POST is sent again (idempotent on
    external_id). Returns how many answers were errors."""
    errors = 0
    started = time.monotonic()
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10) as http:
        for n in range(total):
            delay = started + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            while True:
                try:
                    answer = http.post(f"{bot_url}/api/v1/leads", json={"external_id": f"b-{n}"})
                    if answer.status_code < 500:
                        answer.raise_for_status()
                        break
                except httpx.TransportError:
                    pass
                errors += 1
                time.sleep(0.05)
    return errors


def run(url: str, scenario: Scenario, rate: float, seconds: float, sweep: float) -> Outcome:
    reset(url)
    if scenario.leads is not None:
        rate, seconds = 1.0, float(scenario.leads)
    with FakeSlack() as fake:
        accepted = track_deliveries(fake)
        if scenario.failure_share:
            fake.fail_share(
                share=scenario.failure_share, status=500, seed=7, methods={"chat.postMessage"}
            )
        if scenario.slow_seconds:
            fake.slow("chat.postMessage", scenario.slow_seconds)
        if scenario.drop_share:
            fake.drop_answer("chat.postMessage", times=None, share=scenario.drop_share)
        bot = start_bot(url, fake.base_url, ingest_token=TOKEN, sla=[ZERO_SLA])
        client = make_sync_client(bot.deps.settings)
        background = start_background(
            bot.deps, client=client, sweep_seconds=sweep, dispatchers=scenario.dispatchers
        )
        stop = threading.Event()
        helpers = [
            threading.Thread(target=crasher, args=(bot.deps, client, stop, scenario.crashes, 3.0))
        ]
        if scenario.terminate_every:
            helpers.append(
                threading.Thread(target=terminator, args=(url, stop, scenario.terminate_every))
            )
        killable = (
            subprocess.Popen(
                [sys.executable, "-c", KILLABLE_DISPATCHER, url, fake.base_url],
                stdout=subprocess.PIPE,
            )
            if scenario.kill_one
            else None
        )
        if killable is not None:
            assert killable.stdout is not None
            killable.stdout.readline()  # imported and connected: it claims from now on
            helpers.append(threading.Thread(target=kill_after, args=(killable, url, seconds / 2)))
        for helper in helpers:
            helper.start()
        offset = time.time() - time.monotonic()  # fake Slack stamps calls with monotonic time
        total = int(rate * seconds)
        ingest_errors = post_leads(bot.url, total, rate)
        expected = total * 2  # the lead DM and the step-1 reminder
        drain = 180 + expected * scenario.slow_seconds / (scenario.dispatchers + 1)
        fake.wait_for(lambda: len({key for key, _, _ in accepted}) >= expected, timeout=drain)
        time.sleep(max(2 * sweep, 1.0))  # let any duplicate show up
        stop.set()
        for helper in helpers:
            helper.join()
        background.stop()
        with bot.deps.sessions() as session:
            leads = {lead.id: lead.created_at.timestamp() for lead in session.scalars(select(Lead))}
            queued = set(session.scalars(select(Outbox.dedupe_key)))
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
        dm_max=max(dm, default=float("nan")),
        duplicates=sum(count - 1 for count in counts.values() if count > 1),
        losses=len(queued - set(counts)),
        unqueued=len(leads) * 2 - len(queued),
        slack_calls=calls,
        ingest_errors=ingest_errors,
    )


def kill_after(process: subprocess.Popen[bytes], url: str, seconds: float) -> None:
    """SIGKILL the dispatcher `process` after `seconds`, once it holds claimed rows (a send in
    flight): no cleanup, its leases left to expire."""
    time.sleep(seconds)
    engine = make_engine(url)
    held = select(func.count()).where(
        Outbox.status == OutboxStatus.SENDING, Outbox.claimed_by.like(f"%:{process.pid}:%")
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with engine.connect() as connection:
            if connection.scalar(held):
                break
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    with engine.connect() as connection:
        print(f"  (killed holding {connection.scalar(held)} claimed rows)", flush=True)
    engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--rate", type=float, default=20.0, help="leads per second")
    parser.add_argument("--seconds", type=float, default=15.0, help="how long to post leads")
    parser.add_argument("--sweep-seconds", type=float, default=1.0, help="sweep interval")
    parser.add_argument("--only", default=None, help="run the scenarios whose name has this")
    args = parser.parse_args()
    url = args.database_url or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    backend = make_engine(url).url.get_backend_name()
    scenarios = [
        Scenario("1 dispatcher", 1),
        Scenario("2 dispatchers", 2),
        Scenario("2 disp + 20% fail + crash", 2, failure_share=0.2, crashes=3),
        Scenario("kill: 2 disp, 1 SIGKILLed", 1, kill_one=True, p99_target=False),
        Scenario("slow slack: 4 s answers", 2, slow_seconds=4.0, leads=15, p99_target=False),
        Scenario("answer dropped: 15%", 2, drop_share=0.15, p99_target=False),
    ]
    if backend == "postgresql":
        scenarios.append(Scenario("pg terminated: every 2 s", 2, terminate_every=2.0,
                                  p99_target=False))  # fmt: skip
    scenarios = [s for s in scenarios if args.only is None or args.only in s.name]
    print(f"database {backend}, {args.rate:g} leads/s for {args.seconds:g} s, sweep every "
          f"{args.sweep_seconds:g} s")  # fmt: skip
    header = (
        f"{'scenario':28} {'leads':>5} {'breach->DM p50':>14} {'p99':>6} "
        f"{'new-lead DM p50':>15} {'p99':>6} {'max':>6} {'dup':>4} {'lost':>4} {'unq':>4} "
        f"{'calls':>6} {'5xx':>4}"
    )
    print(header)
    failed = False
    for scenario in scenarios:
        out = run(url, scenario, args.rate, args.seconds, args.sweep_seconds)
        print(
            f"{out.name:28} {out.leads:5d} {out.reminder_p50:13.2f}s {out.reminder_p99:5.2f}s "
            f"{out.dm_p50:14.2f}s {out.dm_p99:5.2f}s {out.dm_max:5.1f}s {out.duplicates:4d} "
            f"{out.losses:4d} {out.unqueued:4d} {out.slack_calls:6d} {out.ingest_errors:4d}"
        )
        slow = scenario.p99_target and out.reminder_p99 >= P99_TARGET_SECONDS
        failed |= slow or out.duplicates > 0 or out.losses > 0 or out.unqueued > 0
    print(f"targets: breach->DM p99 < {P99_TARGET_SECONDS:g} s (no fault), 0 duplicates, "
          "0 losses: "
          + ("MISSED" if failed else "met"))  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
