"""Grouped percentiles over arrays, for SQLite (which has no percentile_cont).

The same linear interpolation as Postgres' percentile_cont, numpy and pandas: for the sorted
values x of a group of n, position h = (n - 1) * q, value x[floor h] + (h - floor h) *
(x[floor h + 1] - x[floor h]). One sort for all groups; no Python loop over groups or rows.
"""

from __future__ import annotations

import numpy as np


def grouped_quantile(
    groups: np.ndarray, values: np.ndarray, q: float
) -> tuple[np.ndarray, np.ndarray]:
    """The q-quantile of `values` per group: (the groups in ascending order, their quantiles)."""
    if len(groups) == 0:
        return groups[:0], values[:0].astype("float64")
    order = np.lexsort((values, groups))
    sorted_groups, sorted_values = groups[order], values[order].astype("float64")
    starts = np.flatnonzero(np.r_[True, sorted_groups[1:] != sorted_groups[:-1]])
    counts = np.diff(np.r_[starts, len(sorted_groups)])
    position = (counts - 1) * q
    below = np.floor(position).astype(np.int64)
    above = np.minimum(below + 1, counts - 1)
    low, high = sorted_values[starts + below], sorted_values[starts + above]
    return sorted_groups[starts], low + (position - below) * (high - low)


def quantile(values: np.ndarray, q: float) -> float | None:
    """The q-quantile of all `values` (None when there are none)."""
    _, result = grouped_quantile(np.zeros(len(values), dtype=np.int64), values, q)
    return float(result[0]) if len(result) else None
