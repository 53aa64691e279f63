"""The demo org's people and structure: regions, teams, managers, reps, an admin, stages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

import numpy as np

from salesops_core.demo.clock import DAY

OPEN_STAGES = ("Prospecting", "Qualification", "Discovery/Demo", "Proposal", "Negotiation")
WON_STAGE, LOST_STAGE = "Closed Won", "Closed Lost"
STAGES = (
    ("Prospecting", 1, 0.10, "open"),
    ("Qualification", 2, 0.20, "open"),
    ("Discovery/Demo", 3, 0.40, "open"),
    ("Proposal", 4, 0.60, "open"),
    ("Negotiation", 5, 0.80, "open"),
    (WON_STAGE, 6, 1.0, "won"),
    (LOST_STAGE, 7, 0.0, "lost"),
)

ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Europe/Madrid",
    "Europe/Amsterdam",
)
HOLIDAY_COUNTRY = ("US", "US", "US", "US", "GB", "DE", "FR", "ES", "NL")

PRODUCTS = ("Starter", "Growth", "Enterprise", "Add-on")
# (team name, region, zone indexes, product mix)
TEAM_KINDS = (
    ("NA East", "North America", (0, 1), (0.25, 0.45, 0.20, 0.10)),
    ("NA West", "North America", (3, 2), (0.45, 0.35, 0.05, 0.15)),
    ("EMEA", "EMEA", (4, 5, 6, 7, 8), (0.20, 0.40, 0.30, 0.10)),
)

FIRST_NAMES = [
    "Ava",
    "Liam",
    "Noah",
    "Emma",
    "Olivia",
    "Mia",
    "Lucas",
    "Sofia",
    "Mateo",
    "Amelia",
    "Ethan",
    "Isla",
    "Leo",
    "Chloe",
    "Hugo",
    "Zoe",
    "Maya",
    "Omar",
    "Priya",
    "Jonas",
    "Lena",
    "Elias",
    "Clara",
    "Felix",
    "Nora",
    "Diego",
    "Aisha",
    "Kenji",
    "Hannah",
    "Marco",
    "Sara",
    "Tariq",
    "Julia",
    "Oscar",
    "Ines",
    "Ravi",
    "Freya",
    "Samuel",
    "Lucia",
    "Daniel",
    "Grace",
    "Adam",
    "Eva",
    "Kofi",
    "Yara",
    "Paul",
    "Ella",
]
LAST_NAMES = [
    "Smith",
    "Garcia",
    "Müller",
    "Rossi",
    "Martin",
    "Johnson",
    "Dubois",
    "Novak",
    "Silva",
    "Kim",
    "Patel",
    "Nguyen",
    "Brown",
    "Schmidt",
    "Lopez",
    "Fischer",
    "Moreau",
    "Jensen",
    "Walker",
    "Costa",
    "Hughes",
    "Becker",
    "Russo",
    "Turner",
    "Ivanova",
    "Okafor",
    "Sato",
    "Fernandes",
    "Bianchi",
    "Evans",
    "Weber",
    "Laurent",
    "Young",
    "Khan",
    "Reyes",
    "Hall",
    "Meyer",
    "Andersen",
]
PIPELINE_WARMUP_DAYS = 120  # deals created before the history starts close inside it


@dataclass
class Sellers:
    """Per-seller parameters (role rep) as parallel numpy arrays, one row per seller."""

    rep_id: np.ndarray
    team_kind: np.ndarray
    manager_id: np.ndarray
    zone: np.ndarray
    work_start: np.ndarray  # minutes after local midnight
    work_end: np.ndarray
    start: np.ndarray  # epoch seconds: hired (or the start of the history)
    pipeline_from: np.ndarray  # deals are created from here (before the history: warm start)
    end: np.ndarray  # employment end: now, or when an inactive rep left
    quiet_from: np.ndarray  # no new leads or activities after this (away reps: days ago)
    win_rate: np.ndarray
    volume: np.ndarray  # deal and lead volume multiplier
    slowness: np.ndarray  # lead response time multiplier

    def __len__(self) -> int:
        return len(self.rep_id)

    def take(self, index: slice) -> Sellers:
        """The sellers in a slice (a chunk)."""
        return Sellers(**{name: getattr(self, name)[index] for name in self.__dataclass_fields__})


@dataclass
class Org:
    """Rows for the small tables plus the sellers' parameters for the volume generators."""

    teams: list[dict]
    reps: list[dict]
    stages: list[dict]
    sellers: Sellers


def team_count(scale: float) -> int:
    """Three teams per unit of scale (at least one)."""
    return max(1, round(3 * scale))


def seller_count(scale: float) -> int:
    """Twenty-four sellers per unit of scale (at least two)."""
    return max(2, round(24 * scale))


def _unique_people(rng: np.random.Generator, count: int) -> list[tuple[str, str]]:
    people, seen = [], set()
    firsts = rng.integers(0, len(FIRST_NAMES), count)
    lasts = rng.integers(0, len(LAST_NAMES), count)
    for first_index, last_index in zip(firsts.tolist(), lasts.tolist(), strict=True):
        name = f"{FIRST_NAMES[first_index]} {LAST_NAMES[last_index]}"
        base = name.lower().replace(" ", ".").replace("ü", "ue")
        email, n = f"{base}@example.com", 1
        while email in seen:
            n += 1
            email = f"{base}{n}@example.com"
        seen.add(email)
        people.append((name if n == 1 else f"{name} {_roman(n)}", email))
    return people


def _roman(n: int) -> str:
    return {2: "II", 3: "III", 4: "IV"}.get(n, str(n))


def _rep_row(rep_id: int, person: tuple[str, str], **fields: object) -> dict:
    return {
        "id": rep_id,
        "name": person[0],
        "email": person[1],
        "slack_user_id": f"U0DEMO{rep_id:03d}",
        "crm_user_id": f"DEMO-U{rep_id:05d}",
        "workdays": "12345",
        "round_robin_weight": 1.0,
        "away": False,
        "active": True,
        **fields,
    }


def build_org(rng: np.random.Generator, scale: float, history_start: int, now: int) -> Org:
    """People, teams and the stage map for a scale; deterministic for the generator's seed."""
    n_teams, n_sellers = team_count(scale), seller_count(scale)
    people = _unique_people(rng, 1 + n_teams + n_sellers)
    teams, reps = [], []
    reps.append(
        _rep_row(
            1,
            people[0],
            role="admin",
            team_id=None,
            manager_id=None,
            timezone=ZONES[0],
            work_start=time(9),
            work_end=time(17),
            holiday_country="US",
        )
    )
    for t in range(n_teams):
        name, region, zones, _ = TEAM_KINDS[t % 3]
        label = name if n_teams <= 3 else f"{name} {t // 3 + 1}"
        teams.append({"id": t + 1, "name": label, "region": region})
        reps.append(
            _rep_row(
                t + 2,
                people[t + 1],
                role="manager",
                team_id=t + 1,
                manager_id=None,
                timezone=ZONES[zones[0]],
                work_start=time(8, 30),
                work_end=time(17, 30),
                holiday_country=HOLIDAY_COUNTRY[zones[0]],
            )
        )

    team_of = (np.arange(n_sellers) * n_teams) // n_sellers
    kind = team_of % 3
    zone = np.array([rng.choice(TEAM_KINDS[k][2]) for k in kind.tolist()], dtype=np.int64)
    work_start = rng.choice(np.array([480, 510, 540, 540, 540, 600]), n_sellers)
    work_end = work_start + 480
    start = np.full(n_sellers, history_start, dtype=np.int64)
    end = np.full(n_sellers, now, dtype=np.int64)
    quiet_from = end.copy()
    special = rng.permutation(n_sellers)
    few = max(1, round(0.04 * n_sellers))
    inactive, away, hired = special[:few], special[few : 2 * few], special[2 * few : 4 * few]
    end[inactive] = now - rng.integers(30, 150, len(inactive)) * DAY
    quiet_from[inactive] = end[inactive]
    quiet_from[away] = now - rng.integers(3, 9, len(away)) * DAY
    start[hired] = now - rng.integers(90, 400, len(hired)) * DAY
    rep_ids = np.arange(n_sellers, dtype=np.int64) + n_teams + 2
    manager_id = team_of + 2
    away_set = set(away.tolist())
    for s in range(n_sellers):
        reps.append(
            _rep_row(
                int(rep_ids[s]),
                people[1 + n_teams + s],
                role="rep",
                team_id=int(team_of[s]) + 1,
                manager_id=int(manager_id[s]),
                timezone=ZONES[zone[s]],
                work_start=time(*divmod(int(work_start[s]), 60)),
                work_end=time(*divmod(int(work_end[s]), 60)),
                holiday_country=HOLIDAY_COUNTRY[zone[s]],
                active=bool(end[s] == now),
                away=s in away_set,
            )
        )
    sellers = Sellers(
        rep_id=rep_ids,
        team_kind=kind,
        manager_id=manager_id.astype(np.int64),
        zone=zone,
        work_start=work_start.astype(np.int64),
        work_end=work_end.astype(np.int64),
        start=start,
        pipeline_from=np.where(start == history_start, start - PIPELINE_WARMUP_DAYS * DAY, start),
        end=end,
        quiet_from=quiet_from,
        win_rate=rng.uniform(0.15, 0.35, n_sellers),
        volume=rng.lognormal(0.0, 0.2, n_sellers),
        slowness=rng.lognormal(0.0, 0.5, n_sellers),
    )
    stages = [
        {"id": i + 1, "name": name, "sort_order": order, "probability": p, "outcome": outcome}
        for i, (name, order, p, outcome) in enumerate(STAGES)
    ]
    return Org(teams=teams, reps=reps, stages=stages, sellers=sellers)
