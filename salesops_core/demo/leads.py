"""Leads and the routine work of a chunk of sellers.

Response times follow what real inbound teams show: inside working hours most leads are
answered within minutes, a share waits hours (the rep was in a meeting), leads arriving at
night or at the weekend wait for the next working morning, and about 3% are never answered.
"""

from __future__ import annotations

import numpy as np

from salesops_core.demo import clock
from salesops_core.demo.clock import DAY, NEVER
from salesops_core.demo.deals import company_names
from salesops_core.demo.org import ZONES, Sellers

LEADS_PER_SELLER_DAY = 0.57
LEAD_SOURCES = ("demo-request", "content-download", "referral", "event", "partner", "chat")
SOURCE_SHARE = (0.32, 0.28, 0.10, 0.12, 0.08, 0.10)
SOURCE_SLOWNESS = np.array([0.7, 2.5, 1.0, 4.0, 1.5, 0.5])  # events arrive as batch uploads
IN_HOURS_SHARE = 0.75  # leads created during the owner's working hours
NEVER_ANSWERED = 0.03
BUSY_SHARE = 0.15  # answered in hours rather than minutes
COVERED_BY_MANAGER = 0.08
CLOSE_UNANSWERED_AFTER = 14 * DAY  # old unanswered leads are closed as dead
# routine work per seller per week: type, count, median minutes, prospect present
ROUTINE = (
    ("admin", 2.5, 30.0, False),
    ("training", 0.4, 60.0, False),
    ("other", 0.8, 20.0, False),
    ("meeting", 1.2, 30.0, False),  # internal: team meeting, 1:1
    ("meeting", 0.3, 30.0, True),  # prospecting meeting before a deal exists
    ("call", 1.5, 8.0, False),
    ("email", 1.5, 5.0, False),
)


Columns = dict[str, np.ndarray]


def generate_leads(
    rng: np.random.Generator, sellers: Sellers, now: int, first_id: int
) -> tuple[Columns, Columns]:
    """Leads owned by the chunk's sellers (ids from first_id) and their first-touch activities."""
    span = np.maximum(sellers.quiet_from - sellers.start, 0)
    counts = rng.poisson(span / DAY * LEADS_PER_SELLER_DAY * sellers.volume)
    who = np.repeat(np.arange(len(sellers)), counts)
    n = len(who)
    zone, ws, we = sellers.zone[who], sellers.work_start[who], sellers.work_end[who]
    created = (sellers.start[who] + rng.random(n) * span[who]).astype(np.int64)
    in_hours = rng.random(n) < IN_HOURS_SHARE
    moved = clock.in_working_hours(
        created[in_hours], zone[in_hours], ZONES, ws[in_hours], we[in_hours], rng
    )
    created[in_hours] = moved
    keep = created < sellers.quiet_from[who]
    order = np.lexsort((created[keep], who[keep]))
    who, created = who[keep][order], created[keep][order]
    n = len(who)
    zone, ws, we = sellers.zone[who], sellers.work_start[who], sellers.work_end[who]

    source = rng.choice(len(LEAD_SOURCES), n, p=SOURCE_SHARE)
    slowness = sellers.slowness[who] * SOURCE_SLOWNESS[source]
    busy = rng.random(n) < BUSY_SHARE
    minutes = np.where(
        busy, rng.lognormal(np.log(80.0), 0.9, n), rng.lognormal(np.log(3.0), 0.9, n) * slowness
    )
    ready = clock.next_working_moment(created, zone, ZONES, ws, we)
    responded = ready + (minutes * 60).astype(np.int64)
    answered = (rng.random(n) >= NEVER_ANSWERED) & (responded <= sellers.end[who])
    first_response = np.where(answered, responded, NEVER)
    by_manager = rng.random(n) < COVERED_BY_MANAGER
    responder = np.where(by_manager, sellers.manager_id[who], sellers.rep_id[who])
    status = np.where(
        answered, "responded", np.where(now - created > CLOSE_UNANSWERED_AFTER, "closed", "open")
    ).astype(object)
    ids = np.arange(first_id, first_id + n, dtype=np.int64)
    leads = {
        "id": ids,
        "external_id": np.array([f"DEMO-L{i:08d}" for i in ids.tolist()], dtype=object),
        "source": np.array(LEAD_SOURCES, dtype=object)[source],
        "company": company_names(rng, n),
        "created_at": created,
        "owner_id": sellers.rep_id[who],
        "first_response_at": first_response,
        "responded_by_id": np.where(answered, responder, -1),
        "status": status,
    }
    a = np.nonzero(answered)[0]
    by_phone = rng.random(len(a)) < 0.55
    touches = {
        "rep_id": responder[a],
        "type": np.where(by_phone, "call", "email").astype(object),
        "started_at": first_response[a],
        "minutes": np.round(np.where(by_phone, 9.0, 4.0) * rng.lognormal(0.0, 0.4, len(a))),
        "deal_id": np.full(len(a), -1, dtype=np.int64),
        "lead_id": ids[a],
        "external_attendee": np.zeros(len(a), dtype=bool),
    }
    return leads, touches


def routine_activities(rng: np.random.Generator, sellers: Sellers) -> dict[str, np.ndarray]:
    """Work not tied to a deal or lead: admin, training, internal meetings, prospecting."""
    weeks = np.maximum(sellers.quiet_from - sellers.start, 0) / (7 * DAY)
    parts = []
    for index, (_, per_week, _, _) in enumerate(ROUTINE):
        count = rng.poisson(weeks * per_week)
        who = np.repeat(np.arange(len(sellers)), count)
        parts.append((np.full(len(who), index), who))
    kind = np.concatenate([p[0] for p in parts])
    who = np.concatenate([p[1] for p in parts])
    span = sellers.quiet_from - sellers.start
    raw = (sellers.start[who] + rng.random(len(who)) * span[who]).astype(np.int64)
    started = clock.in_working_hours(
        raw, sellers.zone[who], ZONES, sellers.work_start[who], sellers.work_end[who], rng
    )
    ok = started <= sellers.quiet_from[who]
    kind, who, started = kind[ok], who[ok], started[ok]
    types = np.array([r[0] for r in ROUTINE], dtype=object)
    median = np.array([r[2] for r in ROUTINE])
    prospect = np.array([r[3] for r in ROUTINE])
    return {
        "rep_id": sellers.rep_id[who],
        "type": types[kind],
        "started_at": started,
        "minutes": np.round(median[kind] * rng.lognormal(0.0, 0.4, len(kind))),
        "deal_id": np.full(len(kind), -1, dtype=np.int64),
        "lead_id": np.full(len(kind), -1, dtype=np.int64),
        "external_attendee": prospect[kind],
    }
