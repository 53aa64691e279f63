"""A tiny org whose weekly digest is worked out by hand (tests/db/test_digest_content.py).

Org time zone UTC. Now is Monday 2026-11-23 09:00: last-week is 2026-W47 = [11-16, 11-23),
the week before 2026-W46 = [11-09, 11-16), quarter to date 2026-Q4 = [10-01, 2027-01-01) with
53.375 of its 92 days elapsed (0.580163...). One SLA policy: 10 wall-clock minutes.
Stage map: Prospect (1, 20%), Won (2, won), Lost (3, lost).

Team "NA East" (region NA): manager Freya (Europe/Paris, no quota), reps Ann and Bob (who
report to her). Q4 quotas: Ann 100,000, Bob 50,000. Team "West": Cat, no manager.

Deals: A1 Ann won 30,000 on 11-18 (W47); A2 Ann won 10,000 on 11-10 (W46); B1 Bob lost 5,000
on 11-17 (W47); B2 Bob won 40,000 on 10-20 (W43); open: A3 Ann 20,000 created 09-01, never
touched (stale); B3 Bob 8,000 created 11-01, a call on 11-20, closes 12-15; A4 Ann, no
amount, created 10-01, expected close 11-01 (past close: stale). C1 Cat won 7,000 on 11-19.
Leads (W47): L1 Ann answered in 4 min (met), L2 Ann in 30 min (late), L3 Bob unanswered
(late by now), L4 Bob in 8 min (met). Activities (W47): Ann a 60-min prospect meeting, Bob a
30-min call on B3 and 30 min of admin. Forecast: Ann commits 60,000 for Q4 on 10-05 (and
70,000 on 11-30, after now: not counted).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from bot.cli.main import app
from salesops_core.config import OrgConfig, SlaPolicy
from salesops_core.db.models import (
    Activity,
    ActivityType,
    Deal,
    Forecast,
    Lead,
    Outcome,
    Quota,
    Rep,
    Role,
    Stage,
    Team,
)
from salesops_core.leads.deadlines import fill_sla_deadlines

DEAL_URL = "https://acme.lightning.force.com/lightning/r/Opportunity/{external_id}/view"
ORG = OrgConfig(timezone="UTC", stale_deal_days=14, deal_url=DEAL_URL)
SLA = [SlaPolicy(source="*", first_response_minutes=10, business_hours=False)]
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
Q4 = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))


# ORG and SLA as the CLI reads them from salesops.toml
CLI_CONFIG = (
    f'[org]\ntimezone = "UTC"\ndeal_url = "{DEAL_URL}"\n\n'
    '[[sla]]\nsource = "*"\nfirst_response_minutes = 10\nbusiness_hours = false\n'
)


def digest_cli(
    database_url: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[..., tuple[int, str, str]]:
    """`salesops ...` run in `workdir` (its salesops.toml: `CLI_CONFIG`) against the database;
    each call gives (exit code, stdout, error)."""
    monkeypatch.chdir(workdir)
    (workdir / "salesops.toml").write_text(CLI_CONFIG)
    monkeypatch.delenv("SALESOPS_CONFIG", raising=False)
    env = {"DATABASE_URL": database_url, "SALESOPS_TIMEZONE": "UTC"}

    def run(*args: str) -> tuple[int, str, str]:
        result = CliRunner().invoke(app, list(args), env=env)
        error = str(result.exception) if result.exception else result.stderr
        return result.exit_code, result.stdout, error

    return run


def t(month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


def build_digest_org(session: Session) -> dict[str, int]:
    """Insert the org of the module docstring, commit; ids by name."""
    east, west = Team(name="NA East", region="NA"), Team(name="West", region="EU")
    freya = Rep(
        name="Freya Moreau", email="freya@example.com", role=Role.MANAGER, team=east,
        timezone="Europe/Paris",
    )  # fmt: skip
    ann = Rep(name="Ann Archer", email="ann@example.com", team=east, slack_user_id="U0ANN")
    bob = Rep(name="Bob Baker", email="bob@example.com", team=east)
    cat = Rep(name="Cat Cole", email="cat@example.com", team=west)
    session.add_all([east, west, freya, ann, bob, cat])
    session.flush()
    ann.manager_id = bob.manager_id = freya.id
    session.add_all(
        [
            Stage(name="Prospect", sort_order=1, probability=0.2),
            Stage(name="Won", sort_order=2, probability=1.0, outcome=Outcome.WON),
            Stage(name="Lost", sort_order=3, probability=0.0, outcome=Outcome.LOST),
            Quota(rep_id=ann.id, period_start=Q4[0], period_end=Q4[1], amount=100_000),
            Quota(rep_id=bob.id, period_start=Q4[0], period_end=Q4[1], amount=50_000),
        ]
    )
    won, lost, open_ = Outcome.WON, Outcome.LOST, Outcome.OPEN
    deals = {
        "A1": Deal(external_id="A1", owner=ann, amount=30_000, stage="Won", outcome=won,
                   created_at=t(10, 1), closed_at=t(11, 18)),
        "A2": Deal(external_id="A2", owner=ann, amount=10_000, stage="Won", outcome=won,
                   created_at=t(10, 1), closed_at=t(11, 10)),
        "B1": Deal(external_id="B1", owner=bob, amount=5_000, stage="Lost", outcome=lost,
                   created_at=t(10, 5), closed_at=t(11, 17)),
        "B2": Deal(external_id="B2", owner=bob, amount=40_000, stage="Won", outcome=won,
                   created_at=t(10, 2), closed_at=t(10, 20)),
        "A3": Deal(external_id="A3", name="Globex renewal", account="Globex", owner=ann,
                   amount=20_000, stage="Prospect", outcome=open_, created_at=t(9, 1)),
        "B3": Deal(external_id="B3", owner=bob, amount=8_000, stage="Prospect", outcome=open_,
                   created_at=t(11, 1), expected_close=t(12, 15)),
        "A4": Deal(external_id="A4", owner=ann, amount=None, stage="Prospect", outcome=open_,
                   created_at=t(10, 1), expected_close=t(11, 1)),
        "C1": Deal(external_id="C1", owner=cat, amount=7_000, stage="Won", outcome=won,
                   created_at=t(11, 1), closed_at=t(11, 19)),
    }  # fmt: skip
    session.add_all(deals.values())
    session.flush()
    for ext, owner, created, answered in (
        ("L1", ann, t(11, 16, 10), t(11, 16, 10, 4)),
        ("L2", ann, t(11, 17, 10), t(11, 17, 10, 30)),
        ("L3", bob, t(11, 18, 10), None),
        ("L4", bob, t(11, 19, 10), t(11, 19, 10, 8)),
    ):
        session.add(
            Lead(external_id=ext, owner_id=owner.id, source="web", created_at=created,
                 first_response_at=answered)
        )  # fmt: skip
    session.add_all(
        [
            Activity(external_id="X1", rep_id=ann.id, type=ActivityType.MEETING,
                     started_at=t(11, 17), minutes=60, external_attendee=True),
            Activity(external_id="X2", rep_id=bob.id, type=ActivityType.CALL,
                     started_at=t(11, 20), minutes=30, deal_id=deals["B3"].id),
            Activity(external_id="X3", rep_id=bob.id, type=ActivityType.ADMIN,
                     started_at=t(11, 20), minutes=30),
            Forecast(rep_id=ann.id, period_start=Q4[0], period_end=Q4[1], amount=60_000,
                     category="commit", submitted_at=t(10, 5)),
            Forecast(rep_id=ann.id, period_start=Q4[0], period_end=Q4[1], amount=70_000,
                     category="commit", submitted_at=t(11, 30)),
        ]
    )  # fmt: skip
    session.flush()
    fill_sla_deadlines(session, ORG, SLA)
    session.commit()
    ids = {"east": east.id, "west": west.id}
    ids.update({rep.name.split()[0].lower(): rep.id for rep in (freya, ann, bob, cat)})
    return ids
