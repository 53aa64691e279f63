"""The ingest API under open-loop load: achieved rate and latency of `salesops serve`.

Run by hand against a migrated demo org (e.g. `salesops demo --scale 0.2`; the bench adds
leads, deals and activities whose external ids start with `bench-<run>-`, so use a copy):

    python bench/ingest.py --database-url sqlite:///demo.db [--rate 300] [--seconds 30]
    python bench/ingest.py --database-url postgresql+psycopg://.../demo --batch 1000

The server is `salesops serve` in a process of its own; the load generator runs in this one
and offers requests on a fixed schedule (open loop: a slow answer does not slow the offer,
and latency counts from the scheduled send time, so queueing shows). In one run:

- reference: `GET /healthz` at the same rate (the same server, a database round trip and
  no ingest work): the floor this machine gives;
- ingest: a mix of lead creates (half routed by round-robin), deal upserts (a third repeat an
  earlier external id) and activities (some linked to a deal posted before the run);
- with `--batch N`: `POST /api/v1/{kind}/batch` with N records a call, one call at a time,
  reported in records per second.

For each: achieved rate, p50/p95/p99 latency, errors (non-2xx or no answer), and the
server's peak RSS. Exit status 1 when any request failed or a row was written twice.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from salesops_core.db.engine import make_engine, require_migrated  # noqa: E402
from salesops_core.db.models import Activity, Deal, Lead, Outcome, Rep, Stage  # noqa: E402
from tests.support.bench_kit import free_port, percentile, wait_listening  # noqa: E402

TOKEN = "bench-ingest-token"
TARGET_RATE = 300
TARGET_P99_S = 0.25
BATCH_TIMEOUT = aiohttp.ClientTimeout(total=300)


@dataclass
class Sample:
    offered: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    elapsed: float = 0.0
    records: int = 0  # batch runs: records written

    def fail(self, why: str) -> None:
        self.errors[why] = self.errors.get(why, 0) + 1


def start_server(port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(port)], env=env, cwd=ROOT)
    wait_listening(process, port)
    return process


def peak_rss_mb(pid: int) -> float:
    """The process's high-water resident set (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Workload:
    """Request bodies for the ingest mix, with external ids unique to this run."""

    def __init__(self, database_url: str, run: str, seed: int = 7) -> None:
        engine = make_engine(database_url)
        require_migrated(engine)
        with engine.connect() as connection:
            self.owners = list(
                connection.scalars(
                    select(Rep.email).where(Rep.active, Rep.email.is_not(None)).order_by(Rep.id)
                )
            )
            self.stages = list(  # open stages: a won or lost deal needs its close time
                connection.scalars(
                    select(Stage.name)
                    .where(Stage.outcome == Outcome.OPEN)
                    .order_by(Stage.sort_order)
                )
            )
        engine.dispose()
        if not self.owners or not self.stages:
            raise SystemExit("no reps or stages: run `salesops demo` on this database first")
        self.run = run
        self.random = random.Random(seed)
        self.counter = itertools.count()
        self.deals: list[str] = []
        self.linked_deals: list[str] = []

    def id_for(self, kind: str) -> str:
        return f"bench-{self.run}-{kind}-{next(self.counter)}"

    def lead(self) -> dict[str, Any]:
        body: dict[str, Any] = {"external_id": self.id_for("L"), "source": "web", "company": "Acme"}
        if self.random.random() < 0.5:
            body["owner"] = self.random.choice(self.owners)
        return body

    def deal(self) -> dict[str, Any]:
        if self.deals and self.random.random() < 0.33:
            external_id = self.random.choice(self.deals)
        else:
            external_id = self.id_for("D")
            self.deals.append(external_id)
        return {
            "external_id": external_id,
            "owner": self.random.choice(self.owners),
            "stage": self.random.choice(self.stages),
            "created_at": "2026-11-02T10:00:00Z",
            "amount": round(self.random.uniform(1_000, 90_000), 2),
            "currency": "USD",
        }

    def activity(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "external_id": self.id_for("A"),
            "owner": self.random.choice(self.owners),
            "type": self.random.choice(["call", "email", "meeting"]),
            "started_at": "2026-11-20T15:00:00Z",
            "minutes": 30,
        }
        if self.linked_deals and self.random.random() < 0.5:
            body["deal_external_id"] = self.random.choice(self.linked_deals)
        return body

    def mixed(self) -> tuple[str, dict[str, Any]]:
        draw = self.random.random()
        if draw < 0.4:
            return "/api/v1/leads", self.lead()
        if draw < 0.7:
            return "/api/v1/deals", self.deal()
        return "/api/v1/activities", self.activity()


async def open_loop(
    http: aiohttp.ClientSession,
    base: str,
    rate: float,
    seconds: float,
    request: Any,
) -> Sample:
    """Offer `request()` (method, path, body) at `rate` a second for `seconds`, open loop."""
    sample = Sample(offered=round(rate * seconds))
    headers = {"Authorization": f"Bearer {TOKEN}"}

    async def one(scheduled: float, method: str, path: str, body: Any) -> None:
        try:
            async with http.request(method, base + path, json=body, headers=headers) as answer:
                await answer.read()
                if answer.status >= 300:
                    sample.fail(str(answer.status))
                    return
        except (aiohttp.ClientError, TimeoutError) as exc:
            sample.fail(type(exc).__name__)
            return
        sample.latencies.append(time.monotonic() - scheduled)

    tasks = []
    start = time.monotonic() + 0.05
    for n in range(sample.offered):
        scheduled = start + n / rate
        delay = scheduled - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(scheduled, *request())))
    await asyncio.gather(*tasks)
    sample.elapsed = time.monotonic() - start
    return sample


async def batches(
    http: aiohttp.ClientSession, base: str, workload: Workload, size: int, calls: int
) -> dict[str, Sample]:
    """`calls` batch calls of `size` records per kind, one at a time (a CRM's bulk push)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    makers = {"leads": workload.lead, "deals": workload.deal, "activities": workload.activity}
    results: dict[str, Sample] = {}
    for kind, make in makers.items():
        sample = Sample(offered=calls)
        started = time.monotonic()
        for _ in range(calls):
            records = [make() for _ in range(size)]
            sent = time.monotonic()
            url = f"{base}/api/v1/{kind}/batch"
            try:
                async with http.post(
                    url, json={"records": records}, headers=headers, timeout=BATCH_TIMEOUT
                ) as answer:
                    await answer.read()
                    if answer.status >= 300:
                        sample.fail(str(answer.status))
                        continue
            except (aiohttp.ClientError, TimeoutError) as exc:
                sample.fail(type(exc).__name__)
                continue
            sample.latencies.append(time.monotonic() - sent)
            sample.records += size
        sample.elapsed = time.monotonic() - started
        results[f"batch {kind}"] = sample
    return results


async def measure(base: str, workload: Workload, args: argparse.Namespace) -> dict[str, Sample]:
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:
        headers = {"Authorization": f"Bearer {TOKEN}"}
        for _ in range(20):  # warm-up, and deals the activities can link to
            path, body = "/api/v1/deals", workload.deal()
            async with http.post(base + path, json=body, headers=headers) as answer:
                if answer.status >= 300:
                    raise SystemExit(
                        f"warm-up {path} answered {answer.status}: {await answer.text()}"
                    )
            workload.linked_deals.append(body["external_id"])
        results = {
            "healthz (reference)": await open_loop(
                http, base, args.rate, args.seconds, lambda: ("GET", "/healthz", None)
            ),
            "ingest mix": await open_loop(
                http, base, args.rate, args.seconds, lambda: ("POST", *workload.mixed())
            ),
        }
        # requests the load generator gave up on may still be queued in the server: let it
        # finish them before the next measurement
        drain = {"external_id": workload.id_for("drain")}
        async with http.post(
            base + "/api/v1/leads", json=drain, headers=headers, timeout=BATCH_TIMEOUT
        ) as answer:
            await answer.read()
        if args.batch:
            results.update(await batches(http, base, workload, args.batch, args.batch_calls))
        return results


def duplicates(database_url: str, run: str) -> int:
    """Rows of this run that share an external id (0 unless the unique keys failed)."""
    engine = make_engine(database_url)
    extra = 0
    with engine.connect() as connection:
        for model in (Lead, Deal, Activity):
            like = model.external_id.like(f"bench-{run}-%")
            rows = connection.scalar(select(func.count()).select_from(model).where(like))
            distinct = connection.scalar(
                select(func.count(model.external_id.distinct())).where(like)
            )
            extra += (rows or 0) - (distinct or 0)
    engine.dispose()
    return extra


def report(results: dict[str, Sample], rss_mb: float, dupes: int, rate: float) -> int:
    ms = 1000
    print(
        f"\n{'load':<22}{'offered':>8}{'ok':>7}{'rate/s':>9}{'p50':>9}{'p95':>9}{'p99':>9}"
        f"{'x ref p99':>10}  errors"
    )
    reference = results["healthz (reference)"]
    failed = 0
    for name, s in results.items():
        done = len(s.latencies)
        per_s = (s.records or done) / s.elapsed if s.elapsed else 0.0
        p50, p95, p99 = (percentile(s.latencies, q) for q in (0.5, 0.95, 0.99))
        ratio = p99 / percentile(reference.latencies, 0.99) if s is not reference else 1.0
        errors = ", ".join(f"{k}: {v}" for k, v in sorted(s.errors.items())) or "-"
        failed += sum(s.errors.values())
        print(
            f"{name:<22}{s.offered:>8}{done:>7}{per_s:>9.1f}{p50 * ms:>7.0f}ms"
            f"{p95 * ms:>7.0f}ms{p99 * ms:>7.0f}ms{ratio:>9.2f}x  {errors}"
        )
    mix = results["ingest mix"]
    achieved = len(mix.latencies) / mix.elapsed if mix.elapsed else 0.0
    p99 = percentile(mix.latencies, 0.99)
    met = rate >= TARGET_RATE and achieved >= 0.98 * rate and p99 < TARGET_P99_S
    print(
        f"\nserver peak RSS {rss_mb:.0f} MB; duplicate rows {dupes}; "
        f"goal {TARGET_RATE}/s with p99 < {TARGET_P99_S * ms:.0f} ms: {'ok' if met else 'MISS'}"
        f" (offered {rate:g}/s, achieved {achieved:.0f}/s, p99 {p99 * ms:.0f} ms)"
    )
    print("latency: scheduled send -> answer. Shared machine: compare with the reference row.")
    return 1 if failed or dupes else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--rate", type=float, default=300, help="requests offered per second")
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--batch", type=int, default=0, help="also post batches of N records")
    parser.add_argument("--batch-calls", type=int, default=5, help="batch calls per kind")
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:  # exactly `salesops serve --log-level warning`
        from bot.cli.slack import serve_command

        serve_command(
            host="127.0.0.1",
            port=args.serve,
            with_scheduler=False,
            no_charts=True,
            log_level="warning",
        )
        return 0
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required: a migrated demo database")
    run = uuid.uuid4().hex[:8]
    workload = Workload(args.database_url, run)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SALESOPS_INGEST_TOKEN": TOKEN,
        "SLACK_API_URL": "http://127.0.0.1:9/api/",  # ingest never calls Slack
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": "bench-signing-secret",
    }
    print(
        f"database {args.database_url}; {args.rate:g} requests/s for {args.seconds:g} s; "
        f"{os.cpu_count()} CPUs, load generator in this process, server in its own"
    )
    port = free_port()
    process = start_server(port, env)
    try:
        results = asyncio.run(measure(f"http://127.0.0.1:{port}", workload, args))
        rss = peak_rss_mb(process.pid)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # still draining requests nobody waits for
            process.kill()
            process.wait()
    return report(results, rss, duplicates(args.database_url, run), args.rate)


if __name__ == "__main__":
    sys.exit(main())
