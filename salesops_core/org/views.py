"""Read views of people and teams for the slash commands: who someone is, which team, how a
rep who left is named."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from salesops_core.db.models import Rep, Role, Team


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


def rep_label(name: str, active: bool) -> str:
    """A rep's name as every list shows it: "Mia Chen (left)" once they have left (inactive)."""
    return name if active else f"{name} (left)"


def team_managers(session: Session, team_ids: Collection[int]) -> dict[int, Rep]:
    """Each team's manager: an active rep with role manager on the team; with several, the one
    most of the team's reps report to (then the longest-standing). Teams without one are left
    out. Two queries for any number of teams."""
    managers = session.scalars(
        select(Rep)
        .where(Rep.role == Role.MANAGER, Rep.active.is_(True), Rep.team_id.in_(team_ids))
        .order_by(Rep.id)
    ).all()
    reports = {
        (team_id, manager_id): count
        for team_id, manager_id, count in session.execute(
            select(Rep.team_id, Rep.manager_id, func.count())
            .where(Rep.team_id.in_(team_ids), Rep.manager_id.is_not(None))
            .group_by(Rep.team_id, Rep.manager_id)
        )
    }
    chosen: dict[int, Rep] = {}
    for manager in managers:  # oldest first: a tie keeps the earlier one
        assert manager.team_id is not None
        current = chosen.get(manager.team_id)
        count = reports.get((manager.team_id, manager.id), 0)
        if current is None or count > reports.get((manager.team_id, current.id), 0):
            chosen[manager.team_id] = manager
    return chosen
