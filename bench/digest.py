"""Benchmark: every team's weekly digest, built, drawn and delivered through the local Slack.

    python bench/digest.py                 # demo --scale 100: 300 teams
    python bench/digest.py --scale 10      # 30 teams, a quick run

Builds the demo org once into `--database-url` (default /work/bench-data/digest-<scale>.db),
at a pinned Monday so every run sees the same data. Then, at that Monday 17:00 UTC (9:00 in
Los Angeles, so every manager's digest is due):
- times building every digest from one pass of the engine (`build_digests`, median of --runs);
- draws every team's composite chart (median and max);
- enqueues every digest as `salesops digest --all --send-now` does (to each manager, and to
  the team channel of every "NA East" team), then delivers them with two dispatcher threads
  through the local Slack server (tests/support/slack_server.py) with Slack's rate limits on,
  and compares the delivery wall time with the floor those limits allow for the calls made.

Prints the figures and peak RSS; exits 1 if a digest or chart is missing or arrives twice, or
if a Slack call was refused by the rate limits more than a handful of times. The outbox is
emptied at the start: never point it at real data.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

from slack_sdk import WebClient
from sqlalchemy import delete, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.jobs.delivery import Dispatcher
from bot.jobs.digest import send_now
from bot.jobs.pacing import Pacer
from bot.settings import Settings
from salesops_core.charts import digest_chart
from salesops_core.config import DigestConfig, OrgConfig
from salesops_core.db.engine import make_engine, make_session_factory
from salesops_core.db.models import Outbox, OutboxStatus, Rep, Role, Team
from salesops_core.demo import load_demo
from salesops_core.digest.content import build_digests
from salesops_core.org.views import team_managers
from salesops_core.periods import parse_period
from tests.support.slack_server import FakeSlack

DEMO_NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # a Monday; the demo's "now"
SEND_AT = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 9:00 in Los Angeles: all are due
RATIO_TARGET = 1.2
CHART_MEDIAN_TARGET_MS, CHART_MAX_TARGET_MS = 150.0, 400.0
RSS_TARGET_MB = 1024.0


def build_once(url: str, scale: float) -> None:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as session:
            teams = session.scalar(select(func.count()).select_from(Team)) or 0
    except Exception:
        teams = 0
    if not teams:
        print(f"building the demo org at scale {scale:g} into {url} ...", flush=True)
        started = time.perf_counter()
        load_demo(engine, now=DEMO_NOW, scale=scale, fresh=True)
        print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    engine.dispose()


def timed(fn, runs: int):  # type: ignore[no-untyped-def]
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return times, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=100, help="demo scale (100: 300 teams)")
    parser.add_argument("--database-url", help="default sqlite:////work/bench-data/digest-N.db")
    parser.add_argument("--runs", type=int, default=3, help="timed builds (median)")
    parser.add_argument("--dispatchers", type=int, default=2, help="dispatcher threads")
    args = parser.parse_args()
    url = args.database_url
    if url is None:
        folder = Path("/work/bench-data")
        folder.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{folder / f'digest-{args.scale:g}.db'}"
    build_once(url, args.scale)
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    org = OrgConfig(timezone="UTC")
    with sessions() as session:
        teams = list(session.scalars(select(Team).order_by(Team.name)))
        channels = {t.name: f"C{t.id:08d}" for t in teams if t.name.startswith("NA East")}
        managers = team_managers(session, [t.id for t in teams])
    settings = Settings(org=org, digest=DigestConfig(channels=channels))
    period = parse_period(settings.digest.period, tz=org.tz, now=SEND_AT)
    print(f"{len(teams)} teams, {len(managers)} managers, {len(channels)} team channels")

    def build():  # type: ignore[no-untyped-def]
        with sessions() as session:
            return build_digests(session, period, org, settings.sla, SEND_AT)

    build()  # warm-up
    build_times, digests = timed(build, args.runs)
    print(f"build every digest (one pass): median {statistics.median(build_times):.2f} s")

    chart_ms = []
    for digest in digests:
        started = time.perf_counter()
        png = digest_chart(digest.chart)
        chart_ms.append((time.perf_counter() - started) * 1000)
        assert png.startswith(b"\x89PNG")
    chart_median, chart_max = statistics.median(chart_ms), max(chart_ms)
    print(f"chart render: median {chart_median:.0f} ms, max {chart_max:.0f} ms")

    with sessions.begin() as session:
        session.execute(delete(Outbox))
    started = time.perf_counter()
    with sessions.begin() as session:
        results = send_now(session, settings, teams, period, SEND_AT)
    enqueue_seconds = time.perf_counter() - started
    enqueued = sum(r.enqueued for r in results)
    print(f"enqueue (build + draw + write, as --send-now --all): {enqueue_seconds:.1f} s")

    expected_dms = {str(rep.slack_user_id) for rep in managers.values()}
    expected = {*expected_dms, *channels.values()}
    with FakeSlack() as fake:
        fake.enforce_rate_limits()
        client = WebClient(token="xoxb-bench", base_url=fake.base_url, retry_handlers=[])
        pacer = Pacer()
        stop = threading.Event()
        threads = [
            threading.Thread(
                target=Dispatcher(sessions, client, pacer=pacer).run_forever, args=(stop, 0.05)
            )
            for _ in range(args.dispatchers)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        done = lambda: len(fake.calls_to("files.completeUploadExternal")) >= enqueued  # noqa: E731
        fake.wait_for(done, timeout=3600)
        delivery_seconds = time.perf_counter() - started
        time.sleep(1.0)  # let a duplicate show up
        stop.set()
        for thread in threads:
            thread.join()
        posts = Counter(str(c.params["channel"]) for c in fake.calls_to("chat.postMessage"))
        shares = Counter(
            str(c.params["channel_id"]) for c in fake.calls_to("files.completeUploadExternal")
        )
        floor = fake.floor_seconds()
        refused = len(fake.rate_limited)
    with sessions() as session:
        statuses = Counter(session.scalars(select(Outbox.status)))
        manager_reps = session.scalar(
            select(func.count()).select_from(Rep).where(Rep.role == Role.MANAGER)
        )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    dm_of = {"D" + user[1:]: user for user in expected_dms}
    shared_to = Counter(dm_of.get(channel, channel) for channel in shares.elements())
    problems = []
    if set(posts) != expected or any(n != 1 for n in posts.values()):
        problems.append(f"digests: {len(posts)} recipients, duplicates {posts - Counter(expected)}")
    if set(shared_to) != expected or any(n != 1 for n in shared_to.values()):
        problems.append(f"charts: {len(shared_to)} recipients, {shared_to - Counter(expected)}")
    if statuses.get(OutboxStatus.SENT, 0) != 2 * enqueued:
        problems.append(f"outbox: {dict(statuses)}")
    ratio = delivery_seconds / floor if floor else float("inf")
    print(
        f"delivery: {enqueued} digests + {enqueued} charts to {len(expected)} conversations "
        f"({manager_reps} managers) in {delivery_seconds:.1f} s; floor under Slack's limits "
        f"{floor:.1f} s; ratio {ratio:.2f}x (target <= {RATIO_TARGET}x); 429s: {refused}"
    )
    print(f"peak RSS {rss_mb:.0f} MB (target < {RSS_TARGET_MB:.0f} MB)")
    for name, ok in (
        ("delivery ratio", ratio <= RATIO_TARGET),
        ("chart median", chart_median < CHART_MEDIAN_TARGET_MS),
        ("chart max", chart_max < CHART_MAX_TARGET_MS),
        ("peak RSS", rss_mb < RSS_TARGET_MB),
    ):
        print(f"  {'ok  ' if ok else 'MISS'} {name}")
    for problem in problems:
        print(f"FAIL {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
