"""Read views of people and teams for the slash commands: who someone is, which team."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from salesops_core.db.models import Rep, Team


@dataclass(frozen=True)
class RepProfile:
    """Where a rep sits in the org."""

    team: str | None
    region: str | None
    manager: str | None  # the manager's name


def rep_profile(session: Session, rep_id: int) -> RepProfile:
    """The rep's team, its region and the rep's manager: one query."""
    manager = aliased(Rep)
    row = session.execute(
        select(Team.name, Team.region, manager.name)
        .select_from(Rep)
        .outerjoin(Team, Team.id == Rep.team_id)
        .outerjoin(manager, manager.id == Rep.manager_id)
        .where(Rep.id == rep_id)
    ).one()
    return RepProfile(*row)
