"""How the Slack app runs work: a worker pool for blocking calls, background work a shutdown
waits for, and acks before answers (`after_ack`, `AckFirstMiddleware`)."""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("salesops.bot")
T = TypeVar("T")


def default_workers() -> int:
    """Worker threads for blocking work: one per CPU (at least 2).

    More threads than CPUs do not answer faster (the work is CPU-bound and holds the GIL most
    of the time) but they take the GIL from the event loop, which then acks late.
    """
    return max(2, os.cpu_count() or 2)


class BackgroundWork:
    """The lazy-listener tasks running now, so a shutdown can let them finish.

    Bolt starts lazy listeners as bare asyncio tasks; without this a stopping server would
    drop answers users are waiting for (and leave transactions open behind it).
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    def __len__(self) -> int:
        # A copy first: /metrics (and tests) count from another thread while the loop adds tasks.
        return sum(1 for task in tuple(self._tasks) if not task.done())

    @contextmanager
    def tracking(self) -> Iterator[None]:
        """Count the current task as background work while the block runs."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)

    async def drain(self, timeout: float) -> int:
        """Wait up to `timeout` seconds for running work; return how many did not finish."""
        pending = {t for t in self._tasks if not t.done() and t is not asyncio.current_task()}
        if not pending:
            return 0
        log.info("waiting for %d background task(s) to finish", len(pending))
        _, still_running = await asyncio.wait(pending, timeout=timeout)
        if still_running:
            log.warning("%d background task(s) still running at shutdown", len(still_running))
        return len(still_running)


class WorkerPool:
    """The bounded pool of threads that runs blocking work (SQL, pandas, matplotlib).

    Threads start on first use, so a process that never runs blocking work has none.
    """

    def __init__(self, size: int | None = None) -> None:
        self.size = size or default_workers()
        self._executor = ThreadPoolExecutor(self.size, thread_name_prefix="salesops-work")

    async def run(self, func: Callable[..., T], *args: object) -> T:
        """Run `func(*args)` in a worker thread and wait for its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(func, *args))

    def close(self) -> None:
        """Stop the worker threads (after the background work has drained)."""
        self._executor.shutdown(wait=False, cancel_futures=True)


# Set per Slack request by AckFirstMiddleware; Bolt's lazy-listener tasks inherit a copy of
# the request's context, so they can wait until the acks are on the wire before starting work.
@dataclass(frozen=True)
class _AckGate:
    sent: asyncio.Event  # this request's response has been sent
    all_sent: asyncio.Event  # no Slack request is waiting for its ack


_ack_gate: ContextVar[_AckGate | None] = ContextVar("salesops_ack_gate", default=None)
ACK_WAIT_LIMIT_SECONDS = 3.0
SLACK_PATH = "/slack/events"


async def after_ack() -> None:
    """Wait until this request's ack, and every other pending ack, has been sent.

    Acks first: work that starts at once takes the GIL (and a CPU) from the event loop that
    is still writing acks, which Slack wants within 3 s. Waiting is capped at
    ACK_WAIT_LIMIT_SECONDS so a steady stream of requests cannot starve the answers.
    In Socket Mode (no HTTP request) this returns at once.
    """
    gate = _ack_gate.get()
    if gate is None:
        return
    with suppress(TimeoutError):
        async with asyncio.timeout(ACK_WAIT_LIMIT_SECONDS):
            await gate.sent.wait()
            await gate.all_sent.wait()


class AckFirstMiddleware:
    """Pure ASGI middleware: tracks which Slack requests still wait for their ack."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._pending = 0
        self._all_sent: asyncio.Event | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != SLACK_PATH:
            await self.app(scope, receive, send)
            return
        if self._all_sent is None:
            self._all_sent = asyncio.Event()
        all_sent = self._all_sent
        self._pending += 1
        all_sent.clear()
        sent = asyncio.Event()

        def mark_sent() -> None:
            if not sent.is_set():
                sent.set()
                self._pending -= 1
                if self._pending == 0:
                    all_sent.set()

        async def send_and_mark(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                mark_sent()

        token = _ack_gate.set(_AckGate(sent, all_sent))
        try:
            await self.app(scope, receive, send_and_mark)
        finally:
            mark_sent()
            _ack_gate.reset(token)
