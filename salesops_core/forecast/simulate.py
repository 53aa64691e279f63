"""The forecast's range: Monte Carlo over the open deals, seeded so a run can be repeated.

How far a period can differ from the expected is learned from the past periods the model was
trained on (`period_scenarios`): how far each one's won amount came from what the rates learned
from the OTHER periods predicted (leave one out, so a period never explains itself), and how
far its new business came from the mean. That spread, widened by sqrt(1 + 1/K) for having
seen only K periods, becomes SCENARIOS evenly spaced quantiles of a normal: a bad period is
bad for the open deals and for new business alike (one draw moves both).

Each simulation draws one scenario, then closes each open deal won with probability
p x its factor (clipped to [0, 1]). Deals are drawn in chunks (a deals x simulations block at a
time, so memory stays bounded). Past EXACT_DRAWS deal-draws, the sum over the deals given each
scenario is drawn from its normal approximation instead (its mean and variance are exact; with
that many deals the sum is close to normal), which keeps a whole large org fast.
"""

from __future__ import annotations

from statistics import NormalDist

import numpy as np

CHUNK_DRAWS = 4_000_000  # deal-draws generated at a time (about 32 MB of floats)
EXACT_DRAWS = 40_000_000  # up to this many deal-draws, every deal is drawn one by one
FACTOR_RANGE = (1 / 3, 3.0)  # how far a period may scale the learned rates (symmetric in log)


SCENARIOS = 64  # evenly spaced quantiles of the period-to-period spread


def rate_factors(won: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Per window, amount won / amount predicted, clipped to FACTOR_RANGE (1 where nothing was
    predicted)."""
    ratio = np.divide(won, predicted, out=np.ones_like(predicted, dtype=float), where=predicted > 0)
    return np.clip(ratio, *FACTOR_RANGE)


def period_scenarios(
    factors: np.ndarray, new_business: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """SCENARIOS (rate factor, new business) pairs from the past windows' out-of-sample rate
    `factors` and `new_business`, and the spread of the log factor: the root mean square of
    the log factors (a bias counts as spread; the centre stays at the learned rates) and the
    standard deviation of new business, each x sqrt(1 + 1/K). With one window: no spread."""
    count = len(factors)
    z = np.array([NormalDist().inv_cdf((i + 0.5) / SCENARIOS) for i in range(SCENARIOS)])
    if count < 2:
        return np.ones(SCENARIOS), np.full(SCENARIOS, float(new_business.mean())), 0.0
    widen = np.sqrt(1.0 + 1.0 / count)
    log_spread = float(np.sqrt(np.mean(np.log(factors) ** 2)) * widen)
    new_spread = float(new_business.std(ddof=1) * widen)
    scenario_factors = np.clip(np.exp(log_spread * z), *FACTOR_RANGE)
    scenario_new = np.clip(new_business.mean() + new_spread * z, 0.0, None)
    return scenario_factors, scenario_new, log_spread


def exact(draws: int) -> bool:
    """True when `draws` deal-draws are drawn one by one (else the normal approximation)."""
    return draws <= EXACT_DRAWS


def simulate(
    amounts: np.ndarray,
    probabilities: np.ndarray,
    factors: np.ndarray,
    new_business: np.ndarray,
    *,
    seed: int,
    simulations: int,
) -> np.ndarray:
    """Simulated won amounts (`simulations` values) of the open deals plus new business, each
    simulation under one of the scenarios (`factors[i]`, `new_business[i]`)."""
    rng = np.random.default_rng(seed)
    drawn = rng.integers(len(factors), size=simulations)
    totals = new_business[drawn].astype(float)
    if not len(amounts):
        return totals
    if not exact(len(amounts) * simulations):
        p = np.clip(probabilities[:, None] * factors[None, :], 0.0, 1.0)  # deals x scenarios
        mean = amounts @ p
        sd = np.sqrt((amounts**2) @ (p * (1.0 - p)))
        draws = mean[drawn] + sd[drawn] * rng.standard_normal(simulations)
        return totals + np.clip(draws, 0.0, None)
    step = max(1, CHUNK_DRAWS // simulations)
    scale = factors[drawn][None, :]
    for first in range(0, len(amounts), step):
        p = np.clip(probabilities[first : first + step, None] * scale, 0.0, 1.0)
        totals += amounts[first : first + step] @ (rng.random(p.shape) < p)
    return totals
