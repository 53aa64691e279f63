"""Per-deal win probabilities learned from history, by stage x days in stage x amount band.

Each level is shrunk toward its parent (cell -> stage x age -> stage -> all) the
beta-binomial way: p = (won + PRIOR_STRENGTH x p_parent) / (deals + PRIOR_STRENGTH), so a cell
with few deals reads close to its parent and one with none reads exactly its parent. "Stage
not recorded" is a stage of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from salesops_core.kpi.format import money

PRIOR_STRENGTH = 10.0  # deals' worth of weight the parent's rate carries in a child's
AGE_EDGES = (14.0, 30.0, 60.0, 120.0)  # days in stage: <14, 14-30, 30-60, 60-120, >=120
AGE_LABELS = ("<14", "14-30", "30-60", "60-120", ">=120")
LEVELS: tuple[tuple[str, ...], ...] = (
    (),
    ("stage",),
    ("stage", "age_band"),
    ("stage", "age_band", "amount_band"),
)


@dataclass(frozen=True)
class Basis:
    """Where a deal's probability comes from: the finest group with history (its label parts,
    deals seen, how many won) and the parent rate it was shrunk toward (None at the top)."""

    groups: tuple[str, ...]
    deals: int
    won: int
    probability: float
    parent_groups: tuple[str, ...] | None
    parent_probability: float | None


@dataclass(frozen=True)
class Rates:
    """The learned table: per level, deals and wins per group, and the amount band edges."""

    counts: tuple[pd.DataFrame, ...]  # per LEVELS entry: group columns, deals, won, p
    amount_edges: tuple[float, ...]  # the training amounts' terciles

    def amount_labels(self) -> tuple[str, ...]:
        low, high = self.amount_edges
        return (f"under {money(low)}", f"{money(low)}-{money(high)}", f"{money(high)} and over")


def age_band(days: np.ndarray) -> np.ndarray:
    """The index of each days-in-stage value's band in AGE_LABELS."""
    return np.searchsorted(np.asarray(AGE_EDGES), days, side="right")


def amount_band(amounts: np.ndarray, edges: Sequence[float]) -> np.ndarray:
    """The index (0, 1, 2) of each amount's tercile band."""
    return np.searchsorted(np.asarray(edges), amounts, side="right")


def banded(frame: pd.DataFrame, edges: Sequence[float]) -> pd.DataFrame:
    """`frame` (stage, days_in_stage, amount) with its age_band and amount_band."""
    return frame.assign(
        age_band=age_band(frame["days_in_stage"].to_numpy(float)),
        amount_band=amount_band(frame["amount"].to_numpy(float), edges),
    )


def learn(rows: pd.DataFrame) -> Rates | None:
    """The shrunk rates from training `rows` (stage, days_in_stage, amount, won); None when
    there are no rows."""
    if rows.empty:
        return None
    terciles = np.quantile(rows["amount"].to_numpy(float), [1 / 3, 2 / 3])
    edges = (float(terciles[0]), float(terciles[1]))
    frame = banded(rows, edges)
    won = int(frame["won"].sum())
    counts = [pd.DataFrame({"deals": [len(frame)], "won": [won], "p": [won / len(frame)]})]
    for level in range(1, len(LEVELS)):
        keys, parent_keys = list(LEVELS[level]), list(LEVELS[level - 1])
        table = frame.groupby(keys, sort=True)["won"].agg(deals="count", won="sum").reset_index()
        parent = counts[level - 1][[*parent_keys, "p"]].rename(columns={"p": "parent_p"})
        table = (
            table.merge(parent, on=parent_keys) if parent_keys else table.merge(parent, how="cross")
        )
        table["p"] = (table["won"] + PRIOR_STRENGTH * table["parent_p"]) / (
            table["deals"] + PRIOR_STRENGTH
        )
        counts.append(table.drop(columns=["parent_p"]))
    return Rates(tuple(counts), edges)


def probabilities(rates: Rates, deals: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Each deal's learned probability and the level (index into LEVELS) of the finest group
    with history that it falls in; a group without history takes its parent's rate."""
    frame = banded(deals[["stage", "days_in_stage", "amount"]], rates.amount_edges)
    p = np.full(len(frame), float(rates.counts[0]["p"].iloc[0]))
    level = np.zeros(len(frame), dtype=int)
    for index in range(1, len(LEVELS)):
        keys = list(LEVELS[index])
        found = frame[keys].merge(rates.counts[index][[*keys, "p"]], on=keys, how="left")["p"]
        seen = found.notna().to_numpy()
        p = np.where(seen, found.to_numpy(float), p)
        level = np.where(seen, index, level)
    return p, level


def basis(rates: Rates, stage: str, days_in_stage: float, amount: float, level: int) -> Basis:
    """The Basis of one deal's probability (for `explain`)."""
    key = {
        "stage": stage,
        "age_band": int(age_band(np.array([days_in_stage]))[0]),
        "amount_band": int(amount_band(np.array([amount]), rates.amount_edges)[0]),
    }
    row = _row(rates, level, key)
    parent = _row(rates, level - 1, key) if level > 0 else None
    return Basis(
        groups=_labels(rates, LEVELS[level], key),
        deals=int(row["deals"]),
        won=int(row["won"]),
        probability=float(row["p"]),
        parent_groups=_labels(rates, LEVELS[level - 1], key) if level > 0 else None,
        parent_probability=None if parent is None else float(parent["p"]),
    )


def _row(rates: Rates, level: int, key: dict[str, Any]) -> pd.Series:
    table = rates.counts[level]
    mask = np.ones(len(table), dtype=bool)
    for column in LEVELS[level]:
        mask &= (table[column] == key[column]).to_numpy()
    return table[mask].iloc[0]


def _labels(rates: Rates, keys: tuple[str, ...], key: dict[str, Any]) -> tuple[str, ...]:
    words = {
        "stage": lambda: str(key["stage"]),
        "age_band": lambda: f"{AGE_LABELS[int(key['age_band'])]} days in stage",
        "amount_band": lambda: f"amounts {rates.amount_labels()[int(key['amount_band'])]}",
    }
    return tuple(words[name]() for name in keys) or ("all deals",)
