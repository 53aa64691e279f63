"""Charts drawn in a few worker processes, so drawing never holds the server's GIL.

Drawing a chart is CPU work that keeps the GIL (matplotlib's Python layout code): drawn in the
server's worker threads, it makes the event loop ack late and the answers wait. Here each
chart's `render` (a `functools.partial` of a function in `salesops_core.charts` over plain
data, see `commands.kit.reply.Chart`) is pickled to a warm process: the forkserver imports
matplotlib once, each worker draws one chart at start-up (fonts, caches) and then runs at a
lower CPU priority, so on a busy machine acks and answers go first and charts take the rest.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import suppress

from commands.kit.reply import Chart
from salesops_core import charts

# Added to the chart workers' nice value: when the server's own process wants the CPU too, it
# gets about 3x their share (Linux CFS weights 1024 vs 335).
CHART_NICENESS = 5


def default_chart_processes() -> int:
    """Chart processes: one per CPU. Niced, they draw on CPU time the server leaves idle."""
    return max(1, os.cpu_count() or 1)


def _warm_worker() -> None:
    """Worker start-up: draw once so the first real chart is fast, then lower the priority."""
    charts.kpi_trend(["warm-up"], [1.0], [1.0], title="warm-up")
    os.nice(CHART_NICENESS)


def _ready() -> None:
    """Nothing: submitted once per worker by `start`, so that each one is spawned."""


class ChartPool:
    """A bounded pool of chart-drawing processes, started on first use (or by `start`), and
    again after a worker died."""

    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes or default_chart_processes()
        self._executor: ProcessPoolExecutor | None = None
        self._closed = False
        self._lock = threading.Lock()

    def _pool(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the chart pool is closed")
            if self._executor is None:
                context = multiprocessing.get_context("forkserver")
                context.set_forkserver_preload(["salesops_core.charts"])
                self._executor = ProcessPoolExecutor(
                    self.processes, mp_context=context, initializer=_warm_worker
                )
            return self._executor

    def start(self) -> None:
        """Spawn and warm every worker in a background thread (returns at once), so the first
        chart does not wait for a process to start."""
        threading.Thread(target=self._spawn, name="salesops-chart-start", daemon=True).start()

    def _spawn(self) -> None:
        with suppress(RuntimeError):  # closed before the workers were spawned
            pool = self._pool()
            for _ in range(self.processes):
                pool.submit(_ready)

    async def draw(self, to_draw: Sequence[Chart]) -> list[bytes]:
        """The PNG bytes of each chart, drawn in the worker processes, in order."""
        # Submitting can spawn a worker (a blocking round trip to the forkserver): off the loop.
        pool = self._pool()
        try:
            drawn = await asyncio.to_thread(lambda: [pool.submit(c.render) for c in to_draw])
            return list(await asyncio.gather(*(asyncio.wrap_future(future) for future in drawn)))
        except BrokenProcessPool:  # a worker died (killed, out of memory): start afresh next time
            self._discard(pool)
            raise

    def _discard(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._executor is broken:
                self._executor = None
        broken.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Stop the workers (after the background work has drained; blocks until they exit)."""
        with self._lock:
            executor, self._executor, self._closed = self._executor, None, True
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
