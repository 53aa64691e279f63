"""A small org for the nudge job tests: two managers in two time zones, one rep each, and one
quiet deal per rep, so `stale_deal` finds exactly one nudge per rep.

Team East (America/New York): manager Mia (Slack M1), rep Jane (U1), "Acme renewal" $48,000.
Team Berlin (Europe/Berlin): manager Max (M2), rep Kai (U2), "Globex expansion" $30,000.
Both deals were created `QUIET_DAYS` before the moment given and have no activity.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from bot.deps import Deps
from bot.settings import Settings
from salesops_core.config import NudgeConfig, NudgeRule
from salesops_core.db.models import Deal, Outbox, Rep, Role, Team
from salesops_core.nudges.people import Person
from salesops_core.outbox import NoticeKind

QUIET_DAYS = 40
STALE_ONLY = NudgeConfig(rules=[NudgeRule.STALE_DEAL])
# A person for the tests without a database: a rep in New York, Monday to Friday, quiet
# 18:00-09:00, every rule on (`dataclasses.replace` for others).
NY_REP = Person(
    rep_id=1,
    name="Ann Archer",
    role=Role.REP,
    slack_user_id="U1",
    manager_id=None,
    team_id=None,
    timezone="America/New_York",
    workdays=frozenset({1, 2, 3, 4, 5}),
    holiday_country=None,
    quiet_start=time(18),
    quiet_end=time(9),
    rules_off=frozenset(),
)


@dataclass(frozen=True)
class NudgeOrg:
    """The ids of the people in the org."""

    mia: int
    max: int
    jane: int
    kai: int


def make_nudge_org(
    session: Session,
    at: datetime,
    *,
    east: str = "America/New_York",
    berlin: str = "Europe/Berlin",
    **rep_fields: Any,
) -> NudgeOrg:
    """The org above, its deals quiet since `QUIET_DAYS` before `at`; `rep_fields` go to
    every person (e.g. `workdays="1234567"`)."""
    east_team, berlin_team = Team(name="East"), Team(name="Berlin")
    session.add_all([east_team, berlin_team])
    session.flush()

    def person(name: str, slack: str, tz: str, team: Team, **fields: Any) -> Rep:
        rep = Rep(
            name=name,
            email=f"{name.split()[0].lower()}@x.test",
            slack_user_id=slack,
            timezone=tz,
            team_id=team.id,
            **fields,
            **rep_fields,
        )
        session.add(rep)
        session.flush()
        return rep

    mia = person("Mia Manager", "M1", east, east_team, role=Role.MANAGER)
    max_ = person("Max Manager", "M2", berlin, berlin_team, role=Role.MANAGER)
    jane = person("Jane Doe", "U1", east, east_team, manager_id=mia.id)
    kai = person("Kai Kern", "U2", berlin, berlin_team, manager_id=max_.id)
    created = at - timedelta(days=QUIET_DAYS)
    session.add_all(
        Deal(external_id=external_id, name=name, owner_id=owner.id, amount=amount,
             stage="Proposal", created_at=created)
        for external_id, name, owner, amount in (
            ("OPP-1", "Acme renewal", jane, 48_000), ("OPP-2", "Globex expansion", kai, 30_000)
        )
    )  # fmt: skip
    session.flush()
    return NudgeOrg(mia.id, max_.id, jane.id, kai.id)


def nudge_deps(
    engine: Engine, sessions: sessionmaker[Session], nudges: NudgeConfig = STALE_ONLY
) -> Deps:
    """The process's dependencies on the test database, with these `[nudges]` settings."""
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False))
    return Deps(
        settings=settings.model_copy(update={"nudges": nudges}), engine=engine, sessions=sessions
    )


def outbox_rows(session: Session, kind: NoticeKind) -> list[Outbox]:
    """The outbox rows of one kind, oldest first."""
    return list(session.scalars(select(Outbox).where(Outbox.kind == kind).order_by(Outbox.id)))
