"""Quarterly quotas and forecasts for a chunk of sellers.

Quotas are set above what a seller's pipeline usually yields, so a few beat them and most
miss. Forecasts are the seller's call on the quarter: submitted a few days before it starts
(and updated mid-quarter), close to what the plan will actually win, with a sandbagging bias.
"""

from __future__ import annotations

import numpy as np

from salesops_core.demo import clock
from salesops_core.demo.clock import DAY, NEVER
from salesops_core.demo.deals import AMOUNT_MEDIAN, DEALS_PER_SELLER_DAY, DealBatch
from salesops_core.demo.org import TEAM_KINDS, ZONES, Sellers

QUOTA_STRETCH = 1.3  # median quota / expected won amount
MIN_QUARTER_SHARE = 0.3  # no quota for a quarter the seller worked less of than this


def quotas_and_forecasts(
    rng: np.random.Generator,
    sellers: Sellers,
    batch: DealBatch,
    quarters: list[tuple[int, int]],
    now: int,
    first_quota_id: int,
    first_forecast_id: int,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Quota rows for every quarter a seller works in, forecasts submitted up to `now`."""
    starts = np.array([q[0] for q in quarters], dtype=np.int64)
    ends = np.array([q[1] for q in quarters], dtype=np.int64)
    n, m = len(sellers), len(quarters)
    mix = np.array([kind[3] for kind in TEAM_KINDS])[sellers.team_kind]
    mean_amount = (mix * AMOUNT_MEDIAN * np.exp(0.45**2 / 2)).sum(axis=1)
    expected = DEALS_PER_SELLER_DAY * 91 * sellers.volume * sellers.win_rate * mean_amount
    base = expected * rng.lognormal(np.log(QUOTA_STRETCH), 0.08, n)

    # a seller still employed at `now` is planned for whole quarters, the running and next too
    employed_until = np.where(sellers.end >= now, ends[-1], sellers.end)
    overlap = np.minimum(ends[None, :], employed_until[:, None]) - np.maximum(
        starts[None, :], sellers.start[:, None]
    )
    share = np.clip(overlap / (ends - starts)[None, :], 0, 1)
    has_quota = share >= MIN_QUARTER_SHARE
    s_idx, q_idx = np.nonzero(has_quota)
    quota_amount = np.maximum(np.round(base[s_idx] * share[s_idx, q_idx], -3), 5_000)
    quotas = {
        "id": np.arange(first_quota_id, first_quota_id + len(s_idx), dtype=np.int64),
        "rep_id": sellers.rep_id[s_idx],
        "period_start": starts[q_idx],
        "period_end": ends[q_idx],
        "amount": quota_amount,
    }

    planned = np.zeros((n, m))
    won = batch.planned_won_at < NEVER
    quarter_of = np.searchsorted(starts, batch.planned_won_at[won], side="right") - 1
    inside = (quarter_of >= 0) & (batch.planned_won_at[won] < ends[-1])
    np.add.at(planned, (batch.seller[won][inside], quarter_of[inside]), batch.amount[won][inside])

    rows = []
    for offset_days, bias, spread, jitter in ((-4.0, 0.92, 0.22, 2.0), (45.0, 0.97, 0.10, 3.0)):
        raw = starts[q_idx] + ((offset_days + rng.uniform(-jitter, jitter, len(s_idx))) * DAY)
        s = s_idx
        submitted = clock.in_working_hours(
            raw.astype(np.int64),
            sellers.zone[s],
            ZONES,
            sellers.work_start[s],
            sellers.work_end[s],
            rng,
        )
        amount = planned[s_idx, q_idx] * rng.lognormal(np.log(bias), spread, len(s_idx))
        ok = (submitted <= now) & (submitted >= sellers.start[s]) & (submitted < sellers.end[s])
        rows.append((s_idx[ok], q_idx[ok], submitted[ok], np.round(amount[ok], -3)))
    f_s = np.concatenate([r[0] for r in rows])
    f_q = np.concatenate([r[1] for r in rows])
    order = np.lexsort((np.concatenate([r[2] for r in rows]), f_q, f_s))
    forecasts = {
        "id": np.arange(first_forecast_id, first_forecast_id + len(f_s), dtype=np.int64),
        "rep_id": sellers.rep_id[f_s][order],
        "period_start": starts[f_q][order],
        "period_end": ends[f_q][order],
        "amount": np.concatenate([r[3] for r in rows])[order],
        "category": np.full(len(f_s), "commit", dtype=object),
        "submitted_at": np.concatenate([r[2] for r in rows])[order],
    }
    return quotas, forecasts
