"""Deals for a chunk of sellers: amounts, outcomes, stage history and the work logged on them.

Each deal gets a planned path through the open stages (dwell times are shares of a lognormal
cycle); won deals go all the way, lost ones drop out at some stage, and a few lost ones are
never closed (they stay open and go stale). The path is then read at the seller's `end`:
what happened by then is history, the rest is the open pipeline.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from salesops_core.demo import clock
from salesops_core.demo.clock import DAY, NEVER
from salesops_core.demo.org import (
    LOST_STAGE,
    OPEN_STAGES,
    PRODUCTS,
    STAGES,
    TEAM_KINDS,
    WON_STAGE,
    ZONES,
    Sellers,
)

DEALS_PER_SELLER_DAY = 0.57  # about 420 deals a seller over two years
AMOUNT_MEDIAN = np.array([7_000.0, 22_000.0, 65_000.0, 5_000.0])  # by product
CYCLE_MEDIAN_DAYS = np.array([32.0, 55.0, 95.0, 28.0])
DWELL_SHARE = np.array([0.10, 0.20, 0.25, 0.25, 0.20])  # of the cycle, per open stage
LOST_AT = np.array([0.30, 0.28, 0.20, 0.14, 0.08])  # stage where lost deals drop out
NEVER_CLOSED_SHARE = 0.12  # of recently lost deals: left open, they go stale
FORGOTTEN_FOR = 150 * DAY  # older forgotten deals were cleaned up (closed lost) in reviews
SLIPPED_SHARE = 0.25  # deals whose expected close was set too early
FORECAST_CATEGORY = ("pipeline", "pipeline", "best_case", "best_case", "commit")
DEAL_ACTIVITY_TYPES = ("call", "email", "meeting", "demo")
DEAL_ACTIVITY_SHARE = (0.30, 0.38, 0.20, 0.12)
COMPANY_FIRST = [
    "Acme",
    "Globex",
    "Initech",
    "Umbrella",
    "Stark",
    "Wayne",
    "Hooli",
    "Vandelay",
    "Wonka",
    "Tyrell",
    "Cyberdyne",
    "Soylent",
    "Aperture",
    "Nakatomi",
    "Oscorp",
    "Gringotts",
    "Pied",
    "Monocle",
    "Northwind",
    "Contoso",
    "Fabrikam",
    "Tailspin",
    "Litware",
    "Adatum",
    "Blue",
    "Yonder",
    "Proseware",
    "Lucerne",
    "Wingtip",
    "Alpine",
    "Coho",
    "Fourth",
    "Margie",
]
COMPANY_LAST = [
    "Labs",
    "Systems",
    "Group",
    "Logistics",
    "Health",
    "Foods",
    "Energy",
    "Bank",
    "Retail",
    "Media",
    "AG",
    "GmbH",
    "Ltd",
]
_STAGE_PROBABILITY = np.array([p for _, _, p, _ in STAGES[:5]])


@dataclass
class DealBatch:
    """Rows for deal, deal_stage_change and deal-linked activity, plus plan data for quotas."""

    deals: dict[str, np.ndarray]
    changes: dict[str, np.ndarray]
    activities: dict[str, np.ndarray]
    seller: np.ndarray  # per deal: index into the chunk's sellers
    planned_won_at: np.ndarray  # per deal: when it is (or will be) won; NEVER if not
    amount: np.ndarray


def company_names(rng: np.random.Generator, n: int) -> np.ndarray:
    """Plausible account names."""
    first = np.array(COMPANY_FIRST, dtype=object)[rng.integers(0, len(COMPANY_FIRST), n)]
    last = np.array(COMPANY_LAST, dtype=object)[rng.integers(0, len(COMPANY_LAST), n)]
    return first + " " + last


def _pick(rng: np.random.Generator, cumulative: np.ndarray) -> np.ndarray:
    """One category per row from per-row cumulative probabilities (rows x categories)."""
    return (rng.random(len(cumulative))[:, None] > cumulative[:, :-1]).sum(axis=1)


def generate_deals(
    rng: np.random.Generator,
    sellers: Sellers,
    now: int,
    first_id: int,
    first_change_id: int,
    org_timezone: str = "UTC",
) -> DealBatch:
    """All deals of a chunk of sellers, ids from first_id, stage changes from first_change_id.
    Expected close dates are midnights in the org time zone."""
    span = np.maximum(sellers.quiet_from - sellers.pipeline_from, 0)
    counts = rng.poisson(span / DAY * DEALS_PER_SELLER_DAY * sellers.volume)
    who = np.repeat(np.arange(len(sellers)), counts)
    raw = sellers.pipeline_from[who] + rng.random(len(who)) * span[who]
    created = clock.in_working_hours(
        raw.astype(np.int64),
        sellers.zone[who],
        ZONES,
        sellers.work_start[who],
        sellers.work_end[who],
        rng,
    )
    keep = created < sellers.quiet_from[who]
    order = np.lexsort((created[keep], who[keep]))
    who, created = who[keep][order], created[keep][order]
    n = len(who)
    end = sellers.end[who]

    mixes = np.cumsum(np.array([kind[3] for kind in TEAM_KINDS]), axis=1)
    product = _pick(rng, mixes[sellers.team_kind[who]])
    amount = np.round(
        np.clip(AMOUNT_MEDIAN[product] * rng.lognormal(0.0, 0.45, n), 2_000, 250_000), -2
    )
    won = rng.random(n) < sellers.win_rate[who]
    cycle = np.clip(CYCLE_MEDIAN_DAYS[product] * rng.lognormal(0.0, 0.4, n), 5, 400)
    share = DWELL_SHARE * rng.gamma(4.0, 1.0, (n, 5))
    share /= share.sum(axis=1, keepdims=True)
    entered = np.hstack([np.zeros((n, 1)), np.cumsum(share, axis=1)[:, :4]]) * cycle[:, None]
    lost_at = _pick(rng, np.tile(np.cumsum(LOST_AT), (n, 1)))
    rows = np.arange(n)
    lost_close = entered[rows, lost_at] + share[rows, lost_at] * cycle * rng.uniform(0.3, 1.2, n)
    close_days = np.where(won, cycle, lost_close)
    path_len = np.where(won, 6, lost_at + 2)  # open stages reached + the closing step

    # planned path in seconds: position j < len-1 is open stage j, position len-1 the close
    path = np.full((n, 6), NEVER, dtype=np.int64)
    for j in range(6):
        offset = entered[:, j] if j < 5 else close_days
        offset = np.where(j == path_len - 1, close_days, offset)
        path[:, j] = np.where(j < path_len, created + (offset * DAY).astype(np.int64), NEVER)
    last = path[rows, path_len - 1]
    stays_open = ~won & (rng.random(n) < NEVER_CLOSED_SHARE) & (last > now - FORGOTTEN_FOR)
    path[rows, path_len - 1] = np.where(stays_open, NEVER, last)
    movable = (path < NEVER) & (np.arange(6) > 0)
    r_idx, c_idx = np.nonzero(movable)
    path[r_idx, c_idx] = clock.in_working_hours(
        path[r_idx, c_idx],
        sellers.zone[who[r_idx]],
        ZONES,
        sellers.work_start[who[r_idx]],
        sellers.work_end[who[r_idx]],
        rng,
    )
    path = np.maximum.accumulate(path, axis=1)
    planned_won_at = np.where(won, path[:, 5], NEVER)
    work_stops = np.minimum(np.where(stays_open, last, path[rows, path_len - 1]), end)

    # sellers who left: whatever was still open when they left was closed lost that day
    happened = path <= end[:, None]
    closed = path[rows, path_len - 1] <= end
    forced = ~closed & (end < now)
    reached = happened.sum(axis=1)
    path_len = np.where(forced, reached + 1, path_len)
    for j in range(6):
        path[:, j] = np.where(forced & (j == path_len - 1), end, path[:, j])
        path[:, j] = np.where(forced & (j >= path_len), NEVER, path[:, j])
    won &= ~forced
    closed |= forced
    happened = path <= end[:, None]
    reached = happened.sum(axis=1)

    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    open_stage = np.clip(reached - 1, 0, 4)
    stage_names = np.array((*OPEN_STAGES, WON_STAGE, LOST_STAGE), dtype=object)
    stage = np.where(closed, np.where(won, 5, 6), open_stage)
    plan_close = created + (cycle * DAY).astype(np.int64)
    slipped = rng.random(n) < SLIPPED_SHARE
    plan_close = np.where(slipped, created + (cycle * rng.uniform(0.5, 0.9, n) * DAY), plan_close)
    closed_at = np.where(closed, path[rows, path_len - 1], NEVER)
    expected = np.where(closed, closed_at, plan_close).astype(np.int64)
    org_zone = np.zeros(n, dtype=np.int64)
    local = clock.to_local(expected, org_zone, [org_timezone])
    expected = clock.to_utc(local - local % DAY, org_zone, [org_timezone])  # a date
    override = ~closed & (rng.random(n) < 0.15)
    probability = np.where(
        override,
        np.clip(_STAGE_PROBABILITY[open_stage] + rng.choice([-0.1, 0.1], n), 0.05, 0.95),
        np.nan,
    )
    category = np.array((*FORECAST_CATEGORY, "closed", "omitted"), dtype=object)[stage]
    account = company_names(rng, n)
    products = np.array(PRODUCTS, dtype=object)[product]
    deals = {
        "id": ids,
        "external_id": np.array([f"DEMO-D{i:08d}" for i in ids.tolist()], dtype=object),
        "name": account + " - " + products,
        "account": account,
        "owner_id": sellers.rep_id[who],
        "amount": amount,
        "currency": np.full(n, "USD", dtype=object),
        "stage": stage_names[stage],
        "probability": probability,
        "created_at": created,
        "expected_close": expected,
        "closed_at": closed_at,
        "outcome": np.where(closed, np.where(won, "won", "lost"), "open").astype(object),
        "product": products,
        "forecast_category": category,
    }

    d_idx, pos = np.nonzero(happened)
    is_close = pos == path_len[d_idx] - 1
    change_stage = np.where(
        is_close & closed[d_idx], np.where(won[d_idx], 5, 6), np.minimum(pos, 4)
    )
    changes = {
        "id": np.arange(first_change_id, first_change_id + len(d_idx), dtype=np.int64),
        "deal_id": ids[d_idx],
        "stage": stage_names[change_stage],
        "entered_at": path[d_idx, pos],
    }
    activities = _deal_activities(rng, sellers, who, ids, created, work_stops)
    return DealBatch(deals, changes, activities, who, planned_won_at, amount)


def _deal_activities(
    rng: np.random.Generator,
    sellers: Sellers,
    who: np.ndarray,
    deal_ids: np.ndarray,
    created: np.ndarray,
    stops: np.ndarray,
) -> dict[str, np.ndarray]:
    """Calls, emails, meetings and demos on each deal while it was being worked."""
    stops = np.minimum(stops, sellers.quiet_from[who])
    length = np.maximum(stops - created, 0)
    count = rng.poisson(0.6 + length / DAY / 18)
    d = np.repeat(np.arange(len(who)), count)
    raw = created[d] + (rng.random(len(d)) * length[d]).astype(np.int64)
    s = who[d]
    started = clock.in_working_hours(
        raw, sellers.zone[s], ZONES, sellers.work_start[s], sellers.work_end[s], rng
    )
    ok = started <= sellers.quiet_from[s]
    d, s, started = d[ok], s[ok], started[ok]
    kind = rng.choice(len(DEAL_ACTIVITY_TYPES), len(d), p=DEAL_ACTIVITY_SHARE)
    minutes = np.array([15.0, 6.0, 40.0, 50.0])[kind] * rng.lognormal(0.0, 0.35, len(d))
    return {
        "rep_id": sellers.rep_id[s],
        "type": np.array(DEAL_ACTIVITY_TYPES, dtype=object)[kind],
        "started_at": started,
        "minutes": np.round(minutes),
        "deal_id": deal_ids[d],
        "lead_id": np.full(len(d), -1, dtype=np.int64),
        "external_attendee": kind >= 2,
    }
