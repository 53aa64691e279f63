"""A small hand-built sales org for the slash-command tests (numbers worked out by hand).

Now is Monday 2026-11-16 12:00 UTC, org time zone UTC: this-quarter is 2026-Q4
(2026-10-01 .. 2027-01-01, 92 days), 46.5 days elapsed (50.5 %).

Team West (region Americas): manager Mia, reps Jane (Slack U0JANE) and Bob.
Team East (region EMEA): rep Eve. Admin Ada has no team.

Jane, Q4: quota 100,000; won 40,000 (created 30 days before close); one lost; open: 50,000 in
Proposal (stage probability 0.5, closes 2026-12-15, touched on 2026-11-10) and 10,000 in
Prospecting (0.1, untouched since 2026-08-01: stale). Leads: answered in 3 min (met), in 20 min
(late), and Acme unanswered since 09:00 (overdue). Activities: a 60-min prospect meeting, a
30-min call, 30 min of admin. Forecasts: Q4 commit 90,000 (before the quarter) then 80,000
(2026-11-01). Q3: quota 100,000, won 20,000, forecast 25,000 (before Q3).
Bob, Q4: quota 100,000, won 120,000. Eve, Q4: quota 50,000, won 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from commands.base import run_command
from commands.kit.reply import CommandContext
from commands.kit.text import reply_as_text
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
from salesops_core.org.access import Viewer, viewer_for_rep

NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
Q4 = (datetime(2026, 10, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
Q3 = (datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))


def t(month: int, day: int, hour: int = 12, minute: int = 0, year: int = 2026) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


@dataclass
class Org:
    """The viewers of the test org."""

    admin: Viewer
    manager: Viewer
    jane: Viewer
    bob: Viewer
    eve: Viewer


def context(charts: bool = False) -> CommandContext:
    """A command context pinned to NOW, UTC org, one 5-minute SLA policy."""
    return CommandContext(org=OrgConfig(), sla=(SlaPolicy(),), now=NOW, charts=charts)


def text_of(session: Session, viewer: Viewer, line: str) -> str:
    """The reply to a slash-command line (`/team West`) as text, in `context()`."""
    command, _, text = line.partition(" ")
    return reply_as_text(run_command(session, viewer, command, text, context()))


def _deal(n: int, owner: Rep, amount: float, stage: str, outcome: Outcome, **kw: object) -> Deal:
    return Deal(external_id=f"D{n}", owner=owner, amount=amount, stage=stage, outcome=outcome, **kw)


def build_org(session: Session) -> Org:
    """Insert the org described in the module docstring and commit it."""
    west = Team(name="West", region="Americas")
    east = Team(name="East", region="EMEA")
    admin = Rep(name="Ada Admin", email="ada@example.com", role=Role.ADMIN)
    mia = Rep(name="Mia Manager", email="mia@example.com", role=Role.MANAGER, team=west)
    jane = Rep(name="Jane Doe", email="jane@example.com", team=west, slack_user_id="U0JANE")
    bob = Rep(name="Bob Stone", email="bob@example.com", team=west)
    eve = Rep(name="Eve Park", email="eve@example.com", team=east)
    session.add_all([west, east, admin, mia, jane, bob, eve])
    session.flush()
    jane.manager_id = bob.manager_id = mia.id
    session.add_all(
        [
            Stage(name="Prospecting", sort_order=1, probability=0.1),
            Stage(name="Proposal", sort_order=2, probability=0.5),
            Stage(name="Closed Won", sort_order=3, probability=1.0, outcome=Outcome.WON),
            Stage(name="Closed Lost", sort_order=4, probability=0.0, outcome=Outcome.LOST),
        ]
    )
    for rep, amount in ((jane, 100_000), (bob, 100_000), (eve, 50_000)):
        session.add(Quota(rep_id=rep.id, period_start=Q4[0], period_end=Q4[1], amount=amount))
    session.add(Quota(rep_id=jane.id, period_start=Q3[0], period_end=Q3[1], amount=100_000))
    won, lost, open_ = Outcome.WON, Outcome.LOST, Outcome.OPEN
    proposal = _deal(
        3, jane, 50_000, "Proposal", open_, created_at=t(10, 1), expected_close=t(12, 15)
    )
    session.add_all(
        [
            _deal(1, jane, 40_000, "Closed Won", won, created_at=t(9, 20), closed_at=t(10, 20)),
            _deal(2, jane, 5_000, "Closed Lost", lost, created_at=t(9, 1), closed_at=t(11, 1)),
            proposal,
            _deal(4, jane, 10_000, "Prospecting", open_, created_at=t(8, 1)),
            _deal(5, jane, 20_000, "Closed Won", won, created_at=t(7, 1), closed_at=t(8, 10)),
            _deal(6, bob, 120_000, "Closed Won", won, created_at=t(9, 1), closed_at=t(11, 1)),
            _deal(7, eve, 10_000, "Closed Won", won, created_at=t(9, 1), closed_at=t(11, 2)),
        ]
    )
    session.flush()
    five = timedelta(minutes=5)
    session.add_all(
        [
            Lead(external_id="L1", owner_id=jane.id, source="web", company="Fast Co",
                 created_at=t(11, 2, 10), first_response_at=t(11, 2, 10, 3),
                 sla_due_at=t(11, 2, 10) + five),
            Lead(external_id="L2", owner_id=jane.id, source="web", company="Slow Co",
                 created_at=t(11, 3, 10), first_response_at=t(11, 3, 10, 20),
                 sla_due_at=t(11, 3, 10) + five),
            Lead(external_id="L3", owner_id=jane.id, source="web", company="Acme",
                 created_at=t(11, 16, 9), sla_due_at=t(11, 16, 9) + five),
        ]
    )  # fmt: skip
    session.add_all(
        [
            Activity(external_id="A1", rep_id=jane.id, type=ActivityType.MEETING,
                     started_at=t(11, 10), minutes=60, deal_id=proposal.id,
                     external_attendee=True),
            Activity(external_id="A2", rep_id=jane.id, type=ActivityType.CALL,
                     started_at=t(11, 11), minutes=30),
            Activity(external_id="A3", rep_id=jane.id, type=ActivityType.ADMIN,
                     started_at=t(11, 12), minutes=30),
        ]
    )  # fmt: skip
    for amount, submitted, period in (
        (90_000, t(9, 25), Q4),
        (80_000, t(11, 1), Q4),
        (25_000, t(6, 20), Q3),
    ):
        session.add(
            Forecast(rep_id=jane.id, period_start=period[0], period_end=period[1],
                     amount=amount, category="commit", submitted_at=submitted)
        )  # fmt: skip
    session.commit()
    return Org(*(viewer_for_rep(r) for r in (admin, mia, jane, bob, eve)))
