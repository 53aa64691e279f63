"""A digest as JSON: `salesops digest --format json` (numbers as plain JSON numbers, null where
undefined, never NaN)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields, is_dataclass
from datetime import datetime
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo

from salesops_core.digest.facts import PeriodFacts, TeamDigest


def _period_json(period: PeriodFacts) -> dict[str, Any]:
    """A period as `salesops kpi --format json` shows it (bounds in the org zone), and whether
    it was still running."""
    zone = ZoneInfo(period.timezone)
    return {
        "start": period.start.astimezone(zone).isoformat(),
        "end": period.end.astimezone(zone).isoformat(),
        "label": period.label,
        "running": period.running,
    }


def _plain(value: Any) -> Any:
    """Facts as JSON values: dataclasses as objects, times as ISO strings, NaN as null."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def digest_json(digest: TeamDigest) -> dict[str, Any]:
    """The `salesops digest --format json` object: DESIGN.md's keys (team, period, kpis,
    quarter_to_date, leaderboard, behind_pace, sla_breaches, forecast, stale_deals), then the
    previous period, what changed, the recipient, the chart's facts and the recipient's nudges
    the daily budget held back (`held_nudges`: rule, subject, text). `kpis` and `previous` are
    `salesops kpi --team T --period P --format json`'s."""
    return {
        "team": digest.team,
        "period": _period_json(digest.period),
        "kpis": _plain(digest.kpis),
        "quarter_to_date": {
            "period": _period_json(digest.quarter),
            "elapsed_share": _plain(digest.chart.expected_attainment),
            "kpis": _plain(digest.quarter_to_date),
        },
        "leaderboard": _plain(digest.leaderboard),
        "behind_pace": _plain(digest.behind_pace),
        "sla_breaches": _plain(digest.sla),
        "forecast": _plain(digest.forecast),
        "stale_deals": _plain(digest.stale_deals),
        "scope": digest.scope,
        "region": digest.region,
        "previous_period": _period_json(digest.previous_period),
        "previous": _plain(digest.previous),
        "movers": _plain(digest.movers),
        "recipient": _plain(digest.recipient),
        "computed_at": digest.computed_at.isoformat(),
        "is_empty": digest.is_empty,
        "chart": _plain(digest.chart),
        "held_nudges": [
            {"rule": n.rule.value, "subject": n.subject, "text": n.fact} for n in digest.held_nudges
        ],
    }
