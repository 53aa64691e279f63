"""A small org whose forecast calls over 2026 are worked out by hand (the scorecard tests).

Org time zone UTC, now = 2027-01-15 (a Friday) 12:00 UTC: the closed quarters are 2026-Q1..Q4.
Team East: Mia Lead (manager, no forecasts), Ann Under, Bob Over, Cat Quiet; team West: Dan West.
Commits are submitted three days before each quarter starts unless noted.

| rep | quarter | commit | best case | won | accuracy | bias |
| --- | --- | --- | --- | --- | --- | --- |
| Ann | Q1 | 80k | | 100k | 0.8 | -0.2 |
| Ann | Q2 | 90k | | 100k | 0.9 | -0.1 |
| Ann | Q3 | 100k | 120k | 125k | 0.8 | -0.2 (above best case) |
| Ann | Q4 | 95k (+100k 3 days in, 110k 6 days in) | 110k | 100k | 0.95 | -0.05 (in range) |
| Bob | Q1 | 120k | | 100k | 0.8 | +0.2 |
| Bob | Q2 | 150k | | 100k | 0.5 | +0.5 |
| Bob | Q3 | none | | 50k | - | - |
| Bob | Q4 | 50k | | 0 | - | - |
| Cat | Q2 | none | | 40k | - | - |
| Dan | Q4 | 200k | | 100k | 0.0 | +1.0 |

East on the sum (reps with a commit): Q1 200k/200k = 1.0; Q2 240k/200k = 0.8; Q3 100k/125k =
0.8; Q4 145k/100k = 0.55. MAPE: Q1 (0.2+0.2)/2 = 0.2; Q2 (0.1+0.5)/2 = 0.3; Q3 0.2; Q4 0.05.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from salesops_core.config import OrgConfig
from salesops_core.db.models import Deal, Forecast, Outcome, Rep, Role, Team
from salesops_core.org.scopes import Scope
from salesops_core.periods import quarter_period

ORG = OrgConfig(timezone="UTC")
NOW = datetime(2027, 1, 15, 12, 0, tzinfo=UTC)
QUARTERS = [quarter_period(2026, n, ZoneInfo("UTC")) for n in (1, 2, 3, 4)]

# (rep, quarter number, amount, category, days after the quarter start it was submitted)
FORECASTS = [
    ("Ann", 1, 80_000, "commit", -3),
    ("Ann", 2, 90_000, "commit", -3),
    ("Ann", 3, 100_000, "commit", -3),
    ("Ann", 3, 120_000, "best_case", -3),
    ("Ann", 4, 95_000, "commit", -3),
    ("Ann", 4, 110_000, "best_case", -3),
    ("Ann", 4, 100_000, "commit", 3),
    ("Ann", 4, 110_000, "commit", 6),
    ("Bob", 1, 120_000, "commit", -3),
    ("Bob", 2, 150_000, "commit", -3),
    ("Bob", 4, 50_000, "commit", -3),
    ("Dan", 4, 200_000, "commit", -3),
]
# (rep, quarter number, won amount), each one deal closed mid-quarter
WON = [
    ("Ann", 1, 100_000),
    ("Ann", 2, 100_000),
    ("Ann", 3, 125_000),
    ("Ann", 4, 100_000),
    ("Bob", 1, 100_000),
    ("Bob", 2, 100_000),
    ("Bob", 3, 50_000),
    ("Cat", 2, 40_000),
    ("Dan", 4, 100_000),
]


@dataclass(frozen=True)
class ScorecardOrg:
    """The ids of the hand-built org, by first name and team name."""

    ids: dict[str, int]
    team_ids: dict[str, int]
    names: dict[str, str]

    def scope(self, first_name: str) -> Scope:
        return Scope("rep", self.ids[first_name], self.names[first_name])

    def team(self, name: str) -> Scope:
        return Scope("team", self.team_ids[name], name)


def build_scorecard_org(session: Session) -> ScorecardOrg:
    """Insert the org of the module docstring and commit."""
    east, west = Team(name="East", region="NA"), Team(name="West", region="NA")
    session.add_all([east, west])
    session.flush()
    mia = Rep(
        name="Mia Lead",
        email="mia@acme.test",
        role=Role.MANAGER,
        team_id=east.id,
        slack_user_id="UMIA",
    )
    session.add(mia)
    session.flush()
    people = {
        "Ann": Rep(name="Ann Under", email="ann@acme.test", team_id=east.id, manager_id=mia.id,
                   slack_user_id="UANN"),
        "Bob": Rep(name="Bob Over", email="bob@acme.test", team_id=east.id, manager_id=mia.id,
                   slack_user_id="UBOB"),
        "Cat": Rep(name="Cat Quiet", email="cat@acme.test", team_id=east.id, manager_id=mia.id),
        "Dan": Rep(name="Dan West", email="dan@acme.test", team_id=west.id, slack_user_id="UDAN"),
    }  # fmt: skip
    session.add_all(people.values())
    session.flush()
    people["Mia"] = mia
    for who, number, amount, category, days in FORECASTS:
        quarter = QUARTERS[number - 1]
        session.add(
            Forecast(
                rep_id=people[who].id,
                period_start=quarter.start,
                period_end=quarter.end,
                amount=amount,
                category=category,
                submitted_at=quarter.start + timedelta(days=days),
            )
        )
    for index, (who, number, amount) in enumerate(WON):
        quarter = QUARTERS[number - 1]
        session.add(
            Deal(
                external_id=f"won-{index}",
                owner_id=people[who].id,
                amount=amount,
                stage="Closed Won",
                outcome=Outcome.WON,
                created_at=quarter.start - timedelta(days=30),
                closed_at=quarter.start + timedelta(days=40),
            )
        )
    session.commit()
    return ScorecardOrg(
        ids={first: rep.id for first, rep in people.items()},
        team_ids={"East": east.id, "West": west.id},
        names={first: rep.name for first, rep in people.items()},
    )
