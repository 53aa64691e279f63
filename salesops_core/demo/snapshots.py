"""The demo's weekly forecast snapshots: those a scheduler would have taken over its last
quarter of history, each as of its own Monday (forecasts submitted by then, pipeline as of
then from the stage history), so `salesops forecast history` has weeks to show.

Each week costs about 0.1 s at scale 1 (two set-based reads); 13 weeks cover the default
8-week history and a quarter's worth of "what did we think then" without slowing the demo.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.forecast.snapshots import take_past_snapshots

DEMO_SNAPSHOT_WEEKS = 13


def demo_snapshots(session: Session, org: OrgConfig, now: datetime) -> int:
    """Take the demo's weekly snapshots up to `now`; how many weeks were snapshotted."""
    since = now - timedelta(weeks=DEMO_SNAPSHOT_WEEKS)
    return len(take_past_snapshots(session, org, since, now))
