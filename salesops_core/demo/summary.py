"""What a database holds, in a few lines: the summary `salesops demo` prints."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from salesops_core.db.models import (
    Activity,
    Deal,
    DealStageChange,
    Forecast,
    Lead,
    Quota,
    Rep,
    Role,
    Stage,
    Team,
)

COUNTED = (Team, Rep, Stage, Quota, Forecast, Deal, DealStageChange, Lead, Activity)
TEAMS_LISTED = 6


@dataclass(frozen=True)
class Person:
    """Someone to try the bot as."""

    role: str
    name: str
    email: str | None
    slack_user_id: str | None
    team: str | None


@dataclass(frozen=True)
class TeamLine:
    """A team, its region, manager, number of reps still on it (as /team counts them) and
    the reps who left."""

    name: str
    region: str | None
    manager: str | None
    reps: int
    left: list[str] = field(default_factory=list)


@dataclass
class DemoSummary:
    """Counts per table, the time span of the history, teams and people to try."""

    database: str
    counts: dict[str, int]
    first: datetime | None
    last: datetime | None
    teams: list[TeamLine]
    team_total: int
    regions: list[str]
    people: list[Person] = field(default_factory=list)


def demo_summary(session: Session, database: str) -> DemoSummary:
    """Describe the database's contents (aggregates only; cheap at any scale)."""
    counts = {
        model.__tablename__: session.execute(select(func.count()).select_from(model)).scalar_one()
        for model in COUNTED
    }
    first = session.execute(select(func.min(Deal.created_at))).scalar_one()
    last = session.execute(select(func.max(Activity.started_at))).scalar_one()
    reps_per_team = (
        select(Rep.team_id, func.count().label("reps"))
        .where(Rep.role == Role.REP, Rep.active.is_(True))
        .group_by(Rep.team_id)
        .subquery()
    )
    manager = (
        select(Rep.team_id, func.min(Rep.name).label("manager"))
        .where(Rep.role == Role.MANAGER)
        .group_by(Rep.team_id)
        .subquery()
    )
    rows = session.execute(
        select(Team.id, Team.name, Team.region, manager.c.manager, reps_per_team.c.reps)
        .outerjoin(manager, manager.c.team_id == Team.id)
        .outerjoin(reps_per_team, reps_per_team.c.team_id == Team.id)
        .order_by(Team.id)
        .limit(TEAMS_LISTED)
    ).all()
    left: dict[int | None, list[str]] = {}
    for team_id, name in session.execute(
        select(Rep.team_id, Rep.name)
        .where(Rep.role == Role.REP, Rep.active.is_(False))
        .order_by(Rep.name)
    ):
        left.setdefault(team_id, []).append(name)
    teams = [TeamLine(r.name, r.region, r.manager, r.reps or 0, left.get(r.id, [])) for r in rows]
    regions = [
        region
        for region in session.scalars(select(Team.region).distinct().order_by(Team.region))
        if region is not None
    ]
    people = []
    for role in (Role.ADMIN, Role.MANAGER, Role.REP):
        rep = session.scalars(
            select(Rep)
            .where(Rep.role == role, Rep.active.is_(True), Rep.away.is_(False))
            .order_by(Rep.id)
            .limit(1)
        ).first()
        if rep is not None:
            team = session.get(Team, rep.team_id) if rep.team_id else None
            people.append(
                Person(
                    role.value, rep.name, rep.email, rep.slack_user_id, team.name if team else None
                )
            )
    return DemoSummary(
        database=database,
        counts=counts,
        first=first,
        last=last,
        teams=teams,
        team_total=counts["team"],
        regions=regions,
        people=people,
    )
