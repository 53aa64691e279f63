"""The one dependency container: everything a process shares, built once by its entry point.

The CLI uses the settings and the database; the Slack app and the HTTP server also use the
metrics, the worker pool, the chart processes and the background work. `bot.app.build_app` and
`bot.server.create_app` take one `Deps` and hand it to every listener module's
`register(app, deps)`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.chart_pool import ChartPool
from bot.metrics import Metrics
from bot.runtime import BackgroundWork, WorkerPool
from bot.settings import Settings, load_settings
from commands.kit.reply import Chart, CommandContext
from salesops_core.db.engine import make_engine, make_session_factory, require_migrated
from salesops_core.leads.engine import LeadRules


@dataclass(frozen=True)
class Deps:
    """Settings, the database, and the Slack app's metrics, worker pool and background work."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    metrics: Metrics = field(default_factory=Metrics)
    workers: WorkerPool = field(default_factory=WorkerPool)
    background: BackgroundWork = field(default_factory=BackgroundWork)
    charts: bool = True  # False: answer commands without rendering or uploading charts
    chart_pool: ChartPool | None = None  # None: charts are drawn in the worker threads

    def __post_init__(self) -> None:
        background = self.background
        self.metrics.background_tasks.set_function(lambda: len(background))

    def command_context(self, *, now: datetime | None = None) -> CommandContext:
        """What a slash command needs besides the session and the viewer (cheap, per request);
        `now` pins the time (`salesops ask --now`)."""
        settings = self.settings
        return CommandContext(
            org=settings.org,
            sla=tuple(settings.sla),
            charts=self.charts,
            nudges=settings.nudges,
            now=now,
        )

    async def draw_charts(self, charts: Sequence[Chart]) -> list[bytes]:
        """The charts' PNG bytes, in order: in the chart processes, else in worker threads."""
        if self.chart_pool is not None:
            return await self.chart_pool.draw(charts)
        # `render`, not the cached `png`: Python 3.11's cached_property locks per class, which
        # would let only one thread draw at a time.
        return await self.workers.run(lambda: [chart.render() for chart in charts])

    def lead_rules(self) -> LeadRules:
        """The lead engine's rules from the settings: the org calendar and the SLA policies."""
        return LeadRules(org=self.settings.org, policies=list(self.settings.sla))


def build_deps(settings: Settings | None = None, *, charts: bool = True) -> Deps:
    """Load settings (unless given) and open the database they name."""
    settings = settings or load_settings()
    engine = make_engine(settings.database_url)
    processes = settings.chart_processes
    return Deps(
        settings=settings,
        engine=engine,
        sessions=make_session_factory(engine),
        charts=charts,
        chart_pool=ChartPool(processes) if charts and processes != 0 else None,
    )


def build_ready_deps(*, charts: bool = True) -> Deps:
    """`build_deps()` for commands that need the schema: refuses an unmigrated database."""
    deps = build_deps(charts=charts)
    require_migrated(deps.engine)
    return deps
