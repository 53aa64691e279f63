"""Pace: where quota attainment stands against the share of the period that has passed.

The one definition of "behind pace": attainment below the elapsed share of the period. Once a
period has ended its elapsed share is 1, so behind pace then means below quota. /quota, /team
and App Home all ask this module.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from salesops_core.periods import Period

Row = TypeVar("Row", bound=Mapping[str, Any])


def elapsed_share(period: Period, now: datetime) -> float:
    """The share of the period that has passed at `now` (0..1): the attainment on pace by now."""
    total = period.days()
    return min(1.0, max(0.0, period.days(now) / total)) if total > 0 else 1.0


@dataclass(frozen=True)
class Pace:
    """Attainment against the attainment expected by now."""

    attainment: float | None
    expected: float  # elapsed share of the period = attainment "on pace" by now
    quota: float | None
    won: float

    @property
    def gap(self) -> float | None:
        """Quota still to win (0 once reached); None without a quota."""
        return None if self.quota is None else max(self.quota - self.won, 0.0)

    @property
    def shortfall(self) -> float | None:
        """Money still to win to be back on pace now: expected x quota - won, at least 0;
        None without a quota."""
        return None if self.quota is None else max(self.expected * self.quota - self.won, 0.0)

    @property
    def behind(self) -> bool | None:
        """True when attainment is below the elapsed share; None without a quota."""
        return None if self.attainment is None else self.attainment < self.expected

    @property
    def projected(self) -> float | None:
        """Attainment at the end of the period if the pace so far continues."""
        if self.attainment is None or self.expected <= 0:
            return None
        return self.attainment / self.expected


def pace_of(kpis: Mapping[str, Any], expected: float, quota: float | None = None) -> Pace:
    """The pace of one set of KPIs (a scope's, or a leaderboard row)."""
    return Pace(kpis.get("quota_attainment"), expected, quota, float(kpis.get("won_amount") or 0))


def behind_pace(rows: Iterable[Row], expected: float) -> list[Row]:
    """The rows (leaderboard rows: reps) with a quota whose attainment is behind pace."""
    return [row for row in rows if pace_of(row, expected).behind]
