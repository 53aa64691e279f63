"""The pure combination step of the KPI engine (hypothesis, no database).

`combine` turns per-rep partial sums into KPIs; a team is combined from its reps' partials
and the org from everyone's. The database tier (tests/db/test_kpis_invariants.py) checks the
same through the queries; here the arithmetic alone, over many more cases.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from salesops_core.kpi.engine import combine

ADDITIVE = (
    "won_amount",
    "won_count",
    "lost_count",
    "open_pipeline_value",
    "weighted_pipeline_value",
    "leads_unanswered",
)
# KPI -> the partial sums of its numerator and denominator: a pooled ratio of this kind
# always lies between the smallest and the largest of the reps' own ratios.
POOLED_RATIOS = {
    "win_rate": ("won_count", "lost_count"),
    "avg_deal_size": ("won_amount", "won_with_amount"),
    "avg_sales_cycle_days": ("cycle_days_sum", "won_count"),
    "stale_deal_share": ("stale_count", "open_count"),
    "lead_sla_met_share": ("sla_met", "sla_decided"),
    "selling_time_share": ("selling_minutes", "logged_minutes"),
}
BOUNDED_SHARES = ("win_rate", "stale_deal_share", "lead_sla_met_share", "selling_time_share")
WEEKS = 13.0


@st.composite
def rep_partials(draw: st.DrawFn) -> dict[str, Any]:
    """One rep's partial sums as the grouped queries return them (consistent counts)."""
    won = draw(st.integers(0, 20))
    open_count = draw(st.integers(0, 30))
    decided = draw(st.integers(0, 40))
    logged = draw(st.integers(0, 5_000))
    with_amount = draw(st.integers(0, won))  # won deals that have an amount
    money = st.integers(0, 500_000).map(float)
    return {
        "won_count": won,
        "lost_count": draw(st.integers(0, 20)),
        "won_amount": draw(money) if with_amount else 0.0,
        "won_with_amount": with_amount,
        "cycle_days_sum": float(draw(st.integers(0, 120 * won))),
        "open_count": open_count,
        "open_amount": draw(money) if open_count else 0.0,
        "weighted_amount": draw(money) if open_count else 0.0,
        "due_amount": draw(money) if open_count else 0.0,
        "stale_count": draw(st.integers(0, open_count)),
        "quota": draw(st.one_of(st.none(), money)),
        "forecast": draw(st.one_of(st.none(), money)),
        "sla_decided": decided,
        "sla_met": draw(st.integers(0, decided)),
        "leads_unanswered": draw(st.integers(0, 10)),
        "logged_minutes": float(logged),
        "selling_minutes": float(draw(st.integers(0, logged))),
        "meetings": draw(st.integers(0, 30)),
    }


teams_of_reps = st.lists(st.lists(rep_partials(), min_size=1, max_size=4), min_size=1, max_size=3)


def scope(rows: list[dict[str, Any]]) -> Mapping[str, Any]:
    """The KPIs of a scope made of these reps (percentiles are not additive: none here)."""
    return combine(rows, rep_rows=rows, rep_count=len(rows), weeks=WEEKS, percentiles={})


def ratio(row: dict[str, Any], numerator: str, denominator: str, kpi: str) -> float | None:
    """A rep's own ratio, the way the KPI defines its denominator."""
    below = row[denominator] + (row["won_count"] if kpi == "win_rate" else 0)
    return row[numerator] / below if below else None


@given(teams=teams_of_reps)
def test_team_and_org_sums_are_the_sums_of_their_reps(teams: list[list[dict]]) -> None:
    reps = [row for team in teams for row in team]
    org = scope(reps)
    by_team = [scope(team) for team in teams]
    for key in ADDITIVE:
        assert org[key] == pytest.approx(sum(team[key] for team in by_team))
        for team, rows in zip(by_team, teams, strict=True):
            assert team[key] == pytest.approx(sum(scope([row])[key] for row in rows))


@given(teams=teams_of_reps)
def test_pooled_ratios_lie_between_the_reps_own_ratios(teams: list[list[dict]]) -> None:
    for rows in (*teams, [row for team in teams for row in team]):
        kpis = scope(rows)
        for kpi, (numerator, denominator) in POOLED_RATIOS.items():
            own = [ratio(row, numerator, denominator, kpi) for row in rows]
            known = [value for value in own if value is not None]
            if not known:
                assert kpis[kpi] is None, kpi
                continue
            assert min(known) - 1e-9 <= kpis[kpi] <= max(known) + 1e-9, kpi


@given(teams=teams_of_reps)
def test_shares_are_fractions_and_win_rate_is_null_without_closed_deals(
    teams: list[list[dict]],
) -> None:
    for rows in (*teams, [row for team in teams for row in team]):
        kpis = scope(rows)
        for key in BOUNDED_SHARES:
            assert kpis[key] is None or 0.0 <= kpis[key] <= 1.0, key
        closed = sum(row["won_count"] + row["lost_count"] for row in rows)
        assert (kpis["win_rate"] is None) == (closed == 0)


@given(teams=teams_of_reps, seed=st.integers(0, 2**32 - 1))
def test_the_order_of_the_reps_does_not_matter(teams: list[list[dict]], seed: int) -> None:
    reps = [row for team in teams for row in team]
    shuffled = reps[:]
    random.Random(seed).shuffle(shuffled)
    assert scope(shuffled) == pytest.approx(scope(reps), nan_ok=True)


@given(teams=teams_of_reps)
def test_meetings_per_rep_per_week_is_the_mean_of_the_reps(teams: list[list[dict]]) -> None:
    reps = [row for team in teams for row in team]
    own = [scope([row])["meetings_per_rep_per_week"] for row in reps]
    assert scope(reps)["meetings_per_rep_per_week"] == pytest.approx(sum(own) / len(own))
