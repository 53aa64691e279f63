"""Slash-command ack latency and answer time of `salesops serve`, as ratios to bare Bolt.

Run by hand against a demo org (e.g. `DATABASE_URL=sqlite:///demo.db salesops demo --scale 100`):

    python bench/ack_latency.py --database-url sqlite:///demo.db [--concurrency 1,10,50]

In one run, the same load goes to three servers, each in its own process, round by round in
turn (the load generator and the local Slack run in this process):

- bare: a Bolt AsyncApp whose only listener acks `/kpi` (the floor for Bolt on this machine);
- text: `salesops serve --no-charts` (the answer without a chart);
- chart: `salesops serve` (the answer renders a chart, uploaded after the answer).

For each: ack latency p50/p99 (send -> HTTP 200) and its ratio to bare Bolt at the same
concurrency; for the bot, the time until the answer arrives on response_url; for the chart
server, the time until each chart is uploaded (the round's first send -> the local Slack's
files.completeUploadExternal). Goals (issue 11): ack <= 1.2x bare at every level; at 50
concurrent, answer p50 < 1 s and chart uploaded p50 < 3 s. Exit status 1 when a request failed
or an answer or chart never came.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from salesops_core.db.engine import make_engine, require_migrated  # noqa: E402
from salesops_core.db.models import Rep, Role  # noqa: E402
from tests.support.bench_kit import free_port, percentile, wait_listening  # noqa: E402
from tests.support.bot_harness import SIGNING_SECRET, sign, slash_command_body  # noqa: E402
from tests.support.slack_server import FakeSlack  # noqa: E402

TARGET_ACK_RATIO = 1.2  # at every concurrency
TARGET_AT = 50  # the concurrency the answer and chart goals are for
TARGET_ANSWER_S = 1.0  # answer p50
TARGET_CHART_S = 3.0  # chart uploaded p50


class TimedResponses(list):
    """FakeSlack's response list, also noting when each response_url post arrived."""

    def __init__(self) -> None:
        super().__init__()
        self.arrived: dict[str, float] = {}

    def append(self, item: dict) -> None:  # type: ignore[override]
        self.arrived[item["_path"]] = time.monotonic()
        super().append(item)


@dataclass
class Sample:
    ack_s: list[float] = field(default_factory=list)
    answer_s: list[float] = field(default_factory=list)
    chart_s: list[float] = field(default_factory=list)  # send -> files.completeUploadExternal
    failures: int = 0


def serve_bare(port: int) -> None:
    """The floor: a Bolt AsyncApp behind the same Starlette handler, whose listener only acks."""
    import uvicorn
    from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
    from slack_bolt.async_app import AsyncApp
    from slack_sdk.web.async_client import AsyncWebClient
    from starlette.applications import Starlette
    from starlette.routing import Route

    client = AsyncWebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"])
    bolt = AsyncApp(client=client, signing_secret=SIGNING_SECRET)

    async def acknowledge(ack):  # type: ignore[no-untyped-def]
        await ack()

    bolt.command("/kpi")(acknowledge)
    handler = AsyncSlackRequestHandler(bolt)

    async def endpoint(request):  # type: ignore[no-untyped-def]
        return await handler.handle(request)

    app = Starlette(routes=[Route("/slack/events", endpoint, methods=["POST"])])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


def start_server(kind: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    if kind == "bare":
        argv = [sys.executable, __file__, "--serve-bare", str(port)]
    else:
        argv = [sys.executable, __file__, "--serve-bot", str(port)]
        argv += ["--no-charts"] if kind == "text" else []
    process = subprocess.Popen(argv, env=env, cwd=ROOT)
    # a loaded machine imports slowly
    wait_listening(process, port, what=f"the {kind} server", seconds=300)
    return process


async def one_round(
    http: httpx.AsyncClient,
    url: str,
    fake: FakeSlack,
    user: str,
    text: str,
    n: int,
    sample: Sample,
    expect_answer: bool,
    uploads_before: int,
    charts: bool,
) -> None:
    paths, bodies = [], []
    for _ in range(n):
        response_url = fake.response_url()
        paths.append(response_url.removeprefix(fake.url))
        bodies.append(slash_command_body("/kpi", text, user_id=user, response_url=response_url))

    async def post(body: str) -> tuple[float, float, int]:
        headers = {"Content-Type": "application/x-www-form-urlencoded", **sign(body)}
        started = time.monotonic()
        response = await http.post(url, content=body, headers=headers)
        return started, time.monotonic() - started, response.status_code

    results = await asyncio.gather(*(post(body) for body in bodies))
    for _, ack, status in results:
        sample.ack_s.append(ack)
        sample.failures += status != 200
    if not expect_answer:
        return
    arrived: dict[str, float] = fake.responses.arrived  # type: ignore[attr-defined]
    deadline = time.monotonic() + 120
    while not all(p in arrived for p in paths) and time.monotonic() < deadline:
        await asyncio.sleep(0.005)
    for (started, _, _), path in zip(results, paths, strict=True):
        if path in arrived:
            sample.answer_s.append(arrived[path] - started)
        else:
            sample.failures += 1
    if charts:  # let this round's uploads finish so they do not load the next round
        want = uploads_before + n
        while (
            len(fake.calls_to("files.completeUploadExternal")) < want
            and time.monotonic() < deadline
        ):
            await asyncio.sleep(0.01)
        first = min(started for started, _, _ in results)
        done = fake.calls_to("files.completeUploadExternal")[uploads_before:]
        sample.chart_s += [call.at - first for call in done]
        sample.failures += n - len(done)


async def measure(
    servers: dict[str, str], fake: FakeSlack, user: str, levels: list[int], rounds: int
) -> dict[str, dict[int, Sample]]:
    """Each level's rounds go to the servers in turn (bare, text, chart, bare, ...), so a change
    in the machine's load while the bench runs weighs on every server alike."""
    table = {kind: {n: Sample() for n in levels} for kind in servers}
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=60, limits=limits) as http:

        async def round_of(kind: str, n: int, sample: Sample) -> None:
            await one_round(
                http,
                servers[kind],
                fake,
                user,
                "",
                n,
                sample,
                kind != "bare",
                len(fake.calls_to("files.completeUploadExternal")),
                kind == "chart",
            )

        for kind in servers:  # warm-up: auth.test, identity link, caches, first query plans
            for _ in range(3):
                await round_of(kind, 1, Sample())
        for n in levels:
            for _ in range(max(2, rounds // n)):
                for kind in servers:
                    await round_of(kind, n, table[kind][n])
    return table


def peak_rss_mb(pid: int) -> float:
    """Peak resident memory (VmHWM) of a process and its descendants (chart processes), MB."""
    total, pids = 0, [pid]
    while pids:
        current = pids.pop()
        proc = Path(f"/proc/{current}")
        try:
            status = (proc / "status").read_text()
            children = [
                int(child)
                for task in (proc / "task").iterdir()
                for child in (task / "children").read_text().split()
            ]
        except OSError:
            continue
        total += next(int(line.split()[1]) for line in status.splitlines() if "VmHWM" in line)
        pids += children
    return total / 1024


def pick_user(database_url: str) -> tuple[str, str, str]:
    """A rep with a Slack id (the demo org's reps have one), its email and name."""
    engine = make_engine(database_url)
    require_migrated(engine)
    with engine.connect() as connection:
        row = connection.execute(
            select(Rep.slack_user_id, Rep.email, Rep.name)
            .where(Rep.slack_user_id.is_not(None), Rep.role == Role.REP, Rep.active)
            .order_by(Rep.id)
            .limit(1)
        ).first()
    engine.dispose()
    if row is None:
        raise SystemExit("no active rep with a Slack id: run `salesops demo` on this database")
    return row[0], row[1] or "", row[2]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--concurrency", default="1,10,50")
    parser.add_argument("--rounds", type=int, default=40, help="requests per level (about)")
    parser.add_argument("--servers", default="bare,text,chart")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-bot", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--no-charts", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return 0
    if args.serve_bot:  # exactly `salesops serve --no-charts? --log-level warning`
        from bot.cli.slack import serve_command

        serve_command(
            host="127.0.0.1",
            port=args.serve_bot,
            with_scheduler=False,
            no_charts=args.no_charts,
            log_level="warning",
        )
        return 0
    if not args.database_url:
        parser.error("--database-url (or DATABASE_URL) is required: a migrated demo database")
    levels = [int(x) for x in args.concurrency.split(",")]
    user, email, name = pick_user(args.database_url)
    fake = FakeSlack().start()
    fake.responses = TimedResponses()
    fake.add_user(user, email, name)
    env = {
        **os.environ,
        "DATABASE_URL": args.database_url,
        "SLACK_API_URL": fake.base_url,
        "SLACK_BOT_TOKEN": "xoxb-bench",
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
    }
    print(
        f"database {args.database_url}; asking /kpi as {name} ({user}); "
        f"{os.cpu_count()} CPUs, load generator and local Slack in this process"
    )
    processes: dict[str, subprocess.Popen] = {}
    servers: dict[str, str] = {}
    try:
        for kind in args.servers.split(","):
            port = free_port()
            processes[kind] = start_server(kind, port, env)
            servers[kind] = f"http://127.0.0.1:{port}/slack/events"
        table = asyncio.run(measure(servers, fake, user, levels, args.rounds))
        peaks = {kind: peak_rss_mb(process.pid) for kind, process in processes.items()}
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=30)
        fake.stop()
    return report(table, levels, peaks)


def report(table: dict[str, dict[int, Sample]], levels: list[int], peaks: dict[str, float]) -> int:
    ms = 1000
    print(
        f"\n{'server':<7}{'conc':>5}{'n':>5}{'ack p50':>10}{'ack p99':>10}{'x bare p50':>12}"
        f"{'x bare p99':>12}{'answer p50':>12}{'answer p99':>12}{'chart p50':>12}"
        f"{'chart p99':>12}  goals"
    )
    failures = 0
    for kind, by_level in table.items():
        for n in levels:
            s = by_level[n]
            failures += s.failures
            p50, p99 = percentile(s.ack_s, 0.5), percentile(s.ack_s, 0.99)
            line = f"{kind:<7}{n:>5}{len(s.ack_s):>5}{p50 * ms:>8.1f}ms{p99 * ms:>8.1f}ms"
            notes = []
            bare = table.get("bare", {}).get(n)
            if bare and kind != "bare":
                r50, r99 = p50 / percentile(bare.ack_s, 0.5), p99 / percentile(bare.ack_s, 0.99)
                line += f"{r50:>11.2f}x{r99:>11.2f}x"
                notes.append(f"ack<={TARGET_ACK_RATIO}x:{_verdict(r50 <= TARGET_ACK_RATIO)}")
            else:
                line += " " * 24
            line += _columns(s.answer_s) + _columns(s.chart_s)
            if s.answer_s and n == TARGET_AT:
                ok = percentile(s.answer_s, 0.5) < TARGET_ANSWER_S
                notes.append(f"answer p50<{TARGET_ANSWER_S * ms:.0f}ms:{_verdict(ok)}")
            if s.chart_s and n == TARGET_AT:
                ok = percentile(s.chart_s, 0.5) < TARGET_CHART_S
                notes.append(f"chart p50<{TARGET_CHART_S * ms:.0f}ms:{_verdict(ok)}")
            if s.failures:
                notes.append(f"{s.failures} FAILED")
            print(line + "  " + " ".join(notes))
    print(
        "\npeak RSS (server and its chart processes): "
        + ", ".join(f"{kind} {mb:.0f} MB" for kind, mb in peaks.items())
    )
    print(
        "\nack: send -> HTTP 200; answer: send -> JSON posted to response_url; chart: the "
        "round's first send -> files.completeUploadExternal. Shared machine: compare ratios, "
        "not absolute figures."
    )
    return 1 if failures else 0


def _columns(values: list[float]) -> str:
    """p50 and p99 in ms, or blanks when there are none."""
    if not values:
        return " " * 24
    return f"{percentile(values, 0.5) * 1000:>10.0f}ms{percentile(values, 0.99) * 1000:>10.0f}ms"


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISS"


if __name__ == "__main__":
    sys.exit(main())
