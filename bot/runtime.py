"""Per-process objects the listeners and the server share: metrics, background work, options."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.metrics import Metrics

log = logging.getLogger("salesops.bot")


class BackgroundWork:
    """The lazy-listener tasks running now, so a shutdown can let them finish.

    Bolt starts lazy listeners as bare asyncio tasks; without this a stopping server would
    drop answers users are waiting for (and leave transactions open behind it).
    """

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[object]] = set()

    def __len__(self) -> int:
        return sum(1 for task in self._tasks if not task.done())

    @contextmanager
    def tracking(self) -> Iterator[None]:
        """Count the current task as background work while the block runs."""
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            self._tasks.discard(task)  # type: ignore[arg-type]

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


@dataclass
class Runtime:
    """What one process's listeners share; built once by `build_app` / `create_app`."""

    metrics: Metrics = field(default_factory=Metrics)
    background: BackgroundWork = field(default_factory=BackgroundWork)
    charts: bool = True  # False: answer commands without rendering or uploading charts

    def __post_init__(self) -> None:
        self.metrics.background_tasks.set_function(lambda: len(self.background))
