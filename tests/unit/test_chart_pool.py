"""The chart pool draws in warm worker processes at a lower priority, and stops cleanly."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from functools import partial

import pytest

from bot.chart_pool import CHART_NICENESS, ChartPool
from commands.kit.reply import Chart
from salesops_core import charts

TREND = partial(charts.kpi_trend, ["Q1", "Q2"], [1_000.0, 2_000.0], [0.5, 1.1], title="trend")


@pytest.fixture(scope="module")
def pool() -> Iterator[ChartPool]:
    chart_pool = ChartPool(1)
    yield chart_pool
    chart_pool.close()


def test_charts_from_the_pool_are_the_pngs_drawn_here_in_the_order_asked(
    pool: ChartPool,
) -> None:
    titles = ["first", "second", "third"]
    asked = [Chart(f"{t}.png", t, partial(TREND.func, *TREND.args, title=t)) for t in titles]
    assert asyncio.run(pool.draw(asked)) == [chart.render() for chart in asked]


def test_charts_are_drawn_in_another_process_at_a_lower_priority(pool: ChartPool) -> None:
    probes = [
        Chart("pid", "pid", os.getpid),
        Chart("nice", "nice", partial(os.getpriority, os.PRIO_PROCESS, 0)),
    ]
    worker_pid, worker_nice = asyncio.run(pool.draw(probes))  # type: ignore[misc]
    assert worker_pid != os.getpid()
    assert worker_nice == min(19, os.getpriority(os.PRIO_PROCESS, 0) + CHART_NICENESS)


def test_closing_stops_the_worker_processes() -> None:
    pool = ChartPool(1)
    (pid,) = asyncio.run(pool.draw([Chart("pid", "pid", os.getpid)]))
    pool.close()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)  # type: ignore[arg-type]


def test_a_worker_that_dies_fails_its_chart_and_the_next_chart_gets_a_new_pool() -> None:
    pool = ChartPool(1)
    try:
        with pytest.raises(BrokenProcessPool):
            asyncio.run(pool.draw([Chart("dies", "dies", partial(os._exit, 1))]))
        (pid,) = asyncio.run(pool.draw([Chart("pid", "pid", os.getpid)]))
        assert pid != os.getpid()
    finally:
        pool.close()
