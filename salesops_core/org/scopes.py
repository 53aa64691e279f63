"""KPI scopes: a rep, a team (its current reps), a region (its teams' reps) or the org.

Team numbers use CURRENT membership: a rep who moved teams brings all their deals, leads and
activities (past periods included) to the new team. The data model keeps no membership history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import ColumnElement, Select, select, true
from sqlalchemy.orm import Session

from salesops_core.db.models import Rep, Team
from salesops_core.errors import UnknownTeam
from salesops_core.org.lookup import find_region, find_rep, find_team

ScopeKind = Literal["rep", "team", "region", "org"]


@dataclass(frozen=True)
class Scope:
    """Who the numbers are about. `key`: rep id, team id, region name, or None for the org."""

    kind: ScopeKind
    key: int | str | None
    name: str

    def to_json(self) -> dict[str, Any]:
        """The `scope` object of `salesops kpi --format json`."""
        return {"kind": self.kind, "key": self.key, "name": self.name}


ORG_SCOPE = Scope("org", None, "Org")


def rep_scope(rep: Rep) -> Scope:
    """The scope of one rep."""
    return Scope("rep", rep.id, rep.name)


def team_scope(team: Team) -> Scope:
    """The scope of one team (its current reps)."""
    return Scope("team", team.id, team.name)


def team_by_id(session: Session, team_id: int) -> Team:
    """The team with this id (a team the caller knows exists, e.g. a rep's or a scope's)."""
    team = session.get(Team, team_id)
    assert team is not None, f"no team with id {team_id}"
    return team


def team_scope_by_id(session: Session, team_id: int) -> Scope:
    """The scope of the team with this id (a team the caller knows exists, e.g. a rep's)."""
    return team_scope(team_by_id(session, team_id))


def region_scope(region: str) -> Scope:
    """The scope of a region (the reps of its teams)."""
    return Scope("region", region, region)


def resolve_scope(
    session: Session,
    *,
    rep: str | None = None,
    team: str | None = None,
    region: str | None = None,
) -> Scope:
    """The scope named by at most one of rep / team / region; the org when none is given."""
    given = [name for name, value in (("rep", rep), ("team", team), ("region", region)) if value]
    if len(given) > 1:
        raise UnknownTeam(f"give only one of --rep, --team, --region (got {', '.join(given)})")
    if rep:
        return rep_scope(find_rep(session, rep))
    if team:
        return team_scope(find_team(session, team))
    if region:
        return region_scope(find_region(session, region))
    return ORG_SCOPE


def scope_rep_ids(scope: Scope) -> Select[int] | None:
    """A subquery of the rep ids in the scope; None for the org (no filter)."""
    if scope.kind == "team":
        return select(Rep.id).where(Rep.team_id == scope.key)
    if scope.kind == "region":
        return select(Rep.id).join(Team, Rep.team_id == Team.id).where(Team.region == scope.key)
    return None


def in_scope(owner_column: Any, scope: Scope) -> ColumnElement[bool]:
    """A WHERE condition restricting `owner_column` (a rep id column) to the scope."""
    if scope.kind == "rep":
        return owner_column == scope.key
    ids = scope_rep_ids(scope)
    return true() if ids is None else owner_column.in_(ids)


def reps_in_scope(scope: Scope) -> Select[*tuple[Any, ...]]:
    """Rep rows in the scope with their team name (for leaderboards)."""
    query = select(
        Rep.id, Rep.name, Rep.email, Rep.active, Rep.role, Team.name.label("team")
    ).outerjoin(Team, Rep.team_id == Team.id)
    return query.where(in_scope(Rep.id, scope))
