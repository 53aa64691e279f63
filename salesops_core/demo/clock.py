"""Vectorised time helpers for the demo generator: epoch seconds, local time, business hours.

Times are int64 seconds since the Unix epoch (UTC). Local wall-clock times are the same kind
of number read in a time zone (the seconds a naive local datetime would have). DST is
handled by pandas' vectorised zone conversion, one zone at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

DAY = 86_400
NEVER = np.iinfo(np.int64).max // 4  # a time after every real one ("not happening")


def epoch(moment: datetime) -> int:
    """Whole seconds since the epoch of an aware (or naive UTC) datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _convert(
    seconds: np.ndarray, zones: np.ndarray, names: Sequence[str], to_local: bool
) -> np.ndarray:
    out = np.empty_like(seconds)
    for index in np.unique(zones):
        mask = zones == index
        stamps = pd.DatetimeIndex(seconds[mask].astype("datetime64[s]"))
        if to_local:
            moved = stamps.tz_localize("UTC").tz_convert(names[index]).tz_localize(None)
        else:
            moved = (
                stamps.tz_localize(
                    names[index],
                    ambiguous=np.zeros(len(stamps), dtype=bool),
                    nonexistent="shift_forward",
                )
                .tz_convert("UTC")
                .tz_localize(None)
            )
        out[mask] = moved.to_numpy().astype("datetime64[s]").astype(np.int64)
    return out


def to_local(seconds: np.ndarray, zones: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """UTC epoch seconds -> local wall-clock seconds in each row's zone (index into names)."""
    return _convert(seconds, zones, names, to_local=True)


def to_utc(local: np.ndarray, zones: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """Local wall-clock seconds in each row's zone -> UTC epoch seconds."""
    return _convert(local, zones, names, to_local=False)


def weekday(day: np.ndarray) -> np.ndarray:
    """ISO weekday minus one (Monday 0 .. Sunday 6) of days since the epoch."""
    return (day + 3) % 7


def skip_weekend(day: np.ndarray) -> np.ndarray:
    """Move Saturdays and Sundays to the following Monday."""
    wd = weekday(day)
    return day + np.where(wd == 5, 2, np.where(wd == 6, 1, 0))


def in_working_hours(
    seconds: np.ndarray,
    zones: np.ndarray,
    names: Sequence[str],
    work_start: np.ndarray,
    work_end: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Move each time to a random minute of its owner's working day (weekends -> Monday).

    work_start/work_end are minutes after local midnight, one per row.
    """
    local = to_local(seconds, zones, names)
    day = skip_weekend(local // DAY)
    minute = work_start + rng.random(len(seconds)) * (work_end - work_start)
    return to_utc(day * DAY + (minute * 60).astype(np.int64), zones, names)


def next_working_moment(
    seconds: np.ndarray,
    zones: np.ndarray,
    names: Sequence[str],
    work_start: np.ndarray,
    work_end: np.ndarray,
) -> np.ndarray:
    """The time itself when inside working hours, else the start of the next working day."""
    local = to_local(seconds, zones, names)
    day = local // DAY
    second = local % DAY
    workday = weekday(day) < 5
    start = work_start.astype(np.int64) * 60
    end = work_end.astype(np.int64) * 60
    inside = workday & (second >= start) & (second < end)
    before = workday & (second < start)
    next_day = skip_weekend(day + 1)
    moved = np.where(before, day * DAY + start, next_day * DAY + start)
    return np.where(inside, seconds, to_utc(moved, zones, names))


def quarter_starts(
    first: datetime, last: datetime, tz: ZoneInfo, fiscal_year_start_month: int
) -> list[tuple[int, int]]:
    """Fiscal quarters [start, end) in epoch seconds, from the one holding `first` to the one
    after the one holding `last` (quotas are set a quarter ahead)."""
    local = first.astimezone(tz)
    offset = (local.month - fiscal_year_start_month) % 3
    year, month = local.year, local.month - offset
    if month < 1:
        year, month = year - 1, month + 12
    quarters: list[tuple[int, int]] = []
    start = datetime(year, month, 1, tzinfo=tz)
    stop = epoch(last)
    while True:
        month_index = year * 12 + month - 1 + 3
        year, month = month_index // 12, month_index % 12 + 1
        end = datetime(year, month, 1, tzinfo=tz)
        quarters.append((epoch(start), epoch(end)))
        if epoch(start) > stop:
            return quarters
        start = end


def as_datetime64(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds -> numpy datetime64[s] (NEVER and negatives are not expected here)."""
    return seconds.astype("datetime64[s]")
