"""The grouped percentiles SQLite's KPIs use equal pandas' (and percentile_cont's) linear ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesops_core.kpi.percentiles import grouped_quantile, quantile

rows = st.lists(
    st.tuples(st.integers(-1, 5), st.floats(0, 1e6, allow_nan=False)), min_size=1, max_size=60
)


@given(rows, st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
def test_grouped_quantile_equals_pandas_groupby_quantile(data, q) -> None:
    groups = np.array([g for g, _ in data], dtype=np.int64)
    values = np.array([v for _, v in data])
    expected = pd.Series(values).groupby(groups).quantile(q)
    got_groups, got = grouped_quantile(groups, values, q)
    assert got_groups.tolist() == expected.index.tolist()
    assert got == pytest.approx(expected.to_numpy(), rel=1e-12, abs=1e-9)
    assert quantile(values, q) == pytest.approx(float(np.quantile(values, q)), rel=1e-12)


def test_median_of_an_even_group_interpolates_and_nothing_gives_none() -> None:
    groups, values = np.array([7, 3, 7, 7, 7]), np.array([40.0, 5.0, 10.0, 30.0, 20.0])
    got_groups, got = grouped_quantile(groups, values, 0.5)
    assert got_groups.tolist() == [3, 7] and got.tolist() == [5.0, 25.0]
    assert quantile(np.array([]), 0.5) is None
