"""The CRM sync job: every `[sync] interval_minutes` (default 15; 0 turns it off), an
incremental sync of each CRM the environment connects (`bot.crm`).

A run holds its source's advisory lock on PostgreSQL for its whole length, so a second
scheduler (or `salesops sync` by hand) does nothing meanwhile. SQLite has no such lock, but
writes are upserts on external ids: two runs at once write nothing twice (one may move a
cursor back, which only means records are fetched again).
It sends nothing to Slack.
"""

from __future__ import annotations

import logging

from bot.crm import build_source, configured_sources
from bot.deps import Deps
from salesops_core.errors import ConfigError
from salesops_core.sync.runner import SyncReport, run_sync

log = logging.getLogger("salesops.sync")


def run_syncs(deps: Deps) -> list[SyncReport]:
    """One incremental sync of every connected CRM; the reports of those that ran."""
    reports = []
    for name in configured_sources(deps.settings):
        try:
            source = build_source(deps.settings, name)
        except ConfigError as exc:
            log.warning("%s sync skipped: %s", name, exc)
            continue
        try:
            report = run_sync(deps.sessions, source, org=deps.settings.org, sla=deps.settings.sla)
        except Exception:  # one CRM's failure must not keep the next one from syncing
            log.exception("%s sync failed", name)
            continue
        written = sum(c.created + c.updated + c.removed for c in report.counts.values())
        level = logging.WARNING if report.status == "failed" else logging.INFO
        log.log(
            level,
            "%s sync %s: %s record(s) written or removed, %s skipped, %s request(s)%s",
            name,
            report.status,
            written,
            len(report.skipped),
            report.requests,
            f": {report.message}" if report.message else "",
        )
        reports.append(report)
    return reports
